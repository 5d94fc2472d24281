"""Denoising: the identity operator."""

from __future__ import annotations

import torch

from .base import Operator


class Identity(Operator):
    """``A(x) = x``: every pixel is measured (denoising, JPEG-artifact removal).

    Example:
        >>> import torch
        >>> Identity()(torch.ones(1, 3, 4, 5)).shape
        torch.Size([1, 3, 4, 5])

    """

    def A(self, x: torch.Tensor) -> torch.Tensor:  # noqa: N802
        return x

    def A_adjoint(self, y: torch.Tensor) -> torch.Tensor:  # noqa: N802
        return y

    def __repr__(self) -> str:
        return "Identity()"
