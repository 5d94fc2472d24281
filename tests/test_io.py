from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from deepprior import io
from deepprior.errors import InputError


@pytest.mark.parametrize("shape", [(9, 7), (9, 7, 3), (9, 7, 4), (9, 7, 2)])
def test_png_8bit_round_trip(tmp_path, rng, shape):
    a = rng.integers(0, 256, size=shape, dtype=np.uint8)
    img = io.load_image(a)
    p = io.save_image(tmp_path / "x.png", img)
    back = io.load_image(p)
    assert back.bit_depth == 8
    expected = a if a.ndim == 3 else a[:, :, None]
    got = np.concatenate([back.pixels, back.alpha[:, :, None]], 2) if back.alpha is not None else back.pixels
    np.testing.assert_array_equal(np.round(got * 255).astype(np.uint8), expected)


@pytest.mark.parametrize("shape", [(9, 7), (9, 7, 3), (9, 7, 4)])
def test_png_16bit_round_trip(tmp_path, rng, shape):
    a = rng.integers(0, 65536, size=shape, dtype=np.uint16)
    p = io.save_image(tmp_path / "x.png", io.load_image(a))
    back = io.load_image(p)
    assert back.bit_depth == 16
    got = back.pixels if back.alpha is None else np.concatenate([back.pixels, back.alpha[:, :, None]], 2)
    expected = a if a.ndim == 3 else a[:, :, None]
    np.testing.assert_array_equal(np.round(got * 65535).astype(np.uint16), expected)


def test_tiff_16bit_and_jpeg(tmp_path, rng):
    a = rng.integers(0, 65536, size=(6, 5, 3), dtype=np.uint16)
    back = io.load_image(io.save_image(tmp_path / "x.tif", io.load_image(a)))
    assert back.bit_depth == 16
    np.testing.assert_array_equal(np.round(back.pixels * 65535).astype(np.uint16), a)
    b = rng.integers(0, 256, size=(16, 16, 3), dtype=np.uint8)
    j = io.load_image(io.save_image(tmp_path / "x.jpg", io.load_image(b)))
    assert j.pixels.shape == (16, 16, 3) and j.bit_depth == 8


def test_exif_orientation_is_applied(tmp_path):
    a = np.zeros((4, 8, 3), np.uint8)
    a[0, 0] = 255
    im = Image.fromarray(a)
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise for display
    im.save(tmp_path / "r.jpg", exif=exif, quality=100)
    img = io.load_image(tmp_path / "r.jpg")
    assert (img.height, img.width) == (8, 4)


def test_missing_truncated_and_non_image_files(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        io.load_image(tmp_path / "nope.png")
    good = tmp_path / "g.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(good)
    data = good.read_bytes()
    (tmp_path / "t.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="cannot read image"):
        io.load_image(tmp_path / "t.png")
    (tmp_path / "n.png").write_text("hello")
    with pytest.raises(InputError, match="cannot read image"):
        io.load_image(tmp_path / "n.png")
    with pytest.raises(InputError, match="is a folder"):
        io.load_image(tmp_path)


def test_masks_in_every_mode(tmp_path):
    known = np.zeros((5, 6), bool)
    known[1:3, 2:5] = True
    grey = known.astype(np.uint8) * 255
    files = {
        "1bit.png": Image.fromarray(known),
        "grey.png": Image.fromarray(grey),
        "rgb.png": Image.fromarray(np.repeat(grey[:, :, None], 3, 2)),
        "rgba.png": Image.fromarray(np.dstack([np.repeat(grey[:, :, None], 3, 2), np.full((5, 6), 255, np.uint8)])),
    }
    for name, im in files.items():
        im.save(tmp_path / name)
        np.testing.assert_array_equal(io.load_mask(tmp_path / name, height=5, width=6), known, err_msg=name)
    with pytest.raises(InputError, match="mask is 6x5 but the image is 7x5"):
        io.load_mask(tmp_path / "grey.png", height=5, width=7)


def test_mask_threshold_is_128(tmp_path):
    Image.fromarray(np.array([[127, 128]], np.uint8)).save(tmp_path / "m.png")
    np.testing.assert_array_equal(io.load_mask(tmp_path / "m.png", height=1, width=2), [[False, True]])


def test_save_is_atomic_and_checks_folder(tmp_path, monkeypatch):
    with pytest.raises(InputError, match="does not exist"):
        io.save_image(tmp_path / "missing" / "x.png", np.zeros((4, 4), np.uint8))
    with pytest.raises(InputError, match="unknown image format"):
        io.save_image(tmp_path / "x.xyz", np.zeros((4, 4), np.uint8))
    target = tmp_path / "keep.png"
    io.save_image(target, np.full((4, 4), 7, np.uint8))
    before = target.read_bytes()

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(io.write, "_write_file", fail)  # the encoder, inside the atomic write
    with pytest.raises(RuntimeError):
        io.save_image(target, np.zeros((4, 4), np.uint8))
    assert target.read_bytes() == before  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["keep.png"]  # no temporary left behind


def test_jpeg_cannot_hold_alpha(tmp_path):
    with pytest.raises(InputError, match="alpha"):
        io.save_image(tmp_path / "x.jpg", np.zeros((4, 4, 4), np.uint8))


def test_quantize_matches_saved_values(tmp_path, rng):
    x = rng.random((5, 5, 3)).astype(np.float32)
    q = io.quantize(x, 8)
    back = io.load_image(io.save_image(tmp_path / "q.png", io.ImageData(pixels=x)))
    np.testing.assert_array_equal(q, back.pixels)


def test_saved_files_get_ordinary_permissions(tmp_path):
    import os

    p = io.save_image(tmp_path / "m.png", np.zeros((4, 4), np.uint8))
    mask = os.umask(0)
    os.umask(mask)
    assert (p.stat().st_mode & 0o777) == (0o666 & ~mask)


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_tiff_round_trip_is_one_page_with_its_alpha(tmp_path, channels):
    # grey + alpha was once written as a stack of one-row pages (read back as a 95-frame file)
    from deepprior.io.formats import read_header

    a = np.random.default_rng(channels).integers(0, 65536, (19, 7, channels), dtype=np.uint16)
    target = tmp_path / "x.tif"
    io.save_image(target, io.load_image(a))
    header = read_header(target)
    assert (header.width, header.height, header.frames) == (7, 19, 1)
    back = io.load_image(target)
    assert back.bit_depth == 16 and (back.alpha is not None) == (channels in (2, 4))
    assert back.pixels.shape == (19, 7, 1 if channels < 3 else 3)


@pytest.mark.parametrize("name", ["x.png", "x.jpg", "x.xyz", "x"])
def test_tiff_is_read_by_content_whatever_its_name(tmp_path, rng, name):
    # long fuzz run: a 16-bit RGB TIFF named .png went to Pillow, which reads it at 8 bits
    import tifffile

    a = rng.integers(0, 65536, size=(6, 5, 3), dtype=np.uint16)
    tifffile.imwrite(tmp_path / name, a)
    img = io.load_image(tmp_path / name)
    assert img.bit_depth == 16
    np.testing.assert_array_equal(np.round(img.pixels * 65535).astype(np.uint16), a)


def test_webp_is_written_lossless(tmp_path, rng):
    a = rng.integers(0, 256, size=(12, 10, 3), dtype=np.uint8)
    back = io.load_image(io.save_image(tmp_path / "x.webp", a))
    np.testing.assert_array_equal(np.round(back.pixels * 255).astype(np.uint8), a)
