"""Data terms per noise model, their expected residuals, the level estimators, and the noise options."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import deepprior
from deepprior.errors import ConfigError, InputError
from deepprior.fit import FitConfig, Fitter
from deepprior.fit import losses as L
from deepprior.fit.stopping import MethodNoise
from deepprior.nets import SkipConfig, build_net
from deepprior.physics import Identity, make_noise


def _smooth(size: int = 96, channels: int = 3) -> torch.Tensor:
    yy, xx = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    base = 0.15 + 0.6 * (0.5 + 0.5 * torch.sin(3 * xx) * torch.cos(2 * yy))
    return torch.stack([base * (0.8 + 0.1 * c) for c in range(channels)])[None]


@pytest.mark.parametrize("name", ["poisson", "speckle", "mse", "l1"])
def test_every_term_is_minimal_at_the_measurement(name):
    y = _smooth(16)
    x = y.clone().requires_grad_(True)
    term = L.make_loss(name)
    term(x, y, None).backward()
    assert x.grad is not None and float(x.grad.abs().max()) < 1e-6
    worse = term(y + 0.05, y, None)
    assert float(worse) > float(term(y, y, None))


def test_l1_ignores_impulses_that_pull_mse():
    y = torch.full((1, 1, 10, 10), 0.3)
    y[..., :1, :] = 1.0  # 10 % of the pixels are white impulses
    for name, expect in (("l1", 0.3), ("mse", 0.37)):
        c = torch.tensor(0.5, requires_grad=True)
        opt = torch.optim.Adam([c], lr=0.01)
        for _ in range(600):
            opt.zero_grad()
            L.make_loss(name)(c.expand_as(y), y, None).backward()
            opt.step()
        assert abs(float(c.detach()) - expect) < 0.01, (name, float(c.detach()))


@pytest.mark.parametrize(
    ("noise", "level", "term"),
    [("poisson", 30.0, L.PoissonNLL(peak=30.0)), ("salt-pepper", 0.1, L.L1(amount=0.1)),
     ("speckle", 0.2, L.SpeckleNLL(sigma=0.2)), ("gaussian", 25 / 255, L.MSE(sigma=25 / 255))],
)
def test_expected_residual_matches_the_noise(noise, level, term):
    x = _smooth(128)
    g = torch.Generator().manual_seed(0)
    y = make_noise(noise, level)(x, generator=g).clamp(0, 1)
    measured = float(((y - x) ** 2).mean())
    expected = float(term.expected_residual(x).mean())
    assert abs(measured / expected - 1) < 0.05, (measured, expected)


def test_level_estimators():
    x = _smooth(128)
    g = torch.Generator().manual_seed(1)
    peak = L.estimate_poisson_peak(make_noise("poisson", 30.0)(x, generator=g))
    assert 22 < peak < 40
    amount = L.estimate_impulse_amount(make_noise("salt-pepper", 0.1)(x, generator=g))
    assert abs(amount - 0.1) < 0.01
    speckle = L.estimate_speckle_sigma(make_noise("speckle", 0.2)(x, generator=g).clamp(0, 1))
    assert abs(speckle - 0.2) < 0.04


def test_method_noise_takes_the_data_terms_model():
    torch.manual_seed(0)
    net = build_net("skip", in_channels=4, out_channels=3, config=SkipConfig((8, 8), (8, 8), (2, 2)))
    y = make_noise("poisson", 30.0)(_smooth(32), generator=torch.Generator().manual_seed(0))
    rule = MethodNoise("adaptive")
    f = Fitter(net, Identity(), y, config=FitConfig(num_iter=10, input_depth=4), stop=rule,
               loss=L.PoissonNLL(peak=30.0))
    r = f.run()
    assert r.stop_rule["expected_residual"] == "poisson noise model"
    # the threshold is the Poisson expectation sqrt(mean(x) / peak), not a Gaussian sigma
    assert abs(rule.last_threshold - 255 * float((r.image.mean() / 30.0).sqrt())) < 2.0


def test_denoise_resolves_the_noise_and_reports_it(odd_rgb):
    r = deepprior.denoise(odd_rgb, num_iter=2)
    assert r.config["noise"]["model"] == "unknown" and r.config["loss"]["name"] == "mse"
    r = deepprior.denoise(odd_rgb, peak=30, num_iter=2)
    assert r.config["noise"]["model"] == "poisson" and r.config["loss"] == {"name": "poisson", "peak": 30}
    r = deepprior.denoise(odd_rgb, noise="poisson", num_iter=2)
    assert r.config["noise"]["estimated"] is True and r.config["loss"]["peak"] > 0
    r = deepprior.denoise(odd_rgb, noise="salt-pepper", loss="mse", num_iter=2)
    assert r.config["loss"] == {"name": "mse", "sigma": None}
    r = deepprior.denoise(odd_rgb, sigma=25, num_iter=2)
    assert r.config["loss"]["name"] == "mse" and r.config["sigma"] == 25


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [({"noise": "gaussian", "peak": 3}, "--peak does not apply"), ({"sigma": 5, "amount": 0.1}, "one noise level"),
     ({"noise": "pink"}, "unknown noise"), ({"loss": "l2"}, "unknown loss"), ({"amount": 2}, "out of range"),
     ({"noise": "unknown", "sigma": 3}, "--sigma does not apply")],
)
def test_bad_noise_options_are_named(odd_rgb, kwargs, words):
    with pytest.raises(ConfigError, match=words):
        deepprior.denoise(odd_rgb, num_iter=1, **kwargs)


@pytest.mark.slow
def test_l1_beats_mse_on_salt_and_pepper():
    from skimage import data

    clean = data.astronaut()[60:124, 200:264]
    noisy = deepprior.degrade(clean, amount=0.1, seed=0).image
    scores = {}
    for loss in ("mse", "l1"):
        r = deepprior.denoise(noisy, noise="salt-pepper", loss=loss, num_iter=300, stop="none", reference=clean,
                              threads=1)
        scores[loss] = r.psnr
    assert scores["l1"] > scores["mse"] + 1.0, scores


def test_jpeg_and_flash_no_flash_run(tmp_path, odd_rgb, rng):
    path = tmp_path / "c.jpg"
    Image.fromarray(odd_rgb).save(path, quality=20)
    r = deepprior.jpeg(path, num_iter=3)
    assert r.task == "jpeg" and r.image.pixels.shape == odd_rgb.shape and r.config["fit"]["input_depth"] == 3
    assert r.fit.stop_reason == "max_iter"
    flash = rng.integers(0, 256, odd_rgb.shape, dtype=np.uint8)
    r = deepprior.flash_no_flash(flash, odd_rgb, num_iter=2)
    assert r.task == "flash-no-flash" and r.image.pixels.shape == odd_rgb.shape
    assert r.config["fit"]["reg_noise_std"] == 0 and r.config["fit"]["ema"] == 0


def test_flash_no_flash_input_is_the_flash_image(odd_rgb):
    """Two different flash images give two different results: the input is not random noise."""
    a = deepprior.flash_no_flash(np.zeros_like(odd_rgb), odd_rgb, num_iter=1, precision="fp32")
    b = deepprior.flash_no_flash(255 - odd_rgb, odd_rgb, num_iter=1, precision="fp32")
    assert not np.array_equal(a.image.pixels, b.image.pixels)


def test_flash_no_flash_bad_input(odd_rgb):
    with pytest.raises(InputError, match="same size"):
        deepprior.flash_no_flash(odd_rgb[:20], odd_rgb, num_iter=1)
    with pytest.raises(ConfigError, match="coarse input"):
        deepprior.flash_no_flash(odd_rgb, odd_rgb, net="decoder", num_iter=1)


def test_fitter_rejects_a_wrong_input():
    net = build_net("skip", in_channels=4, out_channels=1, config=SkipConfig((8,), (8,), (2,)))
    with pytest.raises(ConfigError, match="network input"):
        Fitter(net, Identity(), torch.rand(1, 1, 8, 8), config=FitConfig(num_iter=1, input_depth=4),
               net_input=torch.rand(1, 3, 8, 8))


@pytest.mark.parametrize(("noise", "level", "term"), [("poisson", 30.0, L.PoissonNLL(peak=30.0)),
                                                      ("speckle", 0.3, L.SpeckleNLL(sigma=0.3))])
def test_expected_residual_accounts_for_clipping_at_white(noise, level, term):
    x = torch.full((1, 3, 128, 128), 0.95)
    y = make_noise(noise, level)(x, generator=torch.Generator().manual_seed(0)).clamp(0, 1)
    measured = float(((y - x) ** 2).mean())
    expected = float(term.expected_residual(x).mean())
    assert abs(measured / expected - 1) < 0.1, (measured, expected)
    assert expected < 0.8 * float(((x * (1 / level if noise == "poisson" else level**2 * x))).mean())


def test_noise_level_function_and_impulses_are_identified_blind():
    x = _smooth(128)
    g = torch.Generator().manual_seed(0)
    assert L.detect_impulses(x) == 0.0
    assert L.detect_impulses(make_noise("salt-pepper", 0.1)(x, generator=g)) > 0.05
    a, b, c = L.estimate_level_function(make_noise("gaussian", 0.1)(x, generator=g))
    assert abs((a + 0.5 * b + 0.25 * c) ** 0.5 - 0.1) < 0.015
    a, b, c = L.estimate_level_function(make_noise("poisson", 30.0)(x, generator=g))
    for v in (0.2, 0.6):  # the curve follows v / peak, not a constant
        assert abs((a + b * v + c * v * v) / (v / 30.0) - 1) < 0.35, (v, a, b, c)


def test_blind_denoise_picks_l1_for_impulses():
    from skimage import data

    clean = data.astronaut()[60:124, 200:264]
    r = deepprior.denoise(deepprior.degrade(clean, amount=0.1, seed=0).image, num_iter=1)
    assert r.config["noise"]["identified"] == "impulses" and r.config["loss"]["name"] == "l1"
    assert r.config["loss"]["skip_impulses"] is True and r.config["stop"]["name"] == "holdout"
    r = deepprior.denoise(deepprior.degrade(clean, peak=30, seed=0).image, num_iter=1)
    assert r.config["noise"]["identified"] == "noise-level function"
    assert r.config["loss"]["name"] == "nlf-weighted"
    assert r.config["stop"]["expected_residual"] == "nlf-weighted noise model"


def test_l1_can_leave_detected_impulses_out_of_the_fit():
    x = _smooth(64)
    y = make_noise("salt-pepper", 0.1)(x, generator=torch.Generator().manual_seed(0))
    mask = L.impulse_mask(y)
    assert mask.shape == (1, 1, 64, 64) and 0.05 < float(mask.float().mean()) < 0.11
    hit = (y != x).any(dim=1, keepdim=True)
    assert bool(hit[mask].all())  # every flagged pixel is an impulse (none of a smooth image is flagged)
    plain, skipping = L.L1(amount=0.1), L.L1(amount=0.1, skip_impulses=True)
    # The clean image is almost a perfect fit once the flagged pixels are left out; not with them in.
    assert float(skipping(x, y, None)) < 0.2 * float(plain(x, y, None))
    assert skipping.auto_stop == "holdout" and plain.auto_stop is None
    assert skipping.expected_residual(x) is None  # no residual to stop on: held-out pixels decide
    w = torch.zeros_like(y)
    w[..., :32] = 1
    assert float(skipping(x, y, w)) < 0.2 * float(plain(x, y, w))  # combines with the fit's own weights


@pytest.mark.parametrize("corner", [(240, 240), (134, 209)])
def test_noise_level_function_follows_the_intensity_on_a_32x32_image(corner):
    from skimage import data

    img = (data.astronaut() if corner == (240, 240) else data.chelsea())[corner[0]:corner[0] + 32,
                                                                         corner[1]:corner[1] + 32]
    x = torch.from_numpy(img.astype(np.float32) / 255).permute(2, 0, 1)[None]
    y = make_noise("speckle", 0.2)(x, generator=torch.Generator().manual_seed(0)).clamp(0, 1)
    a, b, c = L.estimate_level_function(y)
    low, high = ((a + b * v + c * v * v) ** 0.5 for v in (0.3, 0.7))
    assert high > 1.6 * low, (a, b, c)  # speckle's level grows with the intensity: 0.7 / 0.3 = 2.3


def test_weighted_level_function_is_the_heteroscedastic_likelihood():
    g = torch.Generator().manual_seed(0)
    y = torch.rand(1, 3, 16, 16, generator=g)
    flat = L.LevelFunction((0.01, 0.0, 0.0))
    assert flat.name == "mse" and flat.is_mse  # a flat curve is plain MSE
    speckle_like = L.LevelFunction((0.0, 0.0, 0.04))
    assert speckle_like.name == "nlf-weighted" and not speckle_like.is_mse
    ratios = []
    for _ in range(3):
        pred = torch.rand(1, 3, 16, 16, generator=g)
        ratios.append(float(speckle_like(pred, y, None)) / float(L.SpeckleNLL(sigma=0.2)(pred, y, None)))
    assert max(ratios) - min(ratios) < 1e-4 * max(ratios)  # the same weights 1 / x^2 as the speckle term
    unweighted = L.LevelFunction((0.0, 0.0, 0.04), weighted=False)
    pred = torch.rand(1, 3, 16, 16, generator=g)
    assert float(unweighted(pred, y, None)) == pytest.approx(float(((pred - y) ** 2).mean()))


def test_noise_level_function_is_not_inflated_by_texture():
    from skimage import data

    # A textured photograph (hair, the suit's folds): texture must not read as noise. The residual from a
    # 3x3 mean read 26.5-27.0 here; the diagonal wavelet detail reads within one grey level of 25.
    x = torch.from_numpy(data.astronaut()[100:356, 100:356].astype(np.float32) / 255).permute(2, 0, 1)[None]
    y = make_noise("gaussian", 25 / 255)(x, generator=torch.Generator().manual_seed(0))
    a, b, c = L.estimate_level_function(y)
    for v in (0.2, 0.5, 0.8):
        assert abs(255 * (a + b * v + c * v * v) ** 0.5 - 25) < 1.0, (v, a, b, c)
