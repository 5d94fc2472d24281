"""Super-resolution: downsampling by an integer factor with a fixed antialiasing kernel.

The kernels are separable and have phase 0.5 (the low-resolution pixel sits between high-resolution
pixels), as in the Deep Image Prior reference: for a factor ``f`` and a kernel of ``K`` taps, tap ``j``
sits at ``(j - (K - 1) / 2) / f`` low-resolution pixels from the centre. Lanczos-``a`` and bicubic have
``K = 2 a f`` and ``4 f`` taps; box has ``f``. Borders are padded by replication.

References:
    Ulyanov, Vedaldi and Lempitsky, "Deep Image Prior", CVPR 2018 (Lanczos-2 downsampler, factor x4/x8).
    Keys, "Cubic convolution interpolation for digital image processing", IEEE TASSP 1981 (a = -0.5).

"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import ConfigError
from .base import Operator


def _positions(factor: int, taps: int) -> np.ndarray:
    return (np.arange(taps, dtype=np.float64) - (taps - 1) / 2.0) / factor


def lanczos_kernel(factor: int, support: int = 2) -> np.ndarray:
    """1-D Lanczos-``support`` taps for downsampling by ``factor`` (sum 1).

    Example:
        >>> k = lanczos_kernel(4)
        >>> k.shape, round(float(k.sum()), 6)
        ((16,), 1.0)

    """
    t = _positions(factor, 2 * support * factor)
    w = np.sinc(t) * np.sinc(t / support)
    w[np.abs(t) >= support] = 0.0
    return w / w.sum()


def bicubic_kernel(factor: int, a: float = -0.5) -> np.ndarray:
    """1-D Keys cubic taps (``a = -0.5``) for downsampling by ``factor`` (sum 1)."""
    t = np.abs(_positions(factor, 4 * factor))
    w = np.where(
        t <= 1,
        (a + 2) * t**3 - (a + 3) * t**2 + 1,
        np.where(t < 2, a * t**3 - 5 * a * t**2 + 8 * a * t - 4 * a, 0.0),
    )
    return w / w.sum()


def box_kernel(factor: int) -> np.ndarray:
    """1-D box taps: the mean of each ``factor`` x ``factor`` block."""
    return np.full(factor, 1.0 / factor)


KERNELS: dict[str, Callable[[int], np.ndarray]] = {
    "lanczos2": lambda f: lanczos_kernel(f, 2),
    "lanczos3": lambda f: lanczos_kernel(f, 3),
    "bicubic": bicubic_kernel,
    "box": box_kernel,
}


def kernel_taps(factor: int, kernel: str) -> np.ndarray:
    """The 1-D taps of a named kernel (one of :data:`KERNELS`)."""
    if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
        raise ConfigError(f"scale factor {factor!r} is invalid; expected an integer >= 2 (2, 4 or 8)")
    if kernel not in KERNELS:
        raise ConfigError(f"unknown downsampling kernel {kernel!r}; expected one of {', '.join(KERNELS)}")
    return KERNELS[kernel](factor)


def downsample(x: torch.Tensor, factor: int, taps: torch.Tensor) -> torch.Tensor:
    """Downsample BCHW ``x`` by ``factor`` with separable 1-D ``taps`` and replicate padding.

    The output is ``H / factor`` x ``W / factor`` (sides must divide by the factor).
    """
    b, c, h, w = x.shape
    k = taps.numel()
    lo, hi = (k - factor) // 2, (k - factor) - (k - factor) // 2
    t = taps.to(dtype=x.dtype, device=x.device)
    y = x.reshape(b * c, 1, h, w)
    if lo or hi:
        y = F.pad(y, (lo, hi, lo, hi), mode="replicate")
    y = F.conv2d(y, t.view(1, 1, k, 1), stride=(factor, 1))
    y = F.conv2d(y, t.view(1, 1, 1, k), stride=(1, factor))
    return y.reshape(b, c, y.shape[-2], y.shape[-1])


class Downsample(Operator):
    """``A(x)``: antialiased downsampling by an integer factor (super-resolution).

    Args:
        factor: the scale factor (2, 4 or 8 in the CLI; any integer >= 2 here).
        kernel: ``lanczos2`` (the paper's), ``lanczos3``, ``bicubic`` or ``box``.

    Shape:
        ``(B, C, f H, f W) -> (B, C, H, W)``.

    Example:
        >>> Downsample(4)(torch.rand(1, 3, 32, 24)).shape
        torch.Size([1, 3, 8, 6])

    """

    taps: torch.Tensor

    def __init__(self, factor: int, kernel: str = "lanczos2") -> None:
        super().__init__()
        taps = kernel_taps(factor, kernel)
        if factor < 2:
            raise ConfigError(f"scale factor {factor} is invalid; expected an integer >= 2 (2, 4 or 8)")
        self.factor = factor
        self.kernel = kernel
        self.register_buffer("taps", torch.from_numpy(taps).float())

    def A(self, x: torch.Tensor) -> torch.Tensor:  # noqa: N802
        h, w = x.shape[-2:]
        if h % self.factor or w % self.factor:
            raise ConfigError(f"image sides {w}x{h} do not divide by the scale factor {self.factor}")
        return downsample(x, self.factor, self.taps)

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return (*shape[:-2], shape[-2] // self.factor, shape[-1] // self.factor)

    def __repr__(self) -> str:
        return f"Downsample(factor={self.factor}, kernel={self.kernel!r}, taps={self.taps.numel()})"
