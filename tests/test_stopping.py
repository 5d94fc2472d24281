from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from deepprior.fit import FitConfig, Fitter, make_stop_rule
from deepprior.fit.stopping import MethodNoise, WindowedVariance, clipped_gaussian_mse, estimate_sigma
from deepprior.nets import SkipConfig, SkipNet
from deepprior.physics import Identity

TINY = SkipConfig(channels_down=(16, 16, 16), channels_up=(16, 16, 16), channels_skip=(4, 4, 4))


def _fit(y, rule, num_iter, seed=0, lr=0.01, ema=0.9):
    torch.manual_seed(seed)
    net = SkipNet(8, y.shape[1], TINY)
    cfg = FitConfig(num_iter=num_iter, input_depth=8, lr=lr, ema=ema, reg_noise_std=0.0)
    return Fitter(net, Identity(), y, config=cfg, stop=rule, seed=seed).run()


def _smooth(h=32, w=32):
    yy, xx = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    return (0.5 + 0.3 * torch.sin(4 * xx) * torch.cos(3 * yy)).expand(1, 3, h, w).contiguous()


def test_clipped_gaussian_mse_limits():
    mid = float(clipped_gaussian_mse(torch.tensor([0.5]), 0.05))
    assert mid == pytest.approx(0.05**2, rel=1e-3)
    black = float(clipped_gaussian_mse(torch.tensor([0.0]), 0.1))
    assert black == pytest.approx(0.1**2 / 2, rel=1e-6)  # half the noise is clipped away at 0
    # Monte Carlo check at an intermediate value
    g = torch.Generator().manual_seed(0)
    x = 0.05
    n = torch.randn(400_000, generator=g, dtype=torch.float64) * 0.1
    mc = float(((torch.clamp(x + n, 0, 1) - x) ** 2).mean())
    assert float(clipped_gaussian_mse(torch.tensor([x]), 0.1)) == pytest.approx(mc, rel=0.01)


def test_estimate_sigma_finds_the_noise_level():
    g = torch.Generator().manual_seed(0)
    y = _smooth(128, 128) + torch.randn(1, 3, 128, 128, generator=g) * (20 / 255)
    assert estimate_sigma(y) * 255 == pytest.approx(20, rel=0.1)


def test_estimate_sigma_of_a_flat_image_is_zero_not_nan():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert estimate_sigma(torch.zeros(1, 3, 32, 32)) == 0.0


def test_mns_fires_when_fitting_pure_noise():
    # Fitting pure noise around grey: the residual soon drops below the noise's RMS.
    g = torch.Generator().manual_seed(1)
    sigma = 25.0
    y = 0.5 + torch.randn(1, 3, 32, 32, generator=g) * sigma / 255
    for mode in ("static", "adaptive"):
        r = _fit(y, MethodNoise(mode, sigma=sigma, hits=5), num_iter=3000, lr=0.02, ema=0.0)
        assert r.stop_reason == f"mns-{mode}", mode
        assert r.iterations < 3000
        assert r.stop_rule["last_statistic"] < r.stop_rule["last_threshold"]


def test_mns_does_not_fire_while_still_improving():
    # A noisy image early in its fit: the residual is the noise plus what is not fitted yet, so it stays
    # above the noise level.
    g = torch.Generator().manual_seed(2)
    y = _smooth() + torch.randn(1, 3, 32, 32, generator=g) * 25 / 255
    r = _fit(y, MethodNoise("adaptive", sigma=25.0, hits=5), num_iter=15)
    assert r.stop_reason == "max_iter" and r.iterations == 15
    assert r.stop_rule["last_statistic"] > r.stop_rule["last_threshold"]


def test_wmv_fires_on_a_stationary_fit_and_returns_the_minimum():
    # With a tiny learning rate the outputs barely move: the variance hits its minimum early and the
    # patience runs out well before the cap.
    y = _smooth()
    r = _fit(y, WindowedVariance(window=10, patience=30), num_iter=500, lr=1e-6)
    assert r.stop_reason == "wmv" and r.iterations < 500
    assert r.stopped_at == r.stop_rule["best_iteration"] <= r.iterations - 30


def test_wmv_does_not_fire_while_still_improving():
    r = _fit(_smooth(), WindowedVariance(window=10, patience=30), num_iter=40, lr=0.01)
    assert r.stop_reason == "max_iter"


