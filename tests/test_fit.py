from __future__ import annotations

import pytest
import torch

from deepprior.errors import ConfigError
from deepprior.fit import Callback, FitConfig, Fitter, make_input, make_stop_rule
from deepprior.fit.step import restore_weights, snapshot_weights
from deepprior.nets import SkipConfig, SkipNet
from deepprior.physics import Downsample, Identity, Mask, random_mask

TINY = SkipConfig(channels_down=(16, 16, 16), channels_up=(16, 16, 16), channels_skip=(4, 4, 4))


def _image(h=32, w=24, c=3):
    yy, xx = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    chans = [0.5 + 0.4 * torch.sin(6 * xx + k) * torch.cos(4 * yy) for k in range(c)]
    return torch.stack(chans)[None]


def _fit(y, op=None, seed=0, **cfg):
    torch.manual_seed(seed)
    net = SkipNet(8, y.shape[1], TINY)
    config = FitConfig(input_depth=8, **{"num_iter": 30, **cfg})
    return Fitter(net, op or Identity(), y, config=config, seed=seed).run()


def test_fit_lowers_the_error_within_30_iterations():
    x = _image()
    r = _fit(x, ema=0.0)
    first = r.history[0]["loss"]
    assert r.history[-1]["loss"] < 0.5 * first
    assert r.iterations == 30 and r.stopped_at == 30 and r.stop_reason == "max_iter"


def test_fit_is_deterministic_for_a_seed_and_differs_across_seeds():
    x = _image()
    a, b, c = _fit(x, seed=3, num_iter=8), _fit(x, seed=3, num_iter=8), _fit(x, seed=4, num_iter=8)
    assert torch.equal(a.image, b.image)
    assert not torch.equal(a.image, c.image)


def test_averaging_off_returns_the_last_output_and_on_smooths():
    x = _image()
    last = _fit(x, ema=0.0, num_iter=10)
    avg = _fit(x, ema=0.99, num_iter=10)
    assert not torch.equal(last.image, avg.image)


@pytest.mark.parametrize("mode", ["fixed", "accumulate"])
def test_perturbation_modes_run(mode):
    r = _fit(_image(), reg_noise_mode=mode, reg_noise_std=0.05, num_iter=5)
    assert torch.isfinite(r.image).all()


def test_meshgrid_input():
    z = make_input("meshgrid", 2, 4, 6)
    assert z.shape == (1, 2, 4, 6) and float(z.max()) == 1.0
    torch.manual_seed(0)
    net = SkipNet(2, 3, TINY)
    r = Fitter(net, Identity(), _image(), config=FitConfig(num_iter=3, input_type="meshgrid", input_depth=2)).run()
    assert r.iterations == 3


def test_inpainting_loss_ignores_missing_pixels():
    x = _image()
    m = random_mask(32, 24, drop=0.5, generator=torch.Generator().manual_seed(0))
    y_a = x * m
    y_b = y_a + (1 - m) * 0.9  # garbage where the pixels are missing
    a = _fit(y_a, Mask(m), num_iter=5)
    b = _fit(y_b, Mask(m), num_iter=5)
    assert torch.equal(a.image, b.image)


def test_super_resolution_output_is_high_resolution():
    y = _image(8, 6)
    r = _fit(y, Downsample(4), num_iter=3)
    assert r.image.shape == (1, 3, 32, 24)


def test_divergence_guard_restores_weights():
    # An absurd learning rate makes the fit collapse; the guard must notice and restore.
    r = _fit(_image(), lr=50.0, num_iter=20, ema=0.0)
    assert r.guard_restores > 0
    assert torch.isfinite(r.image).all()


