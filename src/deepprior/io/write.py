"""Writing images and files atomically: to a temporary file in the target folder, then renamed over it."""

from __future__ import annotations

import io as _bytesio
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError
from .formats import (
    TIFF_SUFFIXES,
    check_writable,
)

if TYPE_CHECKING:  # pragma: no cover
    pass
from .read import ImageData, from_array


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
    data = image if isinstance(image, ImageData) else from_array(np.asarray(image))
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


__all__ = ["quantize", "save_image", "write_bytes_atomic", "write_text_atomic"]