def test_wmv_running_variance_matches_direct_computation():
    rule = WindowedVariance(window=4, patience=100)
    rule.reset(None)  # type: ignore[arg-type]
    g = torch.Generator().manual_seed(0)
    outs = [torch.rand(1, 2, 3, 3, generator=g) for _ in range(9)]

    class S:
        def __init__(self, i, x):
            self.iteration, self.output, self.average = i, x, x

    for i, x in enumerate(outs, 1):
        rule.update(S(i, x))
    stack = torch.cat(outs[-4:]).double()
    direct = float(((stack - stack.mean(0)) ** 2).mean())
    window_vars = []
    for end in range(4, 10):
        s = torch.cat(outs[end - 4 : end]).double()
        window_vars.append(float(((s - s.mean(0)) ** 2).mean()))
    assert rule.best_var == pytest.approx(min(window_vars), rel=1e-9)
    assert direct == pytest.approx(window_vars[-1])


def test_make_stop_rule_scales_wmv_to_the_budget():
    r = make_stop_rule("wmv", num_iter=1500)
    assert (r.window, r.patience) == (50, 500)
    r = make_stop_rule("wmv", num_iter=3000)
    assert (r.window, r.patience) == (100, 1000)
    assert make_stop_rule("mns-adaptive", sigma=25).sigma == 25


def test_api_stop_rule_reported(odd_rgb):
    import deepprior

    noisy = deepprior.degrade(odd_rgb, sigma=25, seed=0).image
    r = deepprior.denoise(noisy, sigma=25, num_iter=10, stop="mns-adaptive")
    rep = r.report()
    assert rep["config"]["stop"]["name"] == "mns-adaptive"
    assert rep["stop_reason"] in ("max_iter", "mns-adaptive")
    assert not math.isnan(rep["config"]["stop"]["last_statistic"])
    assert np.isfinite(r.image.pixels).all()


def test_auto_resolves_per_task():
    from deepprior import io
    from deepprior.nets import get_entry
    from deepprior.restore.resolve import auto_stop
    from deepprior.tasks import TASKS
    from deepprior.tasks.base import option_values

    image = io.load_image(np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8))
    hole = np.ones((32, 32), bool)
    hole[8:20, 8:20] = False
    given = {"denoise": {"sigma": 25}, "inpaint": {"mask": hole}, "super-resolve": {"scale": 4}, "jpeg": {},
             "deblur": {"kernel": "gaussian:1.6"}}
    expected = {"denoise": "mns-adaptive", "inpaint": "none", "super-resolve": "none", "jpeg": "none",
                "deblur": "none"}
    for name, options in given.items():
        task = TASKS.get_task(name)
        problem = task.build(image, **option_values(task.options, options))
        assert auto_stop("auto", problem, get_entry("skip")) == expected[name]
        assert auto_stop("wmv", problem, get_entry("skip")) == "wmv"  # a named rule is kept
    assert auto_stop("auto", problem, get_entry("decoder")) == "min-loss"  # the network's own rule


def test_auto_is_the_default_and_reported(odd_rgb):
    import deepprior

    r = deepprior.denoise(odd_rgb, num_iter=3)
    assert r.report()["config"]["stop"]["requested"] == "auto"
    assert r.report()["config"]["stop"]["name"] == "mns-adaptive"


def test_min_loss_returns_the_lowest_loss_output_even_at_the_cap():
    import deepprior
    from deepprior.fit.stopping import MinLoss

    rule = MinLoss()
    rule.reset(None)  # type: ignore[arg-type]

    class S:
        def __init__(self, it, loss):
            self.iteration, self.loss, self.restored = it, loss, False
            self.average = torch.full((1, 1, 2, 2), float(it))

    for it, loss in enumerate([0.5, 0.2, 0.3, 0.25], start=1):
        assert rule.update(S(it, loss)) is False
    it, image = rule.chosen()
    assert it == 2 and float(image.mean()) == 2.0 and rule.choose_at_end
    img = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    r = deepprior.denoise(img, net="decoder", num_iter=5)
    assert r.config["stop"]["name"] == "min-loss" and r.fit.stop_reason == "max_iter"
    assert 1 <= r.fit.stopped_at <= 5


