"""What the fuzz suite (``test_fuzz.py``) generates, and the rule it holds outputs to.

Images are drawn as small recipes (size, mode, format, pattern, seed, damage) and made into file bytes here,
so that Hypothesis shrinks the recipe, not megabytes of pixels. Each clean file carries what deepprior must
make of it (:class:`Expected`), worked out from the file as Pillow (or, for 16-bit PNG and tifffile's TIFF,
the array written) sees it, by the rule of :data:`MODE_RULE`.

The docs' Images page (docs/guide/images.md) states the rule for modes other than grey, grey + alpha, RGB and RGBA;
:data:`MODE_RULE` is that rule, as ``deepprior.io.read._from_pil`` and ``from_array`` apply it.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import strategies as st
from PIL import Image

# --------------------------------------------------------------------------------------------------
# The conversion rule
# --------------------------------------------------------------------------------------------------

#: Pillow mode -> (colour channels, alpha kept, bit depth). ``I`` is 8-bit when its values fit 0..255,
#: 16-bit when they fit 0..65535 and refused otherwise; ``F`` is clipped to [0, 1] and saved at 8 bits;
#: palette images become RGB, or RGBA when the palette has a transparent entry; CMYK, YCbCr, LAB, HSV
#: become RGB; 1-bit becomes grey.
MODE_RULE: dict[str, tuple[int, bool, int]] = {
    "1": (1, False, 8), "L": (1, False, 8), "LA": (1, True, 8), "La": (1, True, 8),
    "P": (3, False, 8), "PA": (3, True, 8),
    "RGB": (3, False, 8), "RGBA": (3, True, 8), "RGBa": (3, True, 8), "RGBX": (3, False, 8),
    "CMYK": (3, False, 8), "YCbCr": (3, False, 8), "LAB": (3, False, 8), "HSV": (3, False, 8),
    "I;16": (1, False, 16), "I;16B": (1, False, 16), "I;16L": (1, False, 16), "I;16N": (1, False, 16),
    "I": (1, False, 8), "F": (1, False, 8),
}


@dataclass(frozen=True)
class Expected:
    """What an image file must become: its size, colour channels (1 or 3), alpha and bit depth."""

    width: int
    height: int
    channels: int
    alpha: bool
    depth: int

    def scaled(self, factor: int) -> Expected:
        return replace(self, width=self.width * factor, height=self.height * factor)


def expected_from_pil(img: Image.Image) -> Expected | None:
    """The rule applied to an opened (first frame of a) Pillow image; None where the rule refuses it."""
    mode = img.mode
    if mode not in MODE_RULE:
        return None
    channels, alpha, depth = MODE_RULE[mode]
    if mode == "P" and "transparency" in img.info:
        alpha = True
    if mode in ("I", "F"):
        values = np.asarray(img)
        if mode == "F" and not np.isfinite(values).all():
            return None
        if mode == "I":
            if values.size and (values.min() < 0 or values.max() > 65535):
                return None
            depth = 16 if values.size and values.max() > 255 else 8
    return Expected(img.width, img.height, channels, alpha, depth)


def expected_from_array(a: np.ndarray) -> Expected | None:
    """The rule for an array (the API's input, tifffile's pages): ``deepprior.io.read.from_array``'s."""
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 2, 3, 4) or 0 in a.shape:
        return None
    if a.dtype == np.bool_ or a.dtype == np.uint8:
        depth = 8
    elif a.dtype == np.uint16:
        depth = 16
    elif np.issubdtype(a.dtype, np.integer):
        if a.min() < 0 or a.max() > 65535:
            return None
        depth = 16 if a.max() > 255 else 8
    elif np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            return None
        depth = 8
    else:
        return None
    c = a.shape[2]
    return Expected(a.shape[1], a.shape[0], 1 if c in (1, 2) else 3, c in (2, 4), depth)


# --------------------------------------------------------------------------------------------------
# Image recipes
# --------------------------------------------------------------------------------------------------

#: Which modes Pillow writes into which format (tried at import: what saves and opens again).
PIL_FORMATS = {"PNG": ".png", "JPEG": ".jpg", "TIFF": ".tif", "BMP": ".bmp", "WEBP": ".webp", "GIF": ".gif"}
PIL_MODES = ("1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBX", "I;16", "I;16B", "I", "F", "CMYK", "YCbCr", "LAB")
#: WebP and GIF turn every mode into a few of their own: only those modes are drawn for them.
FEW_MODES = {"WEBP": ("L", "LA", "P", "RGB", "RGBA"), "GIF": ("1", "L", "P", "RGB", "RGBA")}


