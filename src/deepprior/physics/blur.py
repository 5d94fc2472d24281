"""The blur operator: ``A(x) = k * x``, a true 2-D convolution of every channel with one kernel, output the
size of the input, with a stated boundary rule (see :mod:`deepprior.physics.blur_kernels` for the kernels and
the rules) and its exact adjoint.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import ConfigError, InputError
from .base import Operator

#: The largest kernel side accepted anywhere (a Gaussian with sigma 50 is 401 x 401).
from .blur_kernels import (  # noqa: F401 - the kernels are part of this module's public face
    BLURS,
    BOUNDARIES,
    MAX_KERNEL_SIDE,
    BlurFamily,
    BlurSpec,
    box_blur_kernel,
    file_kernel,
    gaussian_kernel,
    motion_kernel,
    parse_blur,
)


def _kernel_tensor(kernel: np.ndarray | torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    k = torch.from_numpy(np.ascontiguousarray(kernel)) if isinstance(kernel, np.ndarray) else kernel
    if k.ndim != 2 or k.shape[0] % 2 == 0 or k.shape[1] % 2 == 0:
        raise ConfigError(f"blur kernel has shape {tuple(k.shape)}; expected a 2-D array with odd sides")
    return k.to(dtype=like.dtype, device=like.device)


def _check_boundary(boundary: str) -> str:
    if boundary not in BOUNDARIES:
        raise ConfigError(f"blur boundary {boundary!r} is unknown; expected one of {', '.join(BOUNDARIES)}")
    return boundary


def _boundary(boundary: str, h: int, w: int, rh: int, rw: int) -> str:
    """The rule actually used on an ``h`` x ``w`` image with kernel radii ``rh``, ``rw``."""
    if _check_boundary(boundary) == "reflect" and (h <= rh or w <= rw):
        return "replicate"  # reflection needs a pad smaller than the side
    return boundary


def _source_index(n: int, r: int, mode: str, device: torch.device) -> torch.Tensor:
    """For each of the ``n + 2 r`` positions of a padded axis, the input position it copies."""
    t = torch.arange(-r, n + r, device=device)
    if mode == "circular":
        return t.remainder(n)
    if mode == "replicate":
        return t.clamp(0, n - 1)
    t = t.abs()  # reflect (r < n): -1 -> 1, n -> n - 2
    return torch.where(t > n - 1, 2 * (n - 1) - t, t)


def _prepare(
    x: torch.Tensor, kernel: np.ndarray | torch.Tensor, boundary: str
) -> tuple[torch.Tensor, torch.Tensor, str]:
    if x.ndim != 4:
        raise InputError(f"blur input has shape {tuple(x.shape)}; expected B x C x H x W")
    k = _kernel_tensor(kernel, x)
    kh, kw = k.shape
    mode = _boundary(boundary, x.shape[-2], x.shape[-1], kh // 2, kw // 2)
    # conv2d correlates: flipping the kernel makes it a true convolution.
    return x.reshape(-1, 1, x.shape[-2], x.shape[-1]), k.flip(0, 1)[None, None], mode


def blur(x: torch.Tensor, kernel: np.ndarray | torch.Tensor, boundary: str = "reflect") -> torch.Tensor:
    """Convolve every channel of BCHW ``x`` with the same 2-D ``kernel``; the output has the shape of ``x``.

    Args:
        x: ``B x C x H x W`` images.
        kernel: a 2-D array with odd sides; its middle pixel is the centre. It is used as given (not
            normalised) and cast to the dtype and device of ``x``.
        boundary: ``reflect`` (mirror without repeating the edge; ``replicate`` when ``H`` or ``W`` is not
            larger than the kernel's radius), ``replicate``, ``circular`` or ``zero``.

    Returns:
        ``k * x``, a true convolution: a unit impulse becomes the kernel itself.

    Raises:
        ConfigError: an unknown ``boundary`` or a kernel that is not 2-D with odd sides.
        InputError: ``x`` is not 4-D.

    Example:
        >>> x = torch.full((1, 3, 8, 5), 0.25)
        >>> torch.allclose(blur(x, gaussian_kernel(2.0)), x)
        True

    """
    y, wgt, mode = _prepare(x, kernel, boundary)
    h, w = x.shape[-2:]
    rh, rw = wgt.shape[-2] // 2, wgt.shape[-1] // 2
    if mode == "zero":
        out = F.conv2d(y, wgt, padding=(rh, rw))
    else:
        y = y.index_select(2, _source_index(h, rh, mode, y.device))
        y = y.index_select(3, _source_index(w, rw, mode, y.device))
        out = F.conv2d(y, wgt)
    return out.reshape(x.shape)


def blur_adjoint(y: torch.Tensor, kernel: np.ndarray | torch.Tensor, boundary: str = "reflect") -> torch.Tensor:
    """The exact adjoint of :func:`blur` with the same kernel and boundary (same shape in and out).

    The transposed convolution (a correlation with the kernel, computed as a full-size ``conv2d``,
    which is faster than ``conv_transpose2d`` on CPU) fills the padded canvas; for ``zero`` the border
    is dropped, otherwise every border row and column is added back onto the pixel it was copied from.

    Args:
        y: ``B x C x H x W``, the shape of the blurred images.
        kernel: the kernel given to :func:`blur`.
        boundary: the boundary given to :func:`blur` (with the same fallback on small images).

    Returns:
        ``A^T y``, with ``<blur(x), y> = <x, blur_adjoint(y)>`` for every ``x``.

    """
    z, wgt, mode = _prepare(y, kernel, boundary)
    h, w = y.shape[-2:]
    rh, rw = wgt.shape[-2] // 2, wgt.shape[-1] // 2
    k = wgt.flip(-2, -1)  # the kernel itself: the transpose of a convolution is a correlation
    if mode == "zero":
        out = F.conv2d(z, k, padding=(rh, rw))
    else:
        canvas = F.conv2d(F.pad(z, (2 * rw, 2 * rw, 2 * rh, 2 * rh)), k)  # (H + 2 rh) x (W + 2 rw)
        rows = canvas.new_zeros(canvas.shape[0], 1, h, canvas.shape[-1])
        rows = rows.index_add(2, _source_index(h, rh, mode, z.device), canvas)
        out = rows.new_zeros(z.shape).index_add(3, _source_index(w, rw, mode, z.device), rows)
    return out.reshape(y.shape)


# --------------------------------------------------------------------------------------------------
# The operator
# --------------------------------------------------------------------------------------------------


class Blur(Operator):
    """``A(x) = k * x``: convolution of each channel with a fixed kernel (deblurring).

    The operator is shift-invariant and works on any image size. When an image is fitted in tiles,
    the boundary rule stands in for the neighbours a tile does not see, and in the padding added to
    reach a network-friendly size the network is free (the padded pixels are not measured): so
    :meth:`padded` and :meth:`cropped` return the operator itself.

    Args:
        kernel: a 2-D array with odd sides (at most 401), used as given (the builders of this module
            and :meth:`from_spec` give kernels that sum to 1). Stored as a float32 buffer.
        boundary: ``reflect`` (default), ``replicate``, ``circular`` or ``zero``; see :func:`blur`.
        name: a label for ``repr``, e.g. the spec ``gaussian:1.6``.

    Shape:
        ``(B, C, H, W) -> (B, C, H, W)``.

    Example:
        >>> op = Blur.from_spec("gaussian:1.6")
        >>> op
        Blur(gaussian:1.6, 15x15, reflect)
        >>> op(torch.rand(1, 3, 20, 12)).shape
        torch.Size([1, 3, 20, 12])

    """

    kernel: torch.Tensor

    def __init__(self, kernel: np.ndarray | torch.Tensor, *, boundary: str = "reflect", name: str = "") -> None:
        super().__init__()
        k = torch.as_tensor(kernel).detach().to(dtype=torch.float32, device="cpu").clone()
        if k.ndim != 2 or k.shape[0] % 2 == 0 or k.shape[1] % 2 == 0:
            raise ConfigError(f"blur kernel has shape {tuple(k.shape)}; expected a 2-D array with odd sides")
        if max(k.shape) > MAX_KERNEL_SIDE:
            h, w = k.shape
            raise ConfigError(f"blur kernel is {w}x{h}; expected sides of at most {MAX_KERNEL_SIDE}")
        if not torch.isfinite(k).all():
            raise ConfigError("blur kernel has non-finite values; expected finite weights")
        self.boundary = _check_boundary(boundary)
        self.name = name
        self.register_buffer("kernel", k)

    @classmethod
    def from_spec(cls, spec: str | BlurSpec, boundary: str = "reflect") -> Blur:
        """The operator for a CLI spec (``gaussian:1.6``, ``box:9``, ``motion:15,30``, a PNG file)."""
        s = parse_blur(spec) if isinstance(spec, str) else spec
        return cls(s.kernel(), boundary=boundary, name=s.text)

    def A(self, x: torch.Tensor) -> torch.Tensor:  # noqa: N802
        return blur(x, self.kernel, self.boundary)

    def A_adjoint(self, y: torch.Tensor) -> torch.Tensor:  # noqa: N802
        return blur_adjoint(y, self.kernel, self.boundary)

    def adjoint(self, y: torch.Tensor, input_shape: tuple[int, ...]) -> torch.Tensor:
        if tuple(y.shape) != tuple(input_shape):
            raise InputError(f"blur measurement has shape {tuple(y.shape)}; expected {tuple(input_shape)}")
        return self.A_adjoint(y)

    def padded(self, bottom: int, right: int) -> Blur:
        """The operator itself: padded pixels are unmeasured and the network is free there."""
        return self

    def cropped(self, top: int, left: int, bottom: int, right: int) -> Blur:
        """The operator itself: at a tile's border the boundary rule stands in for the unseen neighbours."""
        return self

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(shape)

    def __repr__(self) -> str:
        h, w = self.kernel.shape
        label = f"{self.name}, " if self.name else ""
        return f"Blur({label}{w}x{h}, {self.boundary})"