def test_holdout_fires_when_fitting_pure_noise_and_keeps_its_pixels_out():
    from deepprior.fit.stopping import HoldOut

    # Pure noise around grey: the held-out pixels are best predicted by grey; as the network starts to
    # reproduce the noise of the fitted pixels, their held-out loss rises and the rule fires.
    g = torch.Generator().manual_seed(1)
    y = 0.5 + torch.randn(1, 3, 32, 32, generator=g) * 0.1
    rule = HoldOut(fraction=0.2, patience=100)
    r = _fit(y, rule, num_iter=3000, lr=0.02, ema=0.0)
    assert r.stop_reason == "holdout" and r.iterations < 3000
    assert r.stopped_at == r.stop_rule["best_iteration"] <= r.iterations - 100
    held = rule.held[0, 0] > 0
    assert 0.1 < float(held.float().mean()) < 0.3
    # the returned image did not fit the held-out pixels' noise
    err = ((r.image - y) ** 2).mean(dim=1)[0]
    assert float(err[held].mean()) > 0.5 * 0.01


def test_holdout_does_not_fire_while_still_improving():
    from deepprior.fit.stopping import HoldOut

    g = torch.Generator().manual_seed(2)
    y = _smooth() + torch.randn(1, 3, 32, 32, generator=g) * 25 / 255
    r = _fit(y, HoldOut(fraction=0.1, patience=50), num_iter=60)
    assert r.stop_reason == "max_iter" and r.iterations == 60


class _Residual:
    """A stand-in fit whose residual RMS drops below the threshold at a chosen iteration."""

    def __init__(self, cross: int, side: int):
        from deepprior.fit.losses import MSE

        self.y, self.weights, self.loss, self.cross = torch.zeros(1, 1, side, side), None, MSE(), cross

    def operator(self, x):
        return x

    def state(self, it):
        from deepprior.fit.loop import StepState

        level = 0.05 if it >= self.cross else 0.2  # 12.75 or 51 on the 0-255 scale
        avg = torch.full(self.y.shape, level)
        return StepState(iteration=it, loss=0.0, output=avg, average=avg, fitter=self)


@pytest.mark.parametrize(("side", "stop_at"), [(32, 320), (64, 368), (128, 440), (256, 920), (512, 1640),
                                               (1024, 1640)])
def test_method_noise_waits_longer_on_larger_images(side, stop_at):
    rule = MethodNoise("static", threshold=25.0)
    fake = _Residual(200, side)
    rule.reset(fake)
    fired = next(it for it in range(1, 3000) if rule.update(fake.state(it)))
    # 25 hits: the first at the crossing (200), then every round(10 sqrt(side / 128)) iterations up to 128,
    # 3 times more for each doubling above (30 at 256), at most 60
    assert fired == stop_at


class _HeldOutCurve:
    """A stand-in fit whose averaged image sits ``10 ** (-psnr(it) / 20)`` from a zero measurement everywhere.

    The held-out squared error then follows the chosen PSNR curve exactly.
    """

    def __init__(self, psnr, num_iter=3000, side=32):
        from types import SimpleNamespace

        from deepprior.fit.losses import MSE

        self.y, self.weights, self.loss, self.psnr = torch.zeros(1, 1, side, side), None, MSE(), psnr
        self.config = SimpleNamespace(num_iter=num_iter)

    def operator(self, x):
        return x

    def state(self, it):
        from deepprior.fit.loop import StepState

        avg = torch.full(self.y.shape, 10 ** (-self.psnr(it) / 20))
        return StepState(iteration=it, loss=0.0, output=avg, average=avg, fitter=self)


def _first_stop(rule, fake, cap=3000):
    rule.reset(fake)
    return next((it for it in range(1, cap + 1) if rule.update(fake.state(it))), None)


def test_holdout_projected_gain_stops_a_noise_free_fit_on_diminishing_returns():
    from deepprior.fit.stopping import HoldOut

    # Pixel restoration: the held-out PSNR rises for the whole run, ever more slowly (30 dB + 6 (1 - e^(-t/600))).
    # Minimum-only holdout never stops; the projected rule stops once 300 iterations' gain, carried on in a
    # straight line to the 3000 cap, is under 0.8 dB: 6 e^(-t/600) (e^(1/2) - 1) (3000 - t) / 300 < 0.8.
    def curve(t):
        return 30 + 6 * (1 - math.exp(-t / 600))

    assert _first_stop(HoldOut(patience=600), _HeldOutCurve(curve)) is None
    rule = HoldOut(patience=600, projected=0.8, window=300)
    fired = _first_stop(rule, _HeldOutCurve(curve))
    expected = next(t for t in range(300, 3001, 10)
                    if 6 * math.exp(-t / 600) * (math.exp(0.5) - 1) * (3000 - t) / 300 < 0.8)
    assert fired == expected and 1000 < fired < 2000
    assert rule.chosen()[0] == fired  # the image at the held-out minimum: the latest check
    assert curve(3000) - curve(fired) < 0.8  # what the straight line promised was left, at most


