"""Blur kernels for deblurring (the registry of ``--kernel`` / ``--blur`` specs) and their parsing.

The operator that applies them is :mod:`deepprior.physics.blur`. Deblurring: convolution with a fixed,
known blur kernel (point-spread function).

``A(x) = k * x`` is a true 2-D convolution (not a correlation) of every channel with the same kernel,
with the output the size of the input. Kernels have odd sides, their centre is the middle pixel, and
the builders here normalise them to sum 1. Borders follow one of four rules, applied to the input
before a valid convolution: ``reflect`` (mirror without repeating the edge pixel, the default),
``replicate`` (repeat the edge pixel), ``circular`` (wrap around) or ``zero``. Reflection needs the
image to be larger than the kernel's radius; on smaller images ``reflect`` falls back to ``replicate``.
The adjoint is the exact transpose of the same linear map: the transposed convolution onto the padded
canvas, whose border is then folded back onto the pixels it was copied from.

The kernels of the registry (:data:`BLURS`), as written on the command line:

* ``gaussian:SIGMA``: an isotropic Gaussian truncated at 4 sigma (``0 < SIGMA <= 50``);
* ``box:N``: the mean over an ``N`` x ``N`` square (``N`` an integer, ``1 <= N <= 201``);
* ``motion:LENGTH,ANGLE``: uniform linear motion over ``LENGTH`` pixels (``0 < LENGTH <= 201``) at
  ``ANGLE`` degrees (0 is horizontal, counter-clockwise positive);
* a path to an image file (greyscale PNG, say) holding the kernel itself.

References:
    Mataev, Elad and Milanfar, "DeepRED: Deep Image Prior Powered by RED", ICCV Workshops 2019
    (deblurring with Deep Image Prior; Gaussian sigma = 1.6 and 9 x 9 uniform kernels).
    Dong, Zhang, Shi and Li, "Nonlocally Centralized Sparse Representation for Image Restoration",
    IEEE TIP 2013 (the same two deblurring kernels).
    Gonzalez and Woods, "Digital Image Processing", 4th ed., Pearson 2018, section 5.11 (uniform linear
    motion blur).

"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError, InputError

#: The largest kernel side accepted anywhere (a Gaussian with sigma 50 is 401 x 401).
MAX_KERNEL_SIDE = 401

#: The boundary rules :func:`blur` understands.
BOUNDARIES = ("reflect", "replicate", "circular", "zero")

_EXPECTED = "expected gaussian:SIGMA, box:N, motion:LENGTH,ANGLE or a PNG file"


# --------------------------------------------------------------------------------------------------
# Parameters and their ranges
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Param:
    """One numeric parameter of a blur family and its allowed range (``low`` excluded unless integer)."""

    name: str
    low: float = -math.inf
    high: float = math.inf
    integer: bool = False

    @property
    def rule(self) -> str:
        if self.integer:
            return f"an integer {self.name} with {self.low:g} <= {self.name} <= {self.high:g}"
        if math.isinf(self.low) and math.isinf(self.high):
            return f"a finite {self.name}"
        return f"a finite {self.name} with {self.low:g} < {self.name} <= {self.high:g}"

    def valid(self, value: float) -> bool:
        if not math.isfinite(value) or value > self.high:
            return False
        if self.integer:
            return float(value).is_integer() and value >= self.low
        return value > self.low


def _check(family: str, param: _Param, value: float) -> float:
    """``value`` as a float, or a :class:`ConfigError` naming it and the allowed range."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigError(f"{family} blur {param.name} {value!r} is invalid; expected {param.rule}")
    v = float(value)
    if not param.valid(v):
        raise ConfigError(f"{family} blur {param.name} {value!r} is out of range; expected {param.rule}")
    return v


_SIGMA = _Param("SIGMA", 0.0, 50.0)
_BOX_N = _Param("N", 1.0, 201.0, integer=True)
_LENGTH = _Param("LENGTH", 0.0, 201.0)
_ANGLE = _Param("ANGLE")


# --------------------------------------------------------------------------------------------------
# Kernel builders (pure functions)
# --------------------------------------------------------------------------------------------------


def gaussian_kernel(sigma: float) -> np.ndarray:
    """An isotropic Gaussian of standard deviation ``sigma`` pixels, truncated at 4 sigma (sum 1).

    The radius is ``ceil(4 sigma)`` pixels, at least 1, so the side is ``2 ceil(4 sigma) + 1``.

    Args:
        sigma: standard deviation in pixels, ``0 < sigma <= 50``.

    Returns:
        A float64 square array of odd side.

    Raises:
        ConfigError: ``sigma`` is not finite or out of range.

    Example:
        >>> k = gaussian_kernel(1.6)
        >>> k.shape, round(float(k.sum()), 6)
        ((15, 15), 1.0)

    """
    s = _check("gaussian", _SIGMA, sigma)
    radius = max(1, math.ceil(4.0 * s))
    t = np.arange(-radius, radius + 1, dtype=np.float64)
    g = np.exp(-0.5 * (t / s) ** 2)
    k = np.outer(g, g)
    return k / k.sum()


