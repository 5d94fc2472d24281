from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

import deepprior
from deepprior import io
from deepprior.errors import ConfigError
from deepprior.metrics import psnr
from deepprior.tiling import (
    Blender,
    boundaries,
    parse_memory,
    seam_energy_ratio,
    split_and_blend,
    tile_grid,
    tile_weights,
)


@pytest.mark.parametrize(("h", "w", "tile", "overlap"), [(301, 257, 64, 16), (100, 100, 128, 16), (65, 130, 32, 0),
                                                         (97, 33, 40, 12)])
def test_weights_sum_to_one_and_identity_is_exact(h, w, tile, overlap):
    total = np.zeros((h, w))
    for t, wts in tile_weights(h, w, tile, overlap):
        assert wts.shape == (t.height, t.width) and (wts >= 0).all()
        total[t.top : t.bottom, t.left : t.right] += wts
    np.testing.assert_allclose(total, 1.0, atol=1e-12)
    img = np.random.default_rng(0).random((h, w, 3)).astype(np.float32)
    np.testing.assert_array_equal(split_and_blend(img, tile, overlap, lambda x: x), img)


def test_functional_and_blender_agree():
    img = np.random.default_rng(1).random((90, 70, 1)).astype(np.float32)
    blender = Blender(90, 70, 1)
    for t, wts in tile_weights(90, 70, 32, 8):
        blender.add(t, img[t.top : t.bottom, t.left : t.right] * 2, wts)
    np.testing.assert_allclose(blender.result(), split_and_blend(img, 32, 8, lambda x: x * 2), rtol=1e-6)


def test_grid_properties():
    assert boundaries(300, 128) == [0, 100, 200, 300]
    tiles = tile_grid(300, 100, 128, 16)
    assert len(tiles) == 3 and tiles[0].bottom == 116 and tiles[-1].top == 184
    with pytest.raises(ConfigError, match="cannot hold an overlap"):
        tile_grid(100, 100, 20, 16)


def test_parse_memory():
    assert parse_memory("4GB") == 4 * 10**9
    assert parse_memory("2GiB") == 2 * 2**30
    assert parse_memory("512M") == 512 * 2**20
    assert parse_memory(1000) == 1000
    with pytest.raises(ConfigError, match="not understood"):
        parse_memory("lots")


def test_seam_metric_sees_seams():
    from skimage import data

    img = data.camera()[:256, :256, None] / 255.0
    clean = split_and_blend(img, 64, 8, lambda x: x)
    assert 0.5 < seam_energy_ratio(clean, 64, 8) < 2.0
    rng = np.random.default_rng(0)
    seamy = split_and_blend(img, 64, 0, lambda x: np.clip(x + rng.normal(0, 0.1), 0, 1))
    assert seam_energy_ratio(seamy, 64, 0) > 3.0


@pytest.mark.slow
def test_tiled_fit_close_to_untiled(photo_crop):
    # An image that fits both ways: tiled and untiled fits of the same budget land within 2 dB (measured here:
    # 25.7 dB whole, 27.2 dB tiled: the small tiles fit faster in the same number of iterations).
    clean = photo_crop[:64, :64]
    noisy = deepprior.degrade(clean, sigma=25, seed=0).image
    whole = deepprior.denoise(noisy, num_iter=300, reference=clean)
    tiled = deepprior.denoise(noisy, num_iter=300, reference=clean, tile=32, overlap=8)
    assert tiled.config["tiling"]["tile"] == 32 and len(tiled.config["tiling"]["tiles"]) == 4
    assert tiled.psnr > tiled.input_psnr + 2
    assert abs(whole.psnr - tiled.psnr) < 2.0, (whole.psnr, tiled.psnr)


