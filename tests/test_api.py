from __future__ import annotations

import warnings

import numpy as np
import pytest

import deepprior
from deepprior import io
from deepprior.errors import ConfigError, InputError
from deepprior.metrics import psnr, psnr_y, rgb_to_y, ssim


def test_denoise_keeps_odd_size_grey(rng):
    img = rng.integers(0, 256, (37, 31), dtype=np.uint8)
    r = deepprior.denoise(img, num_iter=3)
    assert r.image.pixels.shape == (37, 31, 1)
    assert r.config["padding"] == {"bottom": 3, "right": 1}
    assert r.fit.iterations == 3 and r.fit.stop_reason == "max_iter"


def test_rgba_alpha_is_carried_through(odd_rgb, rng):
    alpha = rng.integers(0, 256, odd_rgb.shape[:2], dtype=np.uint8)
    r = deepprior.denoise(np.dstack([odd_rgb, alpha]), num_iter=2)
    np.testing.assert_array_equal(np.round(r.image.alpha * 255).astype(np.uint8), alpha)
    assert r.image.pixels.shape == odd_rgb.shape


def test_16bit_in_16bit_out(tmp_path, odd_rgb):
    img16 = odd_rgb.astype(np.uint16) * 257
    r = deepprior.denoise(img16, num_iter=2)
    assert r.image.bit_depth == 16
    out = r.save(tmp_path / "o.png")
    assert io.load_image(out).bit_depth == 16


def test_inpaint_from_alpha_fills_and_makes_opaque(odd_rgb):
    alpha = np.full(odd_rgb.shape[:2], 255, np.uint8)
    alpha[10:20, 5:15] = 0
    r = deepprior.inpaint(np.dstack([odd_rgb, alpha]), num_iter=2)
    assert r.image.alpha is None
    assert r.config["operator"].startswith("Mask(31x37")


def test_inpaint_without_mask_or_alpha_is_an_error(odd_rgb):
    with pytest.raises(InputError, match="needs --mask"):
        deepprior.inpaint(odd_rgb, num_iter=1)


def test_mask_of_another_size(odd_rgb):
    with pytest.raises(InputError, match="mask is 10x10 but the image is 31x37"):
        deepprior.inpaint(odd_rgb, mask=np.ones((10, 10), bool), num_iter=1)


@pytest.mark.parametrize("scale", [2, 4, 8])
def test_super_resolve_output_size(scale, odd_rgb):
    small = odd_rgb[:9, :11]
    r = deepprior.super_resolve(small, scale=scale, num_iter=2)
    assert r.image.pixels.shape == (9 * scale, 11 * scale, 3)


def test_cifar_size_reduces_depth_and_tiny_is_an_error(rng):
    r = deepprior.denoise(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8), num_iter=2)
    assert len(r.config["net_config"]["channels_down"]) == 4
    with pytest.raises(InputError, match="at least 8x8"):
        deepprior.denoise(np.zeros((7, 9), np.uint8), num_iter=1)
    r8 = deepprior.denoise(rng.integers(0, 256, (8, 8), dtype=np.uint8), num_iter=2)
    assert r8.image.pixels.shape == (8, 8, 1)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda im: deepprior.denoise(im, preset="turbo"), ConfigError, "unknown preset 'turbo'"),
        (lambda im: deepprior.denoise(im, preset="paper-pixels"), ConfigError, "is for inpaint"),
        (lambda im: deepprior.denoise(im, num_iter=-1), ConfigError, "iterations -1"),
        (lambda im: deepprior.denoise(im, seed=-2), ConfigError, "seed"),
        (lambda im: deepprior.denoise(im, device="tpu"), ConfigError, "unknown device"),
        (lambda im: deepprior.super_resolve(im, scale=0), ConfigError, "scale 0"),
        (lambda im: deepprior.super_resolve(im, scale=3), ConfigError, "scale 3"),
        (lambda im: deepprior.denoise(im, net="vgg"), ConfigError, "unknown network"),
        (lambda im: deepprior.denoise(im, num_iter=1, reference=np.zeros((5, 5))), InputError, "reference is 5x5"),
    ],
)
def test_bad_arguments_are_named(odd_rgb, call, error, message):
    with pytest.raises(error, match=message):
        call(odd_rgb)