def box_blur_kernel(n: int) -> np.ndarray:
    """The mean over an ``n`` x ``n`` square (sum 1).

    An odd ``n`` gives an ``n`` x ``n`` array of ``1 / n^2``. An even ``n`` has no middle pixel, so the
    box is kept centred by averaging the two ``n``-wide boxes that sit half a pixel either side of
    the centre: the array is ``(n + 1)`` x ``(n + 1)``, with half weights on the edge rows and columns
    (quarter weights in the corners).

    Args:
        n: the side of the box in pixels, an integer ``1 <= n <= 201``.

    Returns:
        A float64 square array of odd side.

    Raises:
        ConfigError: ``n`` is not an integer in range.

    Example:
        >>> box_blur_kernel(2)
        array([[0.0625, 0.125 , 0.0625],
               [0.125 , 0.25  , 0.125 ],
               [0.0625, 0.125 , 0.0625]])

    """
    m = int(_check("box", _BOX_N, n))
    if m % 2:
        taps = np.full(m, 1.0 / m)
    else:
        taps = np.full(m + 1, 1.0 / m)
        taps[0] = taps[-1] = 0.5 / m
    return np.outer(taps, taps)


def motion_kernel(length: float, angle_degrees: float = 0.0) -> np.ndarray:
    """Uniform linear motion: a line segment of ``length`` pixels through the centre (sum 1).

    The segment is anti-aliased: it is sampled at 8 points per pixel of length (both ends included)
    and each sample is spread over its four nearest pixels with bilinear weights. The array is square,
    of side ``2 max(1, ceil(length / 2)) + 1``, and symmetric about its centre.

    Args:
        length: length of the segment in pixels, ``0 < length <= 201``.
        angle_degrees: direction of the segment: 0 is horizontal and positive angles turn
            counter-clockwise as the image is displayed (rows go down), so 90 is vertical.

    Returns:
        A float64 square array of odd side.

    Raises:
        ConfigError: ``length`` or ``angle_degrees`` is not finite, or ``length`` is out of range.

    Example:
        >>> k = motion_kernel(5, 0)
        >>> k.shape, bool((k[3] > 0).any()), bool((k[:3] == 0).all())
        ((7, 7), True, True)

    """
    length = _check("motion", _LENGTH, length)
    angle = _check("motion", _ANGLE, angle_degrees)
    radius = max(1, math.ceil(length / 2.0))
    side = 2 * radius + 1
    theta = math.radians(angle)
    dx, dy = math.cos(theta), -math.sin(theta)  # columns go right, rows go down
    # cos(90 deg) is 6e-17, not 0: snap so that axis-aligned segments stay on one row or column.
    dx = 0.0 if abs(dx) < 1e-12 else dx
    dy = 0.0 if abs(dy) < 1e-12 else dy
    t = np.linspace(-length / 2.0, length / 2.0, max(2, math.ceil(8.0 * length)) + 1)
    px = np.clip(radius + t * dx, 0.0, 2.0 * radius)
    py = np.clip(radius + t * dy, 0.0, 2.0 * radius)
    x0, y0 = np.floor(px).astype(np.intp), np.floor(py).astype(np.intp)
    fx, fy = px - x0, py - y0
    k = np.zeros((side + 1, side + 1))  # one spare row and column for the zero-weight far neighbours
    np.add.at(k, (y0, x0), (1 - fy) * (1 - fx))
    np.add.at(k, (y0, x0 + 1), (1 - fy) * fx)
    np.add.at(k, (y0 + 1, x0), fy * (1 - fx))
    np.add.at(k, (y0 + 1, x0 + 1), fy * fx)
    k = k[:side, :side]
    return k / k.sum()