def test_holdout_projected_gain_does_not_fire_while_gains_hold_up():
    from deepprior.fit.stopping import HoldOut

    # A steady 1 dB per 300 iterations: projected gain (3000 - t) / 300 dB stays over 0.85 until t = 2745.
    fired = _first_stop(HoldOut(patience=600, projected=0.85, window=300), _HeldOutCurve(lambda t: 20 + t / 300))
    assert fired == 2750


def test_auto_stop_for_inpainting_depends_on_the_mask():
    import deepprior
    from deepprior.api import is_scattered

    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    scattered = rng.random((32, 32)) > 0.5
    hole = np.ones((32, 32), bool)
    hole[8:20, 8:20] = False
    assert is_scattered(scattered) and not is_scattered(hole)
    r = deepprior.inpaint(img, mask=scattered, num_iter=20)
    assert r.config["stop"]["name"] == "holdout" and r.config["stop"]["projected"] == 0.8
    r = deepprior.inpaint(img, mask=hole, num_iter=20)
    assert r.config["stop"]["name"] == "none"
    # salt-and-pepper's holdout (its impulses left out: noise-free too) stops on diminishing returns as well
    rule = make_stop_rule("holdout", num_iter=3000)
    assert rule.projected == 0.8 and rule.window == 300 and rule.patience == 600


def test_holdout_projected_gain_counts_the_fitted_pixels_too():
    from deepprior.fit.loop import StepState
    from deepprior.fit.stopping import HoldOut

    # The held-out error levels off at once while the fitted pixels keep improving (as in pixel
    # restoration, where most of the late gain of the whole image is on the pixels the fit sees): the
    # whole-image estimate keeps the fit going.
    rule = HoldOut(fraction=0.2, patience=10**6, projected=0.8, window=300)
    fake = _HeldOutCurve(lambda t: 0.0)
    rule.reset(fake)
    held = rule.held > 0

    def state(t):
        fitted = 20 + 10 * (1 - math.exp(-t / 1000))  # dB
        avg = torch.where(held, torch.tensor(10 ** (-20 / 20)), torch.tensor(10 ** (-fitted / 20)))
        return StepState(iteration=t, loss=0.0, output=avg, average=avg, fitter=fake)

    fired = next((t for t in range(1, 3001) if rule.update(state(t))), None)
    assert fired is not None and fired > 1500  # the held-out error alone would have stopped it at 310
    assert 0.7 < rule._share_fitted < 0.9


def test_inpainting_keeps_the_known_pixels_unless_asked_not_to():
    import deepprior

    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    known = rng.random((32, 32)) > 0.5
    # on the CPU two fits with one seed are bitwise equal (on CUDA only up to rounding: atomics in cuDNN and in
    # bilinear upsampling's backward), which the comparison of the unknown pixels below relies on
    common = {"num_iter": 5, "stop": "none", "reference": img, "device": "cpu"}
    kept = deepprior.inpaint(img, mask=known, **common)
    raw = deepprior.inpaint(img, mask=known, keep_known=False, **common)
    k8 = np.round(kept.image.pixels * 255).astype(int)
    r8 = np.round(raw.image.pixels * 255).astype(int)
    assert (k8[known] == img[known]).all() and not (r8[known] == img[known]).all()
    assert (k8[~known] == r8[~known]).all()  # the same fit: only the known pixels differ
    # the history scores the image as returned
    assert kept.fit.history[-1]["psnr"] > raw.fit.history[-1]["psnr"] + 3
    assert kept.config["keep_known"] and not raw.config["keep_known"]


