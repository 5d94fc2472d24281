"""Inpainting and pixel restoration: a pixel mask."""

from __future__ import annotations

import torch

from ..errors import InputError
from .base import Operator


def random_mask(
    height: int, width: int, *, drop: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """A ``1 x 1 x H x W`` float mask where each pixel is missing (0) independently with probability ``drop``.

    Args:
        height: rows.
        width: columns.
        drop: probability that a pixel is missing, in [0, 1).
        generator: random source, for reproducible masks.

    Example:
        >>> m = random_mask(64, 64, drop=0.5, generator=torch.Generator().manual_seed(0))
        >>> 0.4 < float(m.mean()) < 0.6
        True

    """
    if not 0.0 <= drop < 1.0:
        raise InputError(f"drop fraction {drop} is out of range; expected 0 <= F < 1")
    u = torch.rand((1, 1, height, width), generator=generator)
    return (u >= drop).float()


class Mask(Operator):
    """``A(x) = m * x`` with ``m`` = 1 where a pixel is known and 0 where it is missing.

    All channels of a pixel share the mask. The loss only counts known pixels.

    Args:
        mask: ``1 x 1 x H x W`` (or ``H x W``) tensor of 0/1 (or booleans).

    Example:
        >>> m = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> Mask(m)(torch.ones(1, 3, 2, 2))[0, 0]
        tensor([[1., 0.],
                [0., 1.]])

    """

    mask: torch.Tensor

    def __init__(self, mask: torch.Tensor) -> None:
        super().__init__()
        m = torch.as_tensor(mask).float()
        if m.ndim == 2:
            m = m[None, None]
        if m.ndim != 4 or m.shape[:2] != (1, 1):
            raise InputError(f"mask has shape {tuple(m.shape)}; expected H x W or 1 x 1 x H x W")
        if float(m.sum()) == 0:
            raise InputError("the mask marks no pixel as known: nothing to fit")
        self.register_buffer("mask", m)

    def A(self, x: torch.Tensor) -> torch.Tensor:  # noqa: N802
        if x.shape[-2:] != self.mask.shape[-2:]:
            h, w = self.mask.shape[-2:]
            raise InputError(f"mask is {w}x{h} but the image is {x.shape[-1]}x{x.shape[-2]}")
        return x * self.mask.to(x.dtype)

    def A_adjoint(self, y: torch.Tensor) -> torch.Tensor:  # noqa: N802
        return self.A(y)

    def measured(self, y: torch.Tensor) -> torch.Tensor | None:
        return self.mask.to(device=y.device, dtype=y.dtype).expand_as(y)

    def padded(self, bottom: int, right: int) -> Mask:
        if not bottom and not right:
            return self
        return Mask(torch.nn.functional.pad(self.mask, (0, right, 0, bottom)))

    def cropped(self, top: int, left: int, bottom: int, right: int) -> Mask:
        return Mask(self.mask[..., top:bottom, left:right])

    @property
    def known_fraction(self) -> float:
        return float(self.mask.mean())

    def __repr__(self) -> str:
        h, w = self.mask.shape[-2:]
        return f"Mask({w}x{h}, known={self.known_fraction:.1%})"
