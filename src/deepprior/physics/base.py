"""The forward-operator interface shared by every task: ``y = A(x)`` on BCHW tensors in [0, 1]."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
from torch import nn


@runtime_checkable
class ForwardOperator(Protocol):
    """What the fit, the padding and the tiling need of a forward operator ``A``.

    Attributes:
        factor: output size / measurement size (the super-resolution factor; 1 for operators that keep
            the size).
        linear: whether ``A`` is linear (then it has an adjoint).

    """

    factor: int
    linear: bool

    def A(self, x: torch.Tensor) -> torch.Tensor: ...  # noqa: N802 - the operator's usual name

    def measured(self, y: torch.Tensor) -> torch.Tensor | None: ...

    def padded(self, bottom: int, right: int) -> ForwardOperator: ...

    def cropped(self, top: int, left: int, bottom: int, right: int) -> ForwardOperator: ...

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]: ...


class Operator(nn.Module):
    """A differentiable forward operator ``A`` from the image to the measurement.

    A task is only an operator and a measurement mask: the fitting loop minimises
    ``|| M * (A(f(z)) - y) ||^2`` over the network's weights, where ``M`` is :meth:`measured`.
    Linear operators get :meth:`A_adjoint` for free from automatic differentiation.
    """

    linear: bool = True
    factor: int = 1

    def A(self, x: torch.Tensor) -> torch.Tensor:  # noqa: N802 - the operator's usual name
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.A(x)

    def measured(self, y: torch.Tensor) -> torch.Tensor | None:
        """Weights (0/1) of the measured entries of ``y``, or None when every entry is measured."""
        return None

    def padded(self, bottom: int, right: int) -> Operator:
        """The operator for an image padded by ``bottom`` rows and ``right`` columns (unmeasured)."""
        return self

    def cropped(self, top: int, left: int, bottom: int, right: int) -> Operator:
        """The operator for a tile of the measurement (rows ``top:bottom``, columns ``left:right``)."""
        return self

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """Shape of ``A(x)`` for an ``x`` of the given BCHW shape."""
        return shape

    def A_adjoint(self, y: torch.Tensor) -> torch.Tensor:  # noqa: N802
        """The adjoint ``A^T y``, by differentiating ``<A(x), y>`` in ``x`` (exact for linear ``A``)."""
        if not self.linear:
            raise TypeError(f"{type(self).__name__} is not linear: it has no adjoint")
        raise NotImplementedError("A_adjoint needs the input shape: use adjoint(y, input_shape)")

    def adjoint(self, y: torch.Tensor, input_shape: tuple[int, ...]) -> torch.Tensor:
        """``A^T y`` for an input of ``input_shape``."""
        if not self.linear:
            raise TypeError(f"{type(self).__name__} is not linear: it has no adjoint")
        x = torch.zeros(input_shape, dtype=y.dtype, device=y.device, requires_grad=True)
        with torch.enable_grad():
            (grad,) = torch.autograd.grad((self.A(x) * y).sum(), x)
        return grad