def test_unknown_keyword_is_an_error(odd_rgb):
    with pytest.raises(TypeError):
        deepprior.denoise(odd_rgb, iterations=3)  # type: ignore[call-arg]


def test_reference_gives_psnr_ssim_and_report(odd_rgb):
    noisy = deepprior.degrade(odd_rgb, sigma=25, seed=0).image
    r = deepprior.denoise(noisy, num_iter=10, reference=odd_rgb)
    rep = r.report()
    for key in ("task", "preset", "net", "iterations", "stopped_at", "stop_reason", "seconds", "device",
                "precision", "threads", "seed", "psnr", "ssim", "config", "version", "history"):
        assert key in rep
    assert rep["psnr"] == pytest.approx(psnr(r.image.pixels, odd_rgb / 255.0), abs=1e-3)
    assert {"iteration", "loss", "psnr_input", "psnr"} <= set(rep["history"][0])
    assert rep["history"][-1]["iteration"] == 10


def test_reference_on_an_image_smaller_than_the_ssim_window():
    # SSIM's Gaussian window is 11 pixels: a 10x9 image gets a PSNR and no SSIM, not scikit-image's traceback
    img = np.random.default_rng(0).integers(0, 256, (9, 10, 3), dtype=np.uint8)
    r = deepprior.denoise(img, num_iter=1, reference=img, net="decoder")
    assert r.psnr is not None and r.ssim is None
    with pytest.raises(InputError, match="at least 11x11"):
        ssim(img / 255.0, img / 255.0)


def test_snapshots_are_written(tmp_path, odd_rgb):
    r = deepprior.denoise(odd_rgb, num_iter=5, snapshots="2,4", snapshot_dir=tmp_path / "s")
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["image_000002.png", "image_000004.png"]
    assert r.fit.iterations == 5


def test_degrade_models_and_seed(odd_rgb):
    a = deepprior.degrade(odd_rgb, sigma=25, seed=1).image.pixels
    b = deepprior.degrade(odd_rgb, sigma=25, seed=1).image.pixels
    np.testing.assert_array_equal(a, b)
    for kw in ({"peak": 30}, {"amount": 0.1}, {"noise": "speckle", "sigma": 0.2}, {"drop": 0.5}, {"downscale": 2}):
        out = deepprior.degrade(odd_rgb, seed=0, **kw)
        assert out.image.pixels.min() >= 0 and out.image.pixels.max() <= 1
    d = deepprior.degrade(odd_rgb, drop=0.5, seed=0)
    assert d.mask is not None and (d.image.pixels[~d.mask] == 0).all()
    assert deepprior.degrade(odd_rgb, downscale=2).image.pixels.shape == (18, 15, 3)
    with pytest.raises(ConfigError, match="nothing to do"):
        deepprior.degrade(odd_rgb)
    with pytest.raises(ConfigError, match="one noise level"):
        deepprior.degrade(odd_rgb, sigma=3, peak=4)


def test_degrade_refuses_an_image_of_no_pixels():
    # found by the fuzz suite: a damaged TIFF decoded to 6x0 pixels reached the blur (a raw RuntimeError) or
    # the WebP encoder (a raw MemoryError)
    from deepprior.io import ImageData

    for kw in ({"blur": "motion:5,30"}, {"sigma": 1}):
        with pytest.raises(InputError, match="6x0"):
            deepprior.degrade(ImageData(np.zeros((0, 6, 3), np.float32)), **kw)


def test_metrics_known_values():
    a = np.zeros((16, 16, 3))
    assert psnr(a, a + 0.1) == pytest.approx(20.0)
    assert ssim(a + 0.5, a + 0.5) == pytest.approx(1.0)
    assert rgb_to_y(np.zeros((1, 1, 3)))[0, 0] * 255 == pytest.approx(16.0)
    assert rgb_to_y(np.ones((1, 1, 3)))[0, 0] * 255 == pytest.approx(235.0)
    # Y-channel PSNR with the border cropped ignores differences on the border.
    b = a.copy()
    b[:2] = 1.0
    assert psnr_y(a, b, border=4) == float("inf")
    # A uniform offset of 0.1 in RGB is an offset of 0.1 * 219/255 in Y.
    assert psnr_y(a, a + 0.1) == pytest.approx(-20 * np.log10(0.1 * 219 / 255))