def test_salt_and_pepper_denoising_keeps_the_pixels_that_are_not_pure_black_or_white():
    import deepprior
    from deepprior.errors import ConfigError
    from deepprior.fit.losses import extreme_mask, impulse_mask

    yy, xx = np.mgrid[0:32, 0:32]
    img = np.stack([40 + 5 * xx, 60 + 4 * yy, 120 + 2 * (xx + yy)], axis=-1).astype(np.uint8)
    img[:, 24:] = 235  # a bright band: salt there is too close to its neighbours for the impulse test
    noisy = deepprior.degrade(img, noise="salt-pepper", amount=0.1, seed=3).image.pixels
    t = torch.from_numpy(noisy).permute(2, 0, 1)[None]
    pure, flagged = extreme_mask(t).numpy()[0, 0], impulse_mask(t).numpy()[0, 0]
    assert 0.08 < pure.mean() < 0.12 and (pure & ~flagged).any()  # some impulses escape the test
    common = {"noise": "salt-pepper", "amount": 0.1, "num_iter": 5, "stop": "none", "reference": img,
              "device": "cpu"}  # two fits bitwise equal: the CPU (see the inpainting test above)
    kept = deepprior.denoise(noisy, **common)
    raw = deepprior.denoise(noisy, keep_known=False, **common)
    k8, r8 = (np.round(r.image.pixels * 255).astype(int) for r in (kept, raw))
    n8 = np.round(noisy * 255).astype(int)
    assert (k8[~pure] == n8[~pure]).all() and not (r8[~pure] == n8[~pure]).all()
    assert (k8[pure] == r8[pure]).all()  # the same fit: the network fills every pure pixel, flagged or not
    assert not (k8[pure & ~flagged] == n8[pure & ~flagged]).all()
    assert kept.config["keep_known"] and not raw.config["keep_known"]
    # noise that touches every pixel has nothing to keep
    assert not deepprior.denoise(noisy, sigma=25, num_iter=2, stop="none").config["keep_known"]
    with pytest.raises(ConfigError, match="keep_known needs a noise that leaves"):
        deepprior.denoise(noisy, sigma=25, num_iter=2, keep_known=True)


def test_holdout_scores_only_entries_returned_as_measured_when_the_fit_keeps_them():
    from deepprior.fit.losses import L1
    from deepprior.fit.stopping import HoldOut

    y = torch.full((1, 1, 32, 32), 0.5)
    y[..., ::3, ::2] = 1.0  # pure white: not exact under salt-and-pepper, so never returned as measured
    net = SkipNet(4, 1, SkipConfig((4,), (4,), (2,)))
    rule = HoldOut(fraction=0.3)
    fitter = Fitter(net, Identity(), y, config=FitConfig(num_iter=1, input_depth=4), stop=rule,
                    loss=L1(skip_impulses=True), keep_known=True)
    rule.reset(fitter)
    pure = (y >= 1).float()
    assert float((rule.held * pure).sum()) == 0 and float(rule.held.sum()) > 50
    assert float(((1 - fitter.weights) * pure).sum()) > 10  # pure pixels were drawn, and left out of the fit


def test_holdout_draws_measured_pixels_even_from_a_mask_made_with_the_same_seed():
    import deepprior
    from deepprior.fit.stopping import HoldOut

    # deepprior.degrade(drop=..., seed=0) and a rule seeded 0 once drew from the same stream: every
    # held-out pixel was a missing one, and the rule could not start.
    img = (np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)
    d = deepprior.degrade(img, drop=0.5, seed=0)
    r = deepprior.inpaint(d.image, mask=d.mask, num_iter=3, stop="holdout", seed=0)
    assert r.config["stop"]["name"] == "holdout"
    rule = HoldOut(fraction=0.1)
    fake = _HeldOutCurve(lambda t: 30.0, side=64)
    fake.weights = torch.from_numpy(d.mask.astype(np.float32))[None, None]
    rule.reset(fake)
    held = rule.held[0, 0] > 0
    assert int(held.sum()) == round(0.1 * int(d.mask.sum()))
    assert bool(torch.from_numpy(d.mask)[held].all())  # only measured pixels are held out


