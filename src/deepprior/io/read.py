"""Reading images and masks: the header first (size, frames), then the pixels, as :class:`ImageData`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Union

import numpy as np

from ..errors import InputError
from .formats import (
    DEFAULT_MAX_PIXELS,
    check_frames,
    check_pixels,
    decoding_unbounded,
    is_tiff,
    png_header,
    read_header,
)

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image as PILImage

ImageSource = Union[str, os.PathLike, "PILImage.Image", np.ndarray, "ImageData"]


@dataclass
class ImageData:
    """An image as deepprior handles it.

    Attributes:
        pixels: float32 array ``H x W x C`` in [0, 1], C = 1 or 3.
        alpha: float32 array ``H x W`` in [0, 1], or None.
        bit_depth: 8 or 16: the depth the image came in, and the depth it is saved at.
        path: the file it was read from, if any.

    """

    pixels: np.ndarray
    alpha: np.ndarray | None = None
    bit_depth: int = 8
    path: Path | None = None

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def channels(self) -> int:
        return int(self.pixels.shape[2])

    @property
    def size_text(self) -> str:
        """``WIDTHxHEIGHT``, the way image sizes are usually written."""
        return f"{self.width}x{self.height}"

    def with_pixels(self, pixels: np.ndarray) -> ImageData:
        """The same image (alpha, depth) with other pixels of the same size."""
        return ImageData(pixels=pixels, alpha=self.alpha, bit_depth=self.bit_depth, path=self.path)


def _describe(source: object) -> str:
    return str(source) if isinstance(source, (str, os.PathLike)) else type(source).__name__


def from_array(array: np.ndarray, *, path: Path | None = None) -> ImageData:
    """Interpret an integer or float array (H x W, H x W x {1, 2, 3, 4}) as an image."""
    a = np.asarray(array)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 2, 3, 4):
        raise InputError(f"image array has shape {a.shape}; expected H x W, or H x W x C with C in 1..4")
    if a.size == 0:
        raise InputError(f"image array has shape {a.shape}: no pixels")
    if a.dtype == np.bool_:
        a = a.astype(np.uint8) * 255
    if a.dtype == np.uint8:
        depth, values = 8, a.astype(np.float32) / 255.0
    elif a.dtype == np.uint16:
        depth, values = 16, a.astype(np.float32) / 65535.0
    elif np.issubdtype(a.dtype, np.integer):
        top = int(a.max()) if a.size else 0
        if a.min() < 0 or top > 65535:
            raise InputError(f"integer image values span {a.min()}..{top}; expected 0..255 or 0..65535")
        depth = 8 if top <= 255 else 16
        values = a.astype(np.float32) / (255.0 if depth == 8 else 65535.0)
    elif np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            raise InputError("image array holds NaN or infinite values")
        depth, values = 8, _float_values(a.astype(np.float32), path)
    else:
        raise InputError(f"image array has dtype {a.dtype}; expected uint8, uint16 or float")
    alpha = None
    if values.shape[2] in (2, 4):
        alpha = np.ascontiguousarray(values[:, :, -1])
        values = values[:, :, :-1]
    return ImageData(pixels=np.ascontiguousarray(values), alpha=alpha, bit_depth=depth, path=path)


#: Float pixels within this range but outside [0, 1] are clipped with a warning (noise on a float image may
#: leave [0, 1] by a few sigma); beyond it the array is refused: it is on another scale (0-255, 0-65535, ...).
FLOAT_TOLERATED = (-1.0, 2.0)


def _float_values(a: np.ndarray, path: Path | None) -> np.ndarray:
    """Float pixels on [0, 1]: kept; within :data:`FLOAT_TOLERATED`: clipped with a warning; else refused."""
    lo, hi = float(a.min()), float(a.max())
    if lo >= 0.0 and hi <= 1.0:
        return a
    where = f" ({path})" if path is not None else ""
    span = f"float image values span {lo:.4g}..{hi:.4g}{where}; expected [0, 1]"
    if lo >= 0 and hi <= 255:
        hint = "for an image on 0..255, divide it by 255 (image / 255) or pass it as uint8"
    elif lo >= 0 and hi <= 65535:
        hint = "for an image on 0..65535, divide it by 65535 or pass it as uint16"
    else:
        hint = "scale it into [0, 1] first"
    if not (FLOAT_TOLERATED[0] <= lo and hi <= FLOAT_TOLERATED[1]):
        raise InputError(f"{span}: {hint}")
    outside = int(np.count_nonzero((a < 0) | (a > 1)))
    import warnings

    warnings.warn(f"{span}: clipped {outside} values ({outside / a.size:.2%}) to [0, 1]", UserWarning, stacklevel=4)
    return np.clip(a, 0.0, 1.0)


def _from_pil(img: PILImage.Image, *, path: Path | None = None) -> ImageData:
    from PIL import ImageOps

    img = ImageOps.exif_transpose(img) or img
    mode = img.mode
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif mode == "PA":
        img = img.convert("RGBA")
    elif mode in ("1",):
        img = img.convert("L")
    elif mode in ("CMYK", "YCbCr", "LAB", "HSV", "RGBX", "RGBa"):
        img = img.convert("RGB")
    elif mode == "La":
        img = img.convert("LA")
    mode = img.mode
    if mode.startswith("I;16"):
        arr = np.array(img, dtype=np.uint16)
    elif mode == "I":
        arr = np.array(img, dtype=np.int64)
    elif mode == "F":
        arr = np.array(img, dtype=np.float32)
    elif mode in ("L", "LA", "RGB", "RGBA"):
        arr = np.array(img, dtype=np.uint8)
    else:
        raise InputError(f"image mode {mode!r} is not supported{f' ({path})' if path else ''}")
    return from_array(arr, path=path)


def _read_png16(path: Path) -> ImageData:
    import png

    width, height, rows, info = png.Reader(filename=str(path)).asDirect()
    planes = int(info["planes"])
    data = np.vstack([np.asarray(r, dtype=np.uint16) for r in rows]).reshape(height, width, planes)
    return from_array(data, path=path)


def _read_tiff(path: Path) -> ImageData:
    import tifffile

    with tifffile.TiffFile(str(path)) as tif:
        page = tif.pages[0]
        photometric = int(getattr(page, "photometric", 1))
        extra = tuple(int(v) for v in getattr(page, "extrasamples", ()) or ())
        # palette, CMYK and YCbCr colours and unspecified extra samples (RGBX) are Pillow's to convert:
        # tifffile returns their raw samples (palette indices; a 4th sample that is not alpha)
        if photometric not in (0, 1, 2) or any(v == 0 for v in extra):
            raise ValueError("a TIFF flavour Pillow converts")
        arr = np.asarray(page.asarray())
    if arr.ndim == 3 and arr.shape[0] in (1, 3, 4) and arr.shape[2] not in (1, 2, 3, 4):
        arr = np.moveaxis(arr, 0, -1)  # planar storage
    return from_array(arr, path=path)


def load_image(source: ImageSource, *, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> ImageData:
    """Read an image from a path, a PIL image, a NumPy array or an :class:`ImageData`.

    A file's header is read first: an image of more than ``max_pixels`` pixels, or with several frames
    (animated GIF/PNG/WebP, multi-page TIFF), is refused before any pixel is decoded.

    Args:
        source: file path (PNG, JPEG, TIFF, BMP, WebP), PIL image, or array (uint8, uint16, other integers
            in 0..65535, or float in [0, 1]; H x W or H x W x C with C = 1, 2 (grey + alpha), 3 or 4 (RGBA)).
            Float values outside [0, 1] but within [-1, 2] (noise on a float image) are clipped with a
            ``UserWarning`` naming their range; beyond that the array is refused: divide a 0..255 float image
            by 255 (or pass it as uint8).
        max_pixels: the largest pixel count accepted (None: no limit).

    Returns:
        The image, with alpha split off and the bit depth recorded.

    Raises:
        InputError: the file is missing, unreadable or truncated, too large or animated, or the array has an
            unusable shape, NaN or infinite values, or float values outside [-1, 2].

    Example:
        >>> import numpy as np
        >>> load_image(np.zeros((4, 6, 3), np.uint8)).size_text
        '6x4'

    """
    if isinstance(source, ImageData):
        check_pixels(source.width, source.height, max_pixels)
        return source
    if isinstance(source, np.ndarray):
        if source.ndim >= 2:
            check_pixels(source.shape[1], source.shape[0], max_pixels, f"image array {source.shape}")
        return from_array(source)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise InputError(f"no such file: {path}")
        if path.is_dir():
            raise InputError(f"{path} is a folder; expected an image file")
        header = read_header(path)
        check_frames(header.frames, str(path))
        check_pixels(header.width, header.height, max_pixels, str(path))
        try:
            if is_tiff(path):  # by content: the suffix may lie
                try:
                    return _read_tiff(path)
                except InputError:
                    raise
                except Exception:  # noqa: BLE001 - fall back to Pillow for TIFF flavours tifffile rejects
                    pass
            png = png_header(path)
            if png is not None and png[0] == 16:
                return _read_png16(path)
            from PIL import Image

            with decoding_unbounded(), Image.open(path) as img:
                img.load()
                return _from_pil(img, path=path)
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001 - any decoder failure becomes one clear line
            raise InputError(f"cannot read image {path}: {exc}") from None
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover
        Image = None  # type: ignore[assignment]
    if Image is not None and isinstance(source, Image.Image):
        check_frames(int(getattr(source, "n_frames", 1)) if source.format != "MPO" else 1, "the PIL image")
        check_pixels(source.width, source.height, max_pixels, "the PIL image")
        return _from_pil(source)
    raise InputError(f"cannot read an image from a {_describe(source)}; expected a path, PIL image or array")


def load_matching(source: ImageSource, *, height: int, width: int, what: str) -> ImageData:
    """Read an image that must have ``height * width`` pixels (a mask, a reference): a file of another pixel
    count is refused from its header, before decoding; the caller checks the exact size after the EXIF
    orientation.
    """
    if isinstance(source, (str, os.PathLike)) and Path(source).is_file():
        header = read_header(source)
        check_frames(header.frames, str(source))
        if header.width * header.height != height * width:
            raise InputError(f"{what} is {header.width}x{header.height} but the image is {width}x{height}")
    return load_image(source, max_pixels=None)


def load_mask(source: str | os.PathLike | np.ndarray, *, height: int, width: int) -> np.ndarray:
    """Read a mask: white (grey value >= 128 of 255) marks a known pixel, black a missing one.

    1-bit, grey, RGB and RGBA files are accepted; RGBA is composited over black first, so a transparent
    pixel counts as missing.

    Args:
        source: the mask file, or a boolean/numeric array.
        height: the image's height, which the mask must match.
        width: the image's width.

    Returns:
        Boolean array ``H x W``, True where the pixel is known.

    Raises:
        InputError: the file cannot be read, or its size differs from the image's.

    """
    if isinstance(source, np.ndarray) and source.dtype == np.bool_:
        known = source if source.ndim == 2 else source.all(axis=-1)
    else:
        img = load_matching(source, height=height, width=width, what="mask")
        grey = img.pixels.mean(axis=2)
        if img.alpha is not None:
            grey = grey * img.alpha
        known = grey >= (127.5 / 255.0)
    if known.shape != (height, width):
        h, w = known.shape[:2]
        raise InputError(f"mask is {w}x{h} but the image is {width}x{height}")
    return np.ascontiguousarray(known)


__all__ = ["FLOAT_TOLERATED", "ImageData", "ImageSource", "from_array", "load_image", "load_mask", "load_matching"]
