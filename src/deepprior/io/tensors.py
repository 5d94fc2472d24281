"""Images as PyTorch tensors (``1 x C x H x W``) and back."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import torch


def to_tensor(pixels: np.ndarray) -> torch.Tensor:
    """``H x W x C`` array to a ``1 x C x H x W`` float32 tensor."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1)))[None].float()


def from_tensor(tensor: torch.Tensor) -> np.ndarray:
    """``1 x C x H x W`` tensor to an ``H x W x C`` float32 array."""
    return tensor.detach().float().cpu()[0].permute(1, 2, 0).contiguous().numpy()


__all__ = ["from_tensor", "to_tensor"]