def _writable() -> list[tuple[str, str]]:
    pairs = []
    for fmt in PIL_FORMATS:
        for mode in FEW_MODES.get(fmt, PIL_MODES):
            try:
                buf = io.BytesIO()
                Image.new(mode, (3, 2)).save(buf, format=fmt)
                with Image.open(io.BytesIO(buf.getvalue())) as back:
                    back.load()
            except Exception:  # noqa: BLE001 - not a pair Pillow writes
                continue
            pairs.append((fmt, mode))
    return pairs


WRITABLE = _writable()

#: Writers beside Pillow: 16-bit PNG (pypng; Pillow writes only 16-bit grey), TIFF from arrays (tifffile),
#: low bit-depth PNG, and files of several frames.
EXTRA_WRITERS = ("png16-L", "png16-LA", "png16-RGB", "png16-RGBA", "png-2bit", "png-palette-trns",
                 "tiff-u8", "tiff-u16", "tiff-f32", "tiff-u16-rgb", "tiff-u16-rgba", "tiff-pages", "gif-frames",
                 "apng-frames", "tiff-pil-pages")

PATTERNS = ("noise", "flat", "extremes", "gradient")
DAMAGES = ("truncate", "flip", "text", "empty", "header-only")


@dataclass(frozen=True)
class ImageRecipe:
    """How to make one image file."""

    width: int
    height: int
    writer: str  # "FORMAT:MODE" for Pillow, else one of EXTRA_WRITERS
    pattern: str
    seed: int
    value_range: int = 0  # for I and F: 0 in range, 1 beyond 8 bits, 2 beyond 16 bits / negative
    damage: str | None = None
    damage_at: float = 0.5
    flips: int = 1
    suffix: str | None = None  # another name for the file than its format's (".xyz", "", ".png", ...)


@dataclass
class ImageFile:
    """An image file's bytes, its name and what deepprior must make of it (None: no promise)."""

    data: bytes
    suffix: str
    expected: Expected | None
    recipe: ImageRecipe

    def write(self, folder: Path, stem: str = "input") -> Path:
        path = folder / f"{stem}{self.suffix}"
        path.write_bytes(self.data)
        return path


def chance(draw: st.DrawFn, percent: int, *, at: int = 40) -> bool:
    """True ``percent`` times in 100. Hypothesis draws the ends of a range (and zero) far more often than the
    rest, and shrinks towards zero, so the rare outcome is a window in the middle: it stays rare, and a
    shrunk example leaves it out.
    """
    return at <= draw(st.integers(0, 99)) < at + percent


@st.composite
def sides(draw: st.DrawFn, low: int = 1, high: int = 300) -> int:
    """A side length: most often small but fittable (8..40), 1 in 10 below deepprior's 8, 3 in 10 anything up
    to ``high`` (fits of a few hundred pixels a side cost seconds).
    """
    r = draw(st.integers(0, 99))
    if 40 <= r < 50 and low < 8:
        return draw(st.integers(low, min(7, high)))
    if 50 <= r < 80:
        return draw(st.integers(low, high))
    return draw(st.integers(max(low, min(8, high)), max(low, min(40, high))))


def _pattern(rng: np.random.Generator, pattern: str, shape: tuple[int, ...], low: float, high: float) -> np.ndarray:
    if pattern == "flat":
        return np.full(shape, rng.uniform(low, high))
    if pattern == "extremes":
        a = np.indices(shape[:2]).sum(0) % 2
        a = a.reshape(a.shape + (1,) * (len(shape) - 2))
        return np.broadcast_to(np.where(a > 0, high, low), shape).copy()
    if pattern == "gradient":
        h, w = shape[:2]
        g = (np.arange(h)[:, None] * max(w, 1) + np.arange(w)[None, :]) / max(h * w - 1, 1)
        g = g.reshape(g.shape + (1,) * (len(shape) - 2))
        return np.broadcast_to(low + g * (high - low), shape).copy()
    return rng.uniform(low, high, shape)