def test_guard_snapshot_is_a_copy_that_restores_the_weights_exactly():
    torch.manual_seed(0)
    fitter = Fitter(SkipNet(8, 3, TINY), Identity(), _image(), config=FitConfig(num_iter=2, input_depth=8))
    before = [t.clone() for t in fitter.net.state_dict().values()]
    saved = snapshot_weights(fitter.net)
    with torch.no_grad():
        for p in fitter.net.parameters():
            p.add_(1.0)
    again = snapshot_weights(fitter.net, into=saved)
    assert again is saved  # copied into the same memory, not reallocated
    assert not all(torch.equal(a, b) for a, b in zip(saved, before, strict=True))
    fresh = snapshot_weights(fitter.net)  # kept apart from the weights: changing them leaves the copy alone
    with torch.no_grad():
        for p in fitter.net.parameters():
            p.sub_(1.0)
    assert not all(torch.equal(a, b) for a, b in zip(fresh, before, strict=True))
    restore_weights(fitter.net, fresh)
    assert all(torch.equal(a, b) for a, b in zip(fitter.net.state_dict().values(), fresh, strict=True))
    restore_weights(fitter.net, before)
    assert all(torch.equal(a, b) for a, b in zip(fitter.net.state_dict().values(), before, strict=True))


def test_interrupt_returns_the_current_average():
    class Boom(Callback):
        def on_step(self, state):
            if state.iteration == 4:
                raise KeyboardInterrupt

    torch.manual_seed(0)
    net = SkipNet(8, 3, TINY)
    r = Fitter(net, Identity(), _image(), config=FitConfig(num_iter=50, input_depth=8), callbacks=[Boom()]).run()
    assert r.stop_reason == "interrupted" and r.iterations == 4 and r.stopped_at == 4
    assert r.history[-1]["iteration"] == 4


def test_a_set_cancel_flag_ends_the_fit_with_the_current_average():
    import threading

    flag = threading.Event()

    class SetAt(Callback):  # another thread would set it (a web page's Stop button); here, a callback
        def on_step(self, state):
            if state.iteration == 5:
                flag.set()

    torch.manual_seed(0)
    net = SkipNet(8, 3, TINY)
    r = Fitter(net, Identity(), _image(), config=FitConfig(num_iter=50, input_depth=8), callbacks=[SetAt()],
               cancel=flag).run()
    assert r.stop_reason == "interrupted" and r.iterations == 5 and r.stopped_at == 5
    assert r.history[-1]["iteration"] == 5 and tuple(r.image.shape) == (1, 3, 32, 24)
    unset = Fitter(SkipNet(8, 3, TINY), Identity(), _image(), config=FitConfig(num_iter=6, input_depth=8),
                   cancel=threading.Event()).run()
    assert unset.stop_reason == "max_iter" and unset.iterations == 6


def test_time_limit_stops_early():
    r = _fit(_image(), num_iter=10_000, time_limit=0.5)
    assert r.stop_reason == "time_limit" and r.iterations < 10_000


def test_zero_iterations_returns_the_untrained_output():
    r = _fit(_image(), num_iter=0)
    assert r.iterations == 0 and r.image.shape == (1, 3, 32, 24)


def test_region_crops_the_result():
    torch.manual_seed(0)
    net = SkipNet(8, 3, TINY)
    fit = Fitter(net, Identity(), _image(), config=FitConfig(num_iter=2, input_depth=8), region=(0, 0, 30, 21))
    assert fit.run().image.shape == (1, 3, 30, 21)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_iter": -1}, "iterations"),
        ({"lr": 0}, "learning rate"),
        ({"ema": 1.0}, "averaging"),
        ({"reg_noise_mode": "drift"}, "perturbation"),
        ({"precision": "int8"}, "precision"),
        ({"input_type": "fourier"}, "input type"),
    ],
)
def test_config_errors_name_the_value(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        FitConfig(**kwargs)


def test_unknown_stop_rule():
    with pytest.raises(ConfigError, match="unknown stopping rule"):
        make_stop_rule("psychic")


@pytest.mark.skipif(not hasattr(torch, "compile"), reason="torch.compile is not available")
def test_compiled_network_fits_like_the_module():
    """``compile=True`` runs the same network through torch.compile: same parameters, same trajectory up to
    floating-point reordering."""
    x = _image(16, 16)
    eager = _fit(x, num_iter=4, ema=0.0)
    compiled = _fit(x, num_iter=4, ema=0.0, compile=True)
    start = _fit(x, num_iter=1, ema=0.0)
    moved = float((eager.image - start.image).abs().max())
    assert float((eager.image - compiled.image).abs().max()) < 0.1 * moved  # Adam amplifies rounding a little
    assert abs(eager.history[-1]["loss"] / compiled.history[-1]["loss"] - 1) < 0.01
