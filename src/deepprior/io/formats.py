"""What image files hold and what their headers say, read before any pixel is decoded.

:func:`read_header` gives an image's size and frame count from its header (Pillow opens files lazily;
TIFF through tifffile's page list), so :func:`check_pixels` can refuse an image over the pixel-count
limit and :func:`check_frames` an animation before decoding. :func:`check_writable` says before a fit
whether an output format can hold the image as it is (depth, alpha, grey): nothing is ever converted.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TIFF_SUFFIXES = {".tif", ".tiff"}
WRITABLE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}
#: What each output format holds: bit depths, grey (1 channel), alpha. Anything else is refused, never converted
#: (Pillow would write WebP grey as RGB and drop a WebP alpha that is fully opaque, drop a BMP's alpha on reading
#: and cannot write grey + alpha as BMP).
_HOLDS: dict[str, tuple[tuple[int, ...], bool, bool]] = {
    ".png": ((8, 16), True, True), ".tif": ((8, 16), True, True), ".tiff": ((8, 16), True, True),
    ".jpg": ((8,), True, False), ".jpeg": ((8,), True, False), ".bmp": ((8,), True, False),
    ".webp": ((8,), False, False),
}

#: The default limit on an image's pixel count (``--max-pixels``, ``max_pixels=``): 100 megapixels.
DEFAULT_MAX_PIXELS = 100_000_000
#: A rough cost of a fit per megapixel, for the limit's message: 3000 iterations of ``fast`` on 512x512 images
#: took 3900-4300 s with two CPU threads (benchmarks/results/full_size_sigma25_w48.json), about 15,000 s
#: per megapixel; the time grows about linearly with the pixel count (tiles).
SECONDS_PER_MEGAPIXEL = 15_000.0


@dataclass(frozen=True)
class Header:
    """What a file's header says, read without decoding the pixels.

    Attributes:
        width: as stored (before the EXIF orientation).
        height: as stored.
        frames: frames or pages (1 for a still image).
        bit_depth: 8 or 16 where the header settles the depth deepprior reads it at, else None.

    """

    width: int
    height: int
    frames: int = 1
    bit_depth: int | None = None


@contextmanager
def decoding_unbounded() -> Iterator[None]:
    """Pillow's decompression-bomb limit off while we decode: :func:`check_pixels` has already applied
    deepprior's own limit (from the header), with a message that says what to do.
    """
    from PIL import Image

    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def _pil_depth(mode: str) -> int | None:
    if mode.startswith("I;16"):
        return 16
    return 8 if mode in ("1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBX", "RGBa", "CMYK", "YCbCr", "LAB",
                         "HSV") else None


_TIFF_MAGIC = (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")  # classic and BigTIFF, little and big endian


def is_tiff(path: Path) -> bool:
    """Whether a file holds a TIFF, by its first bytes (a TIFF named ``.png`` is still read as a TIFF)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(4) in _TIFF_MAGIC
    except OSError:
        return False


def read_header(path: str | os.PathLike) -> Header:
    """The size, frame count and (where settled) bit depth of an image file, without decoding its pixels.

    Raises:
        InputError: the file is missing or its header cannot be read.

    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no such file: {path}" if not path.exists() else f"{path} is not an image file")
    try:
        if is_tiff(path):
            try:
                import tifffile

                with tifffile.TiffFile(str(path)) as tif:
                    page: Any = tif.pages[0]  # a TiffPage (the first is never a TiffFrame)
                    depth = {np.dtype(np.uint8): 8, np.dtype(np.uint16): 16}.get(np.dtype(page.dtype))
                    return Header(int(page.imagewidth), int(page.imagelength), len(tif.pages), depth)
            except Exception:  # noqa: BLE001 - Pillow reads TIFF flavours tifffile rejects
                pass
        png = png_header(path)
        from PIL import Image

        with decoding_unbounded(), Image.open(path) as img:
            frames = int(getattr(img, "n_frames", 1)) if img.format != "MPO" else 1  # MPO: extra previews
            depth = (16 if png[0] == 16 else 8) if png is not None else _pil_depth(img.mode)
            return Header(int(img.width), int(img.height), frames, depth)
    except Exception as exc:  # noqa: BLE001 - any decoder failure becomes one clear line
        raise InputError(f"cannot read image {path}: {exc}") from None


def _duration(seconds: float) -> str:
    hours = seconds / 3600
    return f"{hours:.0f} hours" if hours < 48 else f"{hours:.0f} hours ({hours / 24:.0f} days)"


def check_pixels(width: int, height: int, max_pixels: int | None, what: str = "image") -> None:
    """Refuse an image of more than ``max_pixels`` pixels (None: no limit), saying how long it would take."""
    n = int(width) * int(height)
    if max_pixels is None or n <= max_pixels:
        return
    hours = SECONDS_PER_MEGAPIXEL / 3600
    raise InputError(
        f"{what} is {width}x{height} ({n / 1e6:.1f} megapixels), over the limit of {max_pixels / 1e6:g} megapixels: "
        f"at roughly {hours:.0f} hours per megapixel (the fast preset on a CPU) it would take about "
        f"{_duration(n / 1e6 * SECONDS_PER_MEGAPIXEL)}; crop it, or pass --max-pixels {n} (max_pixels={n}) to "
        "restore it anyway"
    )


def check_frames(frames: int, what: str) -> None:
    """Refuse a file of several frames or pages: one rule for every format."""
    if frames > 1:
        raise InputError(f"{what} has {frames} frames; deepprior restores single images: extract one frame first")


def png_header(path: Path) -> tuple[int, int] | None:
    """(bit depth, colour type) from a PNG's IHDR chunk, or None when the file is not a PNG."""
    with open(path, "rb") as fh:
        head = fh.read(26)
    if len(head) < 26 or not head.startswith(_PNG_SIGNATURE):
        return None
    return head[24], head[25]


def check_writable(path: str | os.PathLike, *, bit_depth: int = 8, alpha: bool = False, channels: int = 3) -> Path:
    """Check, before any work, that ``path`` can take an image of this depth, alpha and channel count.

    The folder must exist and be writable, and the format (from the suffix) must hold the image as it is:
    16-bit goes to PNG or TIFF, alpha to PNG, TIFF or WebP, grey to anything but WebP. Nothing is converted.

    Raises:
        InputError: naming the path and what would work instead.

    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in _HOLDS:
        raise InputError(
            f"cannot save {target}: unknown image format {suffix or '(none)'}; "
            f"expected one of {', '.join(sorted(WRITABLE_SUFFIXES))}"
        )
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"output folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise InputError(f"output folder {folder} is not writable")
    if target.is_dir():
        raise InputError(f"cannot save {target}: it is a folder")
    depths, grey, holds_alpha = _HOLDS[suffix]
    if bit_depth not in depths:
        raise InputError(f"cannot save {target}: the image is {bit_depth}-bit and {suffix} holds only 8-bit; "
                         "save as .png or .tif")
    if alpha and not holds_alpha:
        raise InputError(f"cannot save {target}: {suffix} cannot hold the image's alpha channel; save as .png")
    if channels == 1 and not grey:
        raise InputError(f"cannot save {target}: {suffix} stores colour only and the image is grey; save as .png")
    return target


__all__ = ["DEFAULT_MAX_PIXELS", "SECONDS_PER_MEGAPIXEL", "TIFF_SUFFIXES", "WRITABLE_SUFFIXES", "Header",
           "check_frames", "check_pixels", "check_writable", "decoding_unbounded", "is_tiff", "png_header",
           "read_header"]