def _u8(rng: np.random.Generator, pattern: str, shape: tuple[int, ...]) -> np.ndarray:
    return np.round(_pattern(rng, pattern, shape, 0, 255)).astype(np.uint8)


def _u16(rng: np.random.Generator, pattern: str, shape: tuple[int, ...]) -> np.ndarray:
    return np.round(_pattern(rng, pattern, shape, 0, 65535)).astype(np.uint16)


def _pil_image(mode: str, w: int, h: int, r: ImageRecipe, rng: np.random.Generator) -> Image.Image:
    if mode == "1":
        return Image.fromarray(_u8(rng, r.pattern, (h, w)) > 127)
    if mode == "L":
        return Image.fromarray(_u8(rng, r.pattern, (h, w)))
    if mode in ("LA", "RGB", "RGBA"):
        return Image.fromarray(_u8(rng, r.pattern, (h, w, len(mode))))
    if mode in ("RGBX", "CMYK", "YCbCr", "LAB"):
        a = _u8(rng, r.pattern, (h, w, len(Image.new(mode, (1, 1)).getbands())))
        return Image.merge(mode, [Image.fromarray(np.ascontiguousarray(a[:, :, i])) for i in range(a.shape[2])])
    if mode in ("P", "PA"):
        img = Image.fromarray(_u8(rng, r.pattern, (h, w))).convert("P")
        img.putpalette(_u8(rng, "noise", (768,)).tolist())
        return img.convert("PA") if mode == "PA" else img
    if mode in ("I;16", "I;16B"):
        img = Image.fromarray(_u16(rng, r.pattern, (h, w)))
        return img if mode == "I;16" else img.convert(mode)
    if mode == "I":
        low, high = [(0, 255), (0, 65535), (-70000, 70000)][r.value_range]
        return Image.fromarray(np.round(_pattern(rng, r.pattern, (h, w), low, high)).astype(np.int32))
    if mode == "F":
        low, high = [(0.0, 1.0), (0.0, 255.0), (-1.0, 2.0)][r.value_range]
        f = _pattern(rng, r.pattern, (h, w), low, high).astype(np.float32)
        if r.value_range == 2 and f.size:
            f.flat[int(rng.integers(f.size))] = np.nan
        return Image.fromarray(f)
    raise AssertionError(mode)


def _png16(a: np.ndarray, greyscale: bool, alpha: bool) -> bytes:
    import png

    buf = io.BytesIO()
    png.Writer(width=a.shape[1], height=a.shape[0], bitdepth=16, greyscale=greyscale, alpha=alpha).write(
        buf, a.reshape(a.shape[0], -1))
    return buf.getvalue()


def _tiff(a: np.ndarray, **kwargs: Any) -> bytes:
    import tifffile

    buf = io.BytesIO()
    tifffile.imwrite(buf, a, **kwargs)
    return buf.getvalue()