@pytest.mark.slow
def test_denoising_a_photo_gains_3db_in_500_iterations(photo_crop):
    # The core issue's acceptance check: 128x128 crop, sigma 25, --stop none --seed 0, 500 iterations.
    noisy = deepprior.degrade(photo_crop, sigma=25, seed=0).image
    r = deepprior.denoise(noisy, sigma=25, num_iter=500, seed=0, stop="none", reference=photo_crop)
    assert r.fit.iterations == 500
    assert r.psnr - r.input_psnr >= 3.0


@pytest.mark.slow
def test_inpainting_half_the_pixels_gains_3db_in_500_iterations(photo_crop):
    d = deepprior.degrade(photo_crop, drop=0.5, seed=0)
    r = deepprior.inpaint(d.image, mask=d.mask, num_iter=500, seed=0, stop="none", reference=photo_crop)
    assert r.psnr - r.input_psnr >= 3.0


def test_run_estimate_announces_long_runs_only():
    import torch

    from deepprior.api import RunEstimate
    from deepprior.fit import FitConfig, Fitter
    from deepprior.nets import SkipConfig, build_net
    from deepprior.physics import Identity

    said: list[str] = []
    long_run = RunEstimate(10_000_000, min_seconds=1.0, write=said.append)
    short_run = RunEstimate(10, write=said.append)
    net = build_net("skip", in_channels=4, out_channels=1, config=SkipConfig((8,), (8,), (2,)))
    Fitter(net, Identity(), torch.rand(1, 1, 16, 16), config=FitConfig(num_iter=8, input_depth=4),
           callbacks=[long_run, short_run]).run()
    assert len(said) == 1 and "up to 10000000 iterations" in said[0] and "--time-limit" in said[0]
    assert short_run.message is None


def test_float_arrays_on_another_scale_are_refused_naming_range_and_remedy(tmp_path, odd_rgb):
    import tifffile

    cases = [(odd_rgb.astype(np.float64), r"span \d+\.\.\d+; expected \[0, 1\]: .*\(image / 255\) or pass it as uint8"),
             (odd_rgb.astype(np.float32) * 257, r"divide it by 65535 or pass it as uint16"),
             (odd_rgb / 255.0 - 3, r"span -2\.\d+\.\.-2\.\d+; expected \[0, 1\]: scale it into \[0, 1\] first")]
    for array, message in cases:
        with pytest.raises(InputError, match=message):
            deepprior.denoise(array, num_iter=1)
    tifffile.imwrite(tmp_path / "f.tif", odd_rgb.astype(np.float32), photometric="rgb")
    with pytest.raises(InputError, match=r"f\.tif\); expected \[0, 1\]"):
        io.load_image(tmp_path / "f.tif")


def test_float_noise_slightly_outside_0_1_is_clipped_with_a_warning(odd_rgb, rng):
    noisy = odd_rgb / 255.0 + rng.normal(0, 0.2, odd_rgb.shape)  # sigma 51: leaves [0, 1], stays within [-1, 2]
    with pytest.warns(UserWarning, match=r"float image values span -0\.\d+\.\.1\.\d+; expected \[0, 1\]: clipped"):
        img = io.load_image(noisy)
    np.testing.assert_array_equal(img.pixels, np.clip(noisy, 0, 1).astype(np.float32))
    with pytest.warns(UserWarning, match="clipped"):
        assert deepprior.denoise(noisy, num_iter=1).image.pixels.shape == odd_rgb.shape
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert io.load_image(odd_rgb / 255.0).bit_depth == 8  # on [0, 1]: no warning
        for array, depth in [(odd_rgb, 8), (odd_rgb.astype(np.uint16) * 257, 16), (odd_rgb.astype(np.int32), 8),
                             (odd_rgb.astype(np.int64) * 200, 16)]:
            img = io.load_image(array)
            assert img.bit_depth == depth and 0 <= img.pixels.min() and img.pixels.max() <= 1
