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
from .read import FLOAT_TOLERATED, ImageData, ImageSource, load_image, load_mask, load_matching
from .tensors import from_tensor, to_tensor
from .write import quantize, save_image, write_bytes_atomic, write_text_atomic

__all__ = ["DEFAULT_MAX_PIXELS", "FLOAT_TOLERATED", "TIFF_SUFFIXES", "WRITABLE_SUFFIXES", "Header", "ImageData",
           "ImageSource", "check_frames", "check_pixels", "check_writable", "decoding_unbounded", "from_tensor",
           "is_tiff", "load_image", "load_mask", "load_matching", "png_header", "quantize", "read_header",
           "save_image", "to_tensor", "write_bytes_atomic", "write_text_atomic"]