def _extra(r: ImageRecipe, rng: np.random.Generator) -> tuple[bytes, str, Expected | None]:
    w, h = r.width, r.height
    if r.writer.startswith("png16-"):
        planes = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}[r.writer[6:]]
        a = _u16(rng, r.pattern, (h, w, planes))
        return _png16(a, planes in (1, 2), planes in (2, 4)), ".png", expected_from_array(a)
    if r.writer == "png-2bit":
        import png

        a = (_u8(rng, r.pattern, (h, w)) // 64).astype(np.uint8)
        buf = io.BytesIO()
        png.Writer(width=w, height=h, bitdepth=2, greyscale=True).write(buf, a)
        return buf.getvalue(), ".png", Expected(w, h, 1, False, 8)
    if r.writer == "png-palette-trns":
        img = _pil_image("P", w, h, r, rng)
        buf = io.BytesIO()
        img.save(buf, format="PNG", transparency=0)
        return buf.getvalue(), ".png", Expected(w, h, 3, True, 8)
    if r.writer.startswith("tiff-") and r.writer not in ("tiff-pages", "tiff-pil-pages"):
        a: np.ndarray
        if r.writer == "tiff-u8":
            a = _u8(rng, r.pattern, (h, w))
        elif r.writer == "tiff-u16":
            a = _u16(rng, r.pattern, (h, w))
        elif r.writer == "tiff-u16-rgb":
            a = _u16(rng, r.pattern, (h, w, 3))
        elif r.writer == "tiff-u16-rgba":
            a = _u16(rng, r.pattern, (h, w, 4))
        else:
            a = _pattern(rng, r.pattern, (h, w), 0.0, 1.0).astype(np.float32)
        extra = {"photometric": "rgb", "extrasamples": ["unassalpha"]} if a.ndim == 3 and a.shape[2] == 4 else {}
        return _tiff(a, **extra), ".tif", expected_from_array(a)
    # several frames: the rule is the first frame's (or a refusal), the same for every format
    frames = 2 + r.seed % 3
    if r.writer == "tiff-pages":
        a = _u8(rng, r.pattern, (frames, h, w))
        # stated as grey pages: without it tifffile stores 3 or 4 planes as one planar RGB(A) page
        return _tiff(a, photometric="minisblack"), ".tif", Expected(w, h, 1, False, 8)
    imgs = [Image.fromarray(_u8(rng, r.pattern, (h, w, 3)), mode="RGB") for _ in range(frames)]
    buf = io.BytesIO()
    if r.writer == "gif-frames":
        imgs[0].save(buf, format="GIF", save_all=True, append_images=imgs[1:])
        with Image.open(io.BytesIO(buf.getvalue())) as first:
            return buf.getvalue(), ".gif", expected_from_pil(first)
    if r.writer == "apng-frames":
        imgs[0].save(buf, format="PNG", save_all=True, append_images=imgs[1:])
        return buf.getvalue(), ".png", Expected(w, h, 3, False, 8)
    imgs[0].save(buf, format="TIFF", save_all=True, append_images=imgs[1:])  # tiff-pil-pages
    return buf.getvalue(), ".tif", Expected(w, h, 3, False, 8)


def _damage(data: bytes, r: ImageRecipe, rng: np.random.Generator) -> bytes:
    if r.damage == "empty":
        return b""
    if r.damage == "text":
        return b"this is not an image, only text named like one\n" * (1 + r.seed % 3)
    if r.damage == "truncate":
        return data[: int(len(data) * r.damage_at)]
    if r.damage == "header-only":
        return data[: min(len(data), 8 + int(64 * r.damage_at))]
    b = bytearray(data)  # flip
    for _ in range(r.flips):
        if b:
            # most flips land in the first bytes, where the header is
            span = len(b) if rng.random() < 0.5 else min(len(b), 64)
            b[int(rng.integers(span))] ^= int(rng.integers(1, 256))
    return bytes(b)


def make_image(r: ImageRecipe) -> ImageFile:
    """The file a recipe describes."""
    rng = np.random.default_rng(r.seed)
    expected: Expected | None
    if ":" in r.writer:
        fmt, mode = r.writer.split(":")
        img = _pil_image(mode, r.width, r.height, r, rng)
        buf = io.BytesIO()
        img.save(buf, format=fmt, **({"quality": 80} if fmt in ("JPEG", "WEBP") else {}))
        data, suffix = buf.getvalue(), PIL_FORMATS[fmt]
        with Image.open(io.BytesIO(data)) as back:
            back.load()
            expected = expected_from_pil(back)
        if fmt == "PNG" and data[24] == 16:  # a 16-bit PNG is read at 16 bits, whatever Pillow's mode says
            expected = expected and replace(expected, depth=16)
    else:
        data, suffix, expected = _extra(r, rng)
    if r.damage is not None:
        data = _damage(data, r, rng)
        expected = None
    if r.suffix is not None:
        suffix = r.suffix
    return ImageFile(data, suffix, expected, r)


@st.composite
def image_recipes(draw: st.DrawFn, *, max_side: int = 300, damaged: bool = True, min_side: int = 1,
                  writers: tuple[str, ...] | None = None) -> ImageRecipe:
    """An image recipe: mostly clean Pillow files, some from the other writers, some damaged or misnamed."""
    pil = [f"{fmt}:{mode}" for fmt, mode in WRITABLE]
    choices = writers or tuple(pil + list(EXTRA_WRITERS))
    writer = draw(st.sampled_from(choices))
    damage = draw(st.sampled_from(DAMAGES)) if damaged and chance(draw, 15) else None
    misnamed = damaged and chance(draw, 8)
    suffix = draw(st.sampled_from([".xyz", "", ".png", ".jpg", ".tif", ".PNG"])) if misnamed else None
    return ImageRecipe(
        width=draw(sides(min_side, max_side)), height=draw(sides(min_side, max_side)), writer=writer,
        pattern=draw(st.sampled_from(PATTERNS)), seed=draw(st.integers(0, 2**16)),
        value_range=draw(st.integers(0, 2)), damage=damage,
        damage_at=draw(st.floats(0.0, 1.0)), flips=draw(st.integers(1, 8)), suffix=suffix,
    )


# --------------------------------------------------------------------------------------------------
# Masks (inpaint)
# --------------------------------------------------------------------------------------------------

MASK_KINDS = ("random", "all-white", "all-black", "holes", "non-binary", "wrong-size", "rgb", "rgba", "1-bit",
              "palette", "16-bit", "float-tiff", "jpeg", "damaged", "missing", "none")


def make_mask(kind: str, w: int, h: int, seed: int) -> bytes | None:
    """A mask file of ``kind`` for a ``w`` x ``h`` image (None: no mask file given)."""
    rng = np.random.default_rng(seed)
    known = rng.random((h, w)) > 0.3
    grey = known.astype(np.uint8) * 255
    buf = io.BytesIO()
    if kind == "all-white":
        grey[:] = 255
    elif kind == "all-black":
        grey[:] = 0
    elif kind == "holes":
        grey[:] = 255
        grey[h // 4: h // 2 + 1, w // 4: w // 2 + 1] = 0
    elif kind == "non-binary":
        grey = rng.integers(0, 256, (h, w), dtype=np.uint8)
    elif kind == "wrong-size":
        ww, hh = max(1, w + int(rng.integers(-3, 4)) or 1), max(1, h + int(rng.integers(1, 4)))
        grey = (rng.random((hh, ww)) > 0.3).astype(np.uint8) * 255
    if kind in ("missing", "none"):
        return None
    if kind == "rgb":
        Image.fromarray(np.dstack([grey] * 3)).save(buf, format="PNG")
    elif kind == "rgba":
        Image.fromarray(np.dstack([grey] * 3 + [rng.integers(0, 256, (h, w), dtype=np.uint8)])).save(buf, format="PNG")
    elif kind == "1-bit":
        Image.fromarray(grey > 127).save(buf, format="PNG")
    elif kind == "palette":
        Image.fromarray(grey).convert("P").save(buf, format="PNG")
    elif kind == "16-bit":
        return _png16((grey.astype(np.uint16) * 257)[:, :, None], True, False)
    elif kind == "float-tiff":
        return _tiff(grey.astype(np.float32) / 255.0)
    elif kind == "jpeg":
        Image.fromarray(grey).save(buf, format="JPEG")
    else:
        Image.fromarray(grey).save(buf, format="PNG")
    data = buf.getvalue()
    if kind == "damaged":
        data = data[: len(data) // 2]
    return data


# --------------------------------------------------------------------------------------------------
# Option values
# --------------------------------------------------------------------------------------------------

#: Numbers no option should trip over: not a number, infinities, huge, negative, zero, words.
NASTY_NUMBERS = ("nan", "NaN", "inf", "-inf", "1e30", str(10**30), str(2**64), str(2**63), str(2**63 - 1),
                 str(2**32), "-1", "-0", "0", "1e-30", "1e400", "abc", "", " ", "0x10", "1,5", "2.5")


def option_value(sane: st.SearchStrategy[str], nasty: tuple[str, ...] = NASTY_NUMBERS,
                 absent: int = 6) -> st.SearchStrategy[str | None]:
    """An option's value: absent (``absent`` in 10), nasty (1 in 50: a case has a few dozen options, and
    most cases should get as far as the fit), else sane.
    """

    @st.composite
    def pick(draw: st.DrawFn) -> str | None:
        r = draw(st.integers(0, 99))
        if r < 10 * absent:
            return None
        if r < 98:
            return draw(sane)
        return draw(st.sampled_from(nasty))

    return pick()


def floats_text(low: float, high: float) -> st.SearchStrategy[str]:
    return st.floats(low, high, allow_nan=False).map(lambda v: f"{v:g}")


def ints_text(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(str)


def finite(text: str) -> bool:
    """Whether an option's text reads as a finite number."""
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def png_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()