def _luminance(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
            if img.mode in ("I", "F") or img.mode.startswith("I;16"):
                return np.asarray(img).astype(np.float64)
            if img.mode in ("1", "L", "LA", "La"):
                return np.asarray(img.convert("L")).astype(np.float64)
            rgb = np.asarray(img.convert("RGB")).astype(np.float64)
    except (OSError, UnidentifiedImageError, ValueError) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InputError(f"blur kernel file '{path}' cannot be read ({reason}); expected a greyscale PNG") from e
    return rgb @ np.array([0.299, 0.587, 0.114])  # ITU-R BT.601 luma, as Pillow's "L"


def file_kernel(path: str | Path) -> np.ndarray:
    """A kernel read from an image file, normalised to sum 1.

    Any image Pillow reads will do; a greyscale PNG is the usual choice (16-bit keeps more precision).
    Colour is converted to luminance (ITU-R BT.601 weights) and an alpha channel is ignored. Pixel
    ``(i, j)`` is the weight at offset ``(i - (H - 1) / 2, j - (W - 1) / 2)`` from the centre, rows
    going down: the image is the point-spread function as it would look on screen.

    Args:
        path: the image file.

    Returns:
        A float64 array of odd sides (not necessarily square).

    Raises:
        InputError: the file cannot be read, has even sides or a side over 401, has negative or
            non-finite values, or sums to 0 (all black).

    """
    p = Path(path)
    k = _luminance(p)
    h, w = k.shape
    if h % 2 == 0 or w % 2 == 0:
        raise InputError(f"blur kernel file '{p}' is {w}x{h}; expected odd sides so that the centre is a pixel")
    if max(h, w) > MAX_KERNEL_SIDE:
        raise InputError(f"blur kernel file '{p}' is {w}x{h}; expected sides of at most {MAX_KERNEL_SIDE}")
    if not np.isfinite(k).all():
        raise InputError(f"blur kernel file '{p}' has non-finite values; expected finite weights >= 0")
    if (k < 0).any():
        raise InputError(f"blur kernel file '{p}' has negative values (min {k.min():g}); expected weights >= 0")
    total = float(k.sum())
    if total <= 0:
        raise InputError(f"blur kernel file '{p}' is all zero (black); expected a kernel with a positive sum")
    return k / total


# --------------------------------------------------------------------------------------------------
# Registry and the CLI syntax
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlurFamily:
    """A registered kind of blur: its parameters (names and ranges) and its kernel builder."""

    name: str
    params: tuple[_Param, ...]
    build: Callable[..., np.ndarray]

    @property
    def syntax(self) -> str:
        """How the family is written on the command line, e.g. ``motion:LENGTH,ANGLE``."""
        return f"{self.name}:{','.join(p.name for p in self.params)}"

    def parse(self, spec: str, args: str) -> tuple[float, ...]:
        """The parameters in ``args`` (the text after the colon of ``spec``), checked against their ranges."""
        parts = [a.strip() for a in args.split(",")] if args.strip() else []
        if len(parts) != len(self.params):
            raise ConfigError(f"blur {spec!r} is invalid: {len(parts)} parameter(s) given; expected {self.syntax}")
        values = []
        for param, text in zip(self.params, parts, strict=True):
            try:
                v = float(text)
            except ValueError:
                raise ConfigError(
                    f"blur {spec!r} is invalid: {param.name} {text!r} is not a number; expected {self.syntax}"
                ) from None
            if not param.valid(v):
                raise ConfigError(
                    f"blur {spec!r} is invalid: {param.name} {text} is out of range; expected {param.rule}"
                )
            values.append(v)
        return tuple(values)


BLURS: dict[str, BlurFamily] = {
    "gaussian": BlurFamily("gaussian", (_SIGMA,), gaussian_kernel),
    "box": BlurFamily("box", (_BOX_N,), lambda n: box_blur_kernel(int(n))),
    "motion": BlurFamily("motion", (_LENGTH, _ANGLE), motion_kernel),
}


def _fmt(v: float) -> str:
    s = repr(float(v))
    return s[:-2] if s.endswith(".0") else s


@dataclass(frozen=True)
class BlurSpec:
    """A parsed blur: a registered family with its parameters, or (``name == "file"``) a kernel file.

    Attributes:
        name: ``gaussian``, ``box``, ``motion`` or ``file``.
        params: the numeric parameters (empty for a file).
        text: the canonical spec, e.g. ``gaussian:1.6`` or the file's path.

    """

    name: str
    params: tuple[float, ...]
    text: str

    def kernel(self) -> np.ndarray:
        """The kernel as a float64 array of odd sides, summing to 1."""
        if self.name == "file":
            return file_kernel(self.text)
        if self.name not in BLURS:
            raise ConfigError(f"unknown blur {self.name!r}; expected one of {', '.join(BLURS)} or file")
        return BLURS[self.name].build(*self.params)

    def __str__(self) -> str:
        return self.text


def parse_blur(spec: str) -> BlurSpec:
    """Parse a blur as written on the command line.

    ``gaussian:SIGMA``, ``box:N`` and ``motion:LENGTH,ANGLE`` name a registered family (:data:`BLURS`);
    anything else must be an existing image file holding the kernel, which is read and checked here.

    Args:
        spec: the text, e.g. ``gaussian:1.6``, ``box:9``, ``motion:15,30`` or ``psf.png``.

    Returns:
        The parsed spec; ``text`` is canonical (``gaussian:1.60`` becomes ``gaussian:1.6``).

    Raises:
        ConfigError: an unknown name, missing or extra parameters, a non-number or an out-of-range
            value, or a path that is not a file.
        InputError: the kernel file cannot be used (see :func:`file_kernel`).

    Example:
        >>> parse_blur("motion:15, 30")
        BlurSpec(name='motion', params=(15.0, 30.0), text='motion:15,30')

    """
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"blur {spec!r} is invalid; {_EXPECTED}")
    spec = spec.strip()
    head, _, args = spec.partition(":")
    family = BLURS.get(head.strip().lower())
    if family is not None:
        params = family.parse(spec, args)
        return BlurSpec(family.name, params, f"{family.name}:{','.join(_fmt(v) for v in params)}")
    if Path(spec).is_file():
        file_kernel(spec)  # refuse a bad file now, not when the kernel is first needed
        return BlurSpec("file", (), spec)
    raise ConfigError(f"blur {spec!r} is invalid (not a known blur nor an existing file); {_EXPECTED}")


# --------------------------------------------------------------------------------------------------
# The convolution and its adjoint (pure functions)
# --------------------------------------------------------------------------------------------------