def test_each_rule_config_defaults_are_the_numbers_the_rules_had_built_in():
    from dataclasses import asdict

    from deepprior.fit.stopping import (
        PROJECTED_DB,
        HoldOut,
        HoldOutConfig,
        MethodNoiseConfig,
        MinLoss,
        MinLossConfig,
        WMVConfig,
    )

    assert asdict(WMVConfig()) == {"window": 100, "patience": 1000, "reference_budget": 3000,
                                   "budget_min_window": 20, "budget_min_patience": 100}
    assert asdict(MinLossConfig()) == {"check_every": 1}
    assert asdict(HoldOutConfig()) == {
        "fraction": 0.05, "patience": 300, "check_every": 10, "seed": 0, "projected": None, "window": 300,
        "stream": 0x5DEECE66D, "default_budget": 3000, "budget_patience_divisor": 5, "budget_min_patience": 100,
        "budget_window_divisor": 10, "budget_min_window": 20, "budget_projected": 0.8}
    assert PROJECTED_DB == 0.8
    assert asdict(MethodNoiseConfig()) == {"threshold": None, "static_ratio": 0.978, "hits": 25, "check_every": 10,
                                           "pace_side": 128, "pace_growth": 3.0, "pace_max": 6.0}
    # a rule built without a config carries the defaults, and its keyword arguments override single fields
    rule = WindowedVariance()
    assert (rule.window, rule.patience, rule.config) == (100, 1000, WMVConfig())
    assert WindowedVariance(window=10, config=WMVConfig(patience=7)).config == WMVConfig(window=10, patience=7)
    h = HoldOut()
    assert (h.fraction, h.patience, h.check_every, h.seed, h.projected, h.window) == (0.05, 300, 10, 0, None, 300)
    m = MethodNoise("static")
    assert (m.hits, m.check_every, m.threshold, m.config) == (25, 10, None, MethodNoiseConfig())
    assert MinLoss().config == MinLossConfig()
    assert [MethodNoise.pace(s) for s in (32, 128, 256, 1024)] == [5, 10, 30, 60]
    # make_stop_rule's budget scaling reads the configs
    assert WMVConfig().for_budget(1500) == WMVConfig(window=50, patience=500)
    assert HoldOutConfig().for_budget(None) == HoldOutConfig(patience=600, projected=0.8, window=300)
    assert HoldOutConfig().for_budget(400) == HoldOutConfig(patience=100, projected=0.8, window=40)


def test_configs_reject_bad_values_with_the_rules_messages():
    from deepprior.errors import ConfigError
    from deepprior.fit.stopping import HoldOut, HoldOutConfig, MethodNoiseConfig, MinLossConfig, WMVConfig

    with pytest.raises(ConfigError, match="wmv needs window >= 2"):
        WMVConfig(window=1)
    with pytest.raises(ConfigError, match="wmv needs window >= 2"):
        WindowedVariance(window=1)
    with pytest.raises(ConfigError, match="holdout needs 0 < fraction < 0.5"):
        HoldOut(fraction=0.6)
    with pytest.raises(ConfigError, match="projected must be a positive"):
        HoldOutConfig(projected=0.0)
    with pytest.raises(ConfigError, match="method-noise needs hits >= 1"):
        MethodNoise("static", hits=0)
    with pytest.raises(ConfigError, match="min-loss needs check_every >= 1"):
        MinLossConfig(check_every=0)
    with pytest.raises(ConfigError, match="mode 'sometimes' is unknown"):
        MethodNoise("sometimes", config=MethodNoiseConfig())


class _Curve:
    """Stand-in steps whose outputs fall linearly to iteration 100 and rise after it (the fit's U-turn)."""

    def state(self, it):
        x = torch.full((1, 1, 3, 3), abs(it - 100) / 100)
        return SimpleNamespace(iteration=it, loss=0.0, output=x, average=x, restored=False)


def test_a_shorter_wmv_window_or_patience_from_the_config_stops_sooner():
    from deepprior.fit.stopping import WMVConfig

    def stop(config):
        rule = WindowedVariance(config=config)
        rule.reset(None)  # type: ignore[arg-type]
        return next(it for it in range(1, 1000) if rule.update(_Curve().state(it))), rule.best_iteration

    default = stop(WMVConfig(patience=50))
    shorter = stop(WMVConfig(window=10, patience=50))
    assert shorter[0] < default[0] and shorter[1] < default[1]  # the minimum of a shorter window comes sooner
    assert stop(WMVConfig(patience=20))[0] == default[0] - 30  # the same minimum, 30 fewer iterations of wait