def test_tiled_inpaint_and_super_resolve(odd_rgb):
    d = deepprior.degrade(odd_rgb, drop=0.3, seed=0)
    r = deepprior.inpaint(d.image, mask=d.mask, num_iter=2, tile=16, overlap=4)
    assert r.image.pixels.shape == odd_rgb.shape
    sr = deepprior.super_resolve(odd_rgb[:20, :18], scale=2, num_iter=2, tile=16, overlap=4)
    assert sr.image.pixels.shape == (40, 36, 3)
    with pytest.raises(ConfigError, match="must divide by 2"):
        deepprior.super_resolve(odd_rgb[:20, :18], scale=2, num_iter=1, tile=15, overlap=4)


def test_automatic_tiling_under_a_memory_budget(odd_rgb):
    r = deepprior.denoise(odd_rgb, num_iter=1, max_memory="100MB")  # below the libraries alone
    assert r.config["tiling"] is not None and r.image.pixels.shape == odd_rgb.shape
    assert deepprior.denoise(odd_rgb, num_iter=1).config["tiling"] is None


def test_resume_after_interrupt_gives_the_same_image(tmp_path, odd_rgb, monkeypatch):
    from deepprior.restore import tiled

    # bitwise equal on the CPU (on CUDA two fits with one seed agree only up to rounding: atomics in cuDNN and
    # in bilinear upsampling's backward)

    ref = deepprior.denoise(odd_rgb, device="cpu", num_iter=3, tile=16, overlap=4, work_dir=tmp_path / "a")
    calls = {"n": 0}
    original = tiled.FitResult

    def interrupted_after_two(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            kwargs["stop_reason"] = "interrupted"
        return original(*args, **kwargs)

    import deepprior.fit.loop as loop

    monkeypatch.setattr(loop, "FitResult", interrupted_after_two)
    # one thread: the tiles are fitted in this process, where the patch acts
    partial = deepprior.denoise(odd_rgb, device="cpu", num_iter=3, tile=16, overlap=4, work_dir=tmp_path / "b",
                                threads=1)
    monkeypatch.undo()
    assert partial.fit.stop_reason == "interrupted"
    assert len(list((tmp_path / "b").glob("tile_*.npy"))) == 2
    with pytest.raises(ConfigError, match="--resume"):
        deepprior.denoise(odd_rgb, device="cpu", num_iter=3, tile=16, overlap=4, work_dir=tmp_path / "b")
    with pytest.raises(ConfigError, match="another job"):
        deepprior.denoise(odd_rgb, device="cpu", num_iter=4, tile=16, overlap=4, work_dir=tmp_path / "b", resume=True)
    resumed = deepprior.denoise(odd_rgb, device="cpu", num_iter=3, tile=16, overlap=4, work_dir=tmp_path / "b",
                                resume=True)
    np.testing.assert_array_equal(resumed.image.pixels, ref.image.pixels)


def test_kill_9_then_resume_matches_uninterrupted_run(tmp_path, odd_rgb):
    src = tmp_path / "in.png"
    Image.fromarray(np.tile(odd_rgb, (2, 2, 1))).save(src)
    common = [sys.executable, "-m", "deepprior.cli", "denoise", str(src), "--iters", "25", "--tile", "16",
              "--overlap", "4", "-q", "--device", "cpu"]  # bitwise only on the CPU (see above)
    subprocess.run([*common, "-o", str(tmp_path / "full.png"), "--work-dir", str(tmp_path / "w1")], check=True)
    work = tmp_path / "w2"
    proc = subprocess.Popen([*common, "-o", str(tmp_path / "part.png"), "--work-dir", str(work)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while len(list(work.glob("tile_*.npy"))) < 3:
        assert proc.poll() is None and time.time() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list(work.glob("tile_*.npy")))
    n_tiles = len(list((tmp_path / "w1").glob("tile_*.npy")))
    assert json.loads((tmp_path / "w1" / "manifest.json").read_text())["tile"] == 16
    assert 3 <= done < n_tiles
    subprocess.run([*common, "-o", str(tmp_path / "resumed.png"), "--work-dir", str(work), "--resume"], check=True)
    a = io.load_image(tmp_path / "full.png").pixels
    b = io.load_image(tmp_path / "resumed.png").pixels
    np.testing.assert_array_equal(a, b)
    assert psnr(a, b) == float("inf")
