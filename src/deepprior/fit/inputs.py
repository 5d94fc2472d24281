"""Network inputs ``z``: uniform noise (the paper's) or a coordinate meshgrid."""

from __future__ import annotations

import torch


def make_input(
    kind: str,
    depth: int,
    height: int,
    width: int,
    *,
    scale: float = 0.1,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The fixed input ``z`` of a fit, ``1 x depth x H x W``.

    Args:
        kind: ``noise``: uniform on [0, ``scale``); ``meshgrid``: 2 channels, x and y in [0, 1].
        depth: channels (2 for a meshgrid).
        height: rows.
        width: columns.
        scale: scale of the uniform noise.
        generator: random source.

    Example:
        >>> make_input("meshgrid", 2, 3, 5).shape
        torch.Size([1, 2, 3, 5])

    """
    if kind == "meshgrid":
        ys = torch.linspace(0, 1, height).view(height, 1).expand(height, width)
        xs = torch.linspace(0, 1, width).view(1, width).expand(height, width)
        return torch.stack([xs, ys])[None].contiguous()
    return torch.rand((1, depth, height, width), generator=generator) * scale