def test_method_noise_and_holdout_configs_change_when_they_fire():
    from deepprior.fit.stopping import HoldOut, HoldOutConfig, MethodNoiseConfig

    def fired(rule, fake):
        rule.reset(fake)
        return next((it for it in range(1, 3000) if rule.update(fake.state(it))), None)

    # 25 hits (the default) at 128x128: the crossing at 200, then 24 checks 10 apart
    assert fired(MethodNoise("static", threshold=25.0), _Residual(200, 128)) == 440
    assert fired(MethodNoise("static", config=MethodNoiseConfig(threshold=25.0, hits=5)), _Residual(200, 128)) == 240
    # at 1024x1024 the wait after the first hit is capped at pace_max times check_every
    assert fired(MethodNoise("static", threshold=25.0), _Residual(200, 1024)) == 200 + 24 * 60
    capped = MethodNoise("static", config=MethodNoiseConfig(threshold=25.0, pace_max=2.0))
    assert fired(capped, _Residual(200, 1024)) == 200 + 24 * 20
    # holdout on a held-out PSNR curve that peaks at 500: the patience of the config sets the wait
    def peak(t):
        return 30 - abs(t - 500) / 100

    assert fired(HoldOut(config=HoldOutConfig(patience=300)), _HeldOutCurve(peak)) == 800
    assert fired(HoldOut(config=HoldOutConfig(patience=100)), _HeldOutCurve(peak)) == 600


def test_min_loss_config_checks_less_often():
    from deepprior.fit.stopping import MinLoss, MinLossConfig

    def best(rule):
        rule.reset(None)  # type: ignore[arg-type]
        for it, loss in enumerate([0.5, 0.3, 0.1, 0.25], start=1):
            rule.update(SimpleNamespace(iteration=it, loss=loss, restored=False, average=torch.zeros(1)))
        return rule.chosen()[0]

    assert best(MinLoss()) == 3
    assert best(MinLoss(config=MinLossConfig(check_every=2))) == 4  # iteration 3 is never looked at


def test_stop_rules_registry_names_are_what_make_stop_rule_accepts():
    from deepprior.errors import ConfigError
    from deepprior.fit import STOP_RULES, StopRule, stop_names

    assert stop_names() == ["auto", "none", "wmv", "mns-static", "mns-adaptive", "min-loss", "holdout"]
    assert list(STOP_RULES) == stop_names()[1:]
    for name in STOP_RULES:
        rule = make_stop_rule(name, sigma=25, num_iter=300)
        assert isinstance(rule, StopRule) and rule.name == name
        assert STOP_RULES[name]().name == name  # every builder works with no arguments too
    with pytest.raises(ConfigError, match="'auto' is resolved by the task"):
        make_stop_rule("auto")  # each task decides what auto means (test_auto_resolves_per_task)
    for name in ("psychic", "AUTO", "mns", "mns-", "wmv ", ""):
        with pytest.raises(ConfigError, match="expected one of auto, none, wmv, mns-static"):
            make_stop_rule(name)


def test_noise_statistics_live_in_physics_and_keep_their_old_names():
    from deepprior.fit import losses, stopping
    from deepprior.physics import stats

    for name in ("estimate_poisson_peak", "estimate_impulse_amount", "estimate_speckle_sigma",
                 "estimate_level_function", "impulse_mask", "extreme_mask", "detect_impulses", "IMPULSE_FRACTION",
                 "_blocks", "_detail_blocks"):
        assert getattr(losses, name) is getattr(stats, name), name
    for name in ("estimate_sigma", "clipped_gaussian_mse", "_normal_cdf", "_normal_pdf"):
        assert getattr(stopping, name) is getattr(stats, name), name


def test_no_import_cycle_through_fit_or_physics_and_the_rules_do_not_import_the_loop():
    import runpy
    from pathlib import Path

    script = runpy.run_path(str(Path(__file__).resolve().parents[1] / "scripts" / "import_cycles.py"))
    graph = script["import_graph"]()
    cycles = [c for c in script["strongly_connected"](graph)
              if any(m.startswith(("deepprior.fit", "deepprior.physics")) for m in c)]
    assert cycles == []
    assert graph["deepprior.fit.stopping.base"]  # the walk sees the imports (even under TYPE_CHECKING)
    for module, targets in graph.items():
        if module.startswith("deepprior.fit.stopping"):
            assert "deepprior.fit.loop" not in targets and "deepprior.fit.losses" not in targets, module
        if module.startswith("deepprior.physics"):
            assert not any(t.startswith("deepprior.fit") for t in targets), module
