"""Reading and writing images and masks.

Images travel through deepprior as float32 arrays ``H x W x C`` in [0, 1] with C = 1 (grey) or 3 (RGB);
an alpha channel, when the file has one, is kept apart and written back unchanged. 8- and 16-bit PNG
(16-bit in, 16-bit out), JPEG, TIFF, BMP and WebP are read; the EXIF orientation is applied.
Before any pixel is decoded the header is read: an image over the pixel-count limit (``max_pixels``,
100 megapixels by default) or with several frames (animated GIF, PNG or WebP, multi-page TIFF) is refused.
Outputs are written atomically: to a temporary file in the target folder, then renamed over the target;
:func:`check_writable` says before a fit whether the output's format can hold the image.
"""

from __future__ import annotations

import io as _bytesio
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from .errors import InputError
from .formats import (
    DEFAULT_MAX_PIXELS,
    TIFF_SUFFIXES,
    WRITABLE_SUFFIXES,
    Header,
    check_frames,
    check_pixels,
    check_writable,
    decoding_unbounded,
    is_tiff,
    png_header,
    read_header,
)

if TYPE_CHECKING:  # pragma: no cover
    import torch
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


def _from_array(array: np.ndarray, *, path: Path | None = None) -> ImageData:
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
    return _from_array(arr, path=path)


def _read_png16(path: Path) -> ImageData:
    import png

    width, height, rows, info = png.Reader(filename=str(path)).asDirect()
    planes = int(info["planes"])
    data = np.vstack([np.asarray(r, dtype=np.uint16) for r in rows]).reshape(height, width, planes)
    return _from_array(data, path=path)


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
    return _from_array(arr, path=path)


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
        return _from_array(source)
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


def quantize(pixels: np.ndarray, bit_depth: int) -> np.ndarray:
    """Round [0, 1] values to the levels of an 8- or 16-bit file, as saving and reloading would."""
    top = 255.0 if bit_depth == 8 else 65535.0
    return (np.round(np.clip(pixels, 0.0, 1.0) * top) / top).astype(np.float32)


def _to_integer(values: np.ndarray, bit_depth: int) -> np.ndarray:
    top, dtype = (255.0, np.uint8) if bit_depth == 8 else (65535.0, np.uint16)
    return np.round(np.clip(values, 0.0, 1.0) * top).astype(dtype)


def _stack(image: ImageData) -> np.ndarray:
    px = image.pixels
    if image.alpha is not None:
        px = np.concatenate([px, image.alpha[:, :, None]], axis=2)
    return px


def _write_file(fh: Any, image: ImageData, suffix: str) -> None:
    data = _to_integer(_stack(image), image.bit_depth)
    planes = data.shape[2]
    if suffix in TIFF_SUFFIXES:
        import tifffile

        # the colour space and the alpha stated, so that grey + alpha is one page of two samples, not a stack
        photometric = "rgb" if planes >= 3 else "minisblack"
        tifffile.imwrite(fh, data if planes > 1 else data[:, :, 0], photometric=photometric,
                         planarconfig="contig", extrasamples=["unassalpha"] if planes in (2, 4) else None)
        return
    if image.bit_depth == 16:
        import png

        writer = png.Writer(
            width=data.shape[1], height=data.shape[0], bitdepth=16,
            greyscale=planes in (1, 2), alpha=planes in (2, 4),
        )
        writer.write(fh, data.reshape(data.shape[0], -1))
        return
    from PIL import Image

    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[planes]
    pil = Image.fromarray(data if planes > 1 else data[:, :, 0], mode=mode)
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".bmp": "BMP", ".webp": "WEBP"}[suffix]
    # JPEG at quality 95; WebP lossless, so that a restored image is not degraded again on saving
    options: dict[str, dict[str, Any]] = {"JPEG": {"quality": 95}, "WEBP": {"lossless": True}}
    kwargs = options.get(fmt, {})
    pil.save(fh, format=fmt, **kwargs)


def save_image(path: str | os.PathLike, image: ImageData | np.ndarray) -> Path:
    """Write an image atomically (temporary file in the same folder, then a rename).

    Args:
        path: target file; its suffix picks the format (.png, .jpg, .tif, .bmp, .webp).
        image: the image; its ``bit_depth`` (8 or 16) is the depth written.

    Returns:
        The path written.

    Raises:
        InputError: the folder does not exist, or the format cannot hold the image (see
            :func:`check_writable`).

    """
    data = image if isinstance(image, ImageData) else _from_array(np.asarray(image))
    target = check_writable(path, bit_depth=data.bit_depth, alpha=data.alpha is not None, channels=data.channels)
    buffer = _bytesio.BytesIO()
    _write_file(buffer, data, target.suffix.lower())
    return write_bytes_atomic(target, buffer.getvalue())


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write a text file atomically (used for reports)."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def _file_mode(target: Path) -> int:
    """The mode a plain ``open()`` would give: the existing file's, else 0o666 less the umask."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write bytes atomically: a temporary file in the target folder, then a rename."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"output folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, _file_mode(target))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def to_tensor(pixels: np.ndarray) -> torch.Tensor:
    """``H x W x C`` array to a ``1 x C x H x W`` float32 tensor."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1)))[None].float()


def from_tensor(tensor: torch.Tensor) -> np.ndarray:
    """``1 x C x H x W`` tensor to an ``H x W x C`` float32 array."""
    return tensor.detach().float().cpu()[0].permute(1, 2, 0).contiguous().numpy()


__all__ = ["DEFAULT_MAX_PIXELS", "WRITABLE_SUFFIXES", "Header", "ImageData", "ImageSource", "check_pixels",
           "check_writable", "from_tensor", "load_image", "load_mask", "load_matching", "quantize", "read_header",
           "save_image", "to_tensor", "write_bytes_atomic", "write_text_atomic"]
