"""Batched tiny fits (deepprior.fit.batched, api.denoise_many): each image's result is its own serial fit's.

Two tolerances. With the networks in float64 (``torch.set_default_dtype``) both loops do the same arithmetic,
and the images agree to float32's last bit (the loss and the average are float32): 1e-6. In float32 the
batched convolutions (grouped) round differently from the serial ones, and this network amplifies rounding
(BatchNorm over 2x2 maps): the serial fit itself moves by about as much when only its memory layout changes
(channels-last), so there the test asks for that spread, not for equality.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch

from deepprior.fit.batched import StackedAdam, batch_obstacle, run_batched
from deepprior.fit.config import FitConfig
from deepprior.fit.loop import Fitter
from deepprior.fit.protocols import StepView
from deepprior.fit.stopping import HoldOut, StopRule
from deepprior.nets import SkipConfig, build_net
from deepprior.physics import Identity

NET = SkipConfig((8, 8), (8, 8), (2, 2))


class StopAt(StopRule):
    """Fires at a fixed iteration (so that each image of a batch stops at its own)."""

    name = "stop-at"

    def __init__(self, at: int) -> None:
        self.at = at

    def update(self, state: StepView) -> bool:
        return state.iteration >= self.at


@pytest.fixture
def float64() -> Iterator[None]:
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(torch.float32)


def _images(n: int, size: tuple[int, int] = (16, 20)) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(123)
    return [torch.rand(1, 3, *size, generator=g) for _ in range(n)]


def _fitter(y: torch.Tensor, seed: int, config: FitConfig, stop: StopRule | None = None) -> Fitter:
    torch.manual_seed(seed)
    net = build_net("skip", in_channels=config.input_depth, out_channels=3, config=NET)
    return Fitter(net, Identity(), y, config=config, seed=seed, stop=stop)


def _both(config: FitConfig, stops: list[int] | None = None, rule: type[StopRule] | None = None):  # type: ignore[no-untyped-def]
    ys = _images(3)

    def stop(i: int) -> StopRule | None:
        if stops is not None:
            return StopAt(stops[i])
        return None if rule is None else rule()

    serial = [_fitter(y, i, config, stop(i)).run() for i, y in enumerate(ys)]
    batched = run_batched([_fitter(y, i, config, stop(i)) for i, y in enumerate(ys)])
    return serial, batched


@pytest.mark.usefixtures("float64")
def test_each_image_equals_its_own_fit_and_stops_at_its_own_iteration() -> None:
    config = FitConfig(num_iter=30, input_depth=4, log_every=4)
    serial, batched = _both(config, stops=[7, 30, 13])
    assert [r.iterations for r in batched] == [7, 30, 13]
    for s, b in zip(serial, batched, strict=True):
        assert (b.iterations, b.stopped_at, b.stop_reason) == (s.iterations, s.stopped_at, s.stop_reason)
        np.testing.assert_allclose(b.image.numpy(), s.image.numpy(), rtol=0, atol=1e-6)
        assert [h["iteration"] for h in b.history] == [h["iteration"] for h in s.history]
        np.testing.assert_allclose([h["loss"] for h in b.history], [h["loss"] for h in s.history], rtol=1e-6)


@pytest.mark.usefixtures("float64")
def test_guard_restores_per_image_as_serial() -> None:
    # A high rate and a hair-trigger guard: each image restores its weights at iterations of its own.
    config = FitConfig(num_iter=20, input_depth=4, lr=0.3, guard_drop_db=0.02)
    serial, batched = _both(config)
    restores = [r.guard_restores for r in serial]
    assert sum(restores) > 0
    assert [r.guard_restores for r in batched] == restores
    for s, b in zip(serial, batched, strict=True):
        np.testing.assert_allclose(b.image.numpy(), s.image.numpy(), rtol=0, atol=1e-6)


@pytest.mark.usefixtures("float64")
def test_holdout_rule_changes_each_fit_as_serial() -> None:
    # holdout takes pixels out of each fit's data term and picks the image of its own minimum
    config = FitConfig(num_iter=24, input_depth=4, lr=0.05)
    serial, batched = _both(config, rule=lambda: HoldOut(fraction=0.1, patience=4, check_every=2))  # type: ignore[arg-type,return-value]
    for s, b in zip(serial, batched, strict=True):
        assert (b.iterations, b.stopped_at, b.stop_reason) == (s.iterations, s.stopped_at, s.stop_reason)
        np.testing.assert_allclose(b.image.numpy(), s.image.numpy(), rtol=0, atol=1e-6)


def test_float32_within_the_serial_fits_own_rounding() -> None:
    config = FitConfig(num_iter=25, input_depth=4)
    serial, batched = _both(config, stops=[10, 25, 18])
    layout = [_fitter(y, i, config.updated(channels_last=True), StopAt(s)).run()
              for i, (y, s) in enumerate(zip(_images(3), [10, 25, 18], strict=True))]
    for s, b, c in zip(serial, batched, layout, strict=True):
        assert (b.iterations, b.stopped_at) == (s.iterations, s.stopped_at)
        spread = float((c.image - s.image).abs().max())  # the serial fit against itself, another layout
        diff = float((b.image - s.image).abs().max())
        assert diff < max(4 * spread, 1e-4), (diff, spread)
        assert float((b.image - s.image).abs().mean()) < 2e-3


def test_different_seeds_differ_and_same_seed_agrees() -> None:
    config = FitConfig(num_iter=5, input_depth=4)
    y = _images(1)[0]
    a, b, c = run_batched([_fitter(y, 0, config), _fitter(y, 1, config), _fitter(y, 0, config)])
    assert float((a.image - b.image).abs().max()) > 1e-2
    np.testing.assert_allclose(a.image.numpy(), c.image.numpy(), rtol=0, atol=1e-6)


def test_batch_size_splits_and_keeps_order() -> None:
    config = FitConfig(num_iter=4, input_depth=4)
    ys = _images(3)
    whole = run_batched([_fitter(y, i, config) for i, y in enumerate(ys)])
    split = run_batched([_fitter(y, i, config) for i, y in enumerate(ys)], batch_size=2)
    for a, b in zip(whole, split, strict=True):
        np.testing.assert_allclose(a.image.numpy(), b.image.numpy(), rtol=0, atol=1e-5)


def test_obstacles_are_named() -> None:
    config = FitConfig(num_iter=2, input_depth=4)
    ys = _images(2)
    mixed = [_fitter(ys[0], 0, config), _fitter(ys[1], 1, config.updated(lr=0.02))]
    assert batch_obstacle(mixed) == "the fits' settings differ"
    with pytest.raises(ValueError, match="settings differ"):
        run_batched(mixed)
    sizes = [_fitter(ys[0], 0, config), _fitter(_images(1, (16, 16))[0], 1, config)]
    assert batch_obstacle(sizes) == "the images differ in size"
    layout = [_fitter(y, i, config.updated(channels_last=True)) for i, y in enumerate(ys)]
    assert "channels-last" in (batch_obstacle(layout) or "")
    half = [_fitter(y, i, config.updated(precision="bf16")) for i, y in enumerate(ys)]
    assert "autocast does not reach inside" in (batch_obstacle(half) or "")
    grow = build_net("pg", in_channels=4, out_channels=3)
    assert "grows" in (batch_obstacle([Fitter(grow, Identity(), ys[0], config=config)]) or "")


def test_stacked_adam_is_torch_adam_per_row() -> None:
    g = torch.Generator().manual_seed(0)
    w = torch.randn(3, 4, 5, generator=g, requires_grad=True)
    rows = [w[i].detach().clone().requires_grad_(True) for i in range(3)]
    stacked = StackedAdam([w], lr=0.01)
    single = [torch.optim.Adam([r], lr=0.01) for r in rows]
    for k in range(6):
        grad = torch.randn(3, 4, 5, generator=g)
        skip = [False, k in (1, 2), k == 4]
        w.grad = grad.clone()
        stacked.step(skip=skip)
        for i, r in enumerate(rows):
            if not skip[i]:
                r.grad = grad[i].clone()
                single[i].step()
    for i, r in enumerate(rows):
        assert torch.equal(w[i].detach(), r.detach())  # bit for bit
    assert stacked.steps == [6, 4, 5]


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    torch.set_num_threads(1)  # after conftest's 2: the shared development machine
    yield


def _noisy(n: int, side: int = 32) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:side, 0:side]
    clean = [(np.sin(xx / (3.0 + k)) * 0.3 + 0.5)[..., None].repeat(3, axis=2) for k in range(n)]
    return [np.clip(c + rng.normal(0, 25 / 255, c.shape), 0, 1) for c in clean]


def test_denoise_many_matches_denoise_alone() -> None:
    import deepprior

    images = [*_noisy(2), _noisy(1, side=24)[0]]  # two of one size (a batch), one of another (alone)
    opts = {"sigma": 25, "num_iter": 12, "preset": "fast", "precision": "fp32", "stop": "none"}
    many = deepprior.denoise_many(images, seeds=[0, 1, 2], **opts)  # type: ignore[arg-type]
    alone = [deepprior.denoise(img, seed=i, **opts) for i, img in enumerate(images)]  # type: ignore[arg-type]
    assert [r.config["batch"]["batched"] for r in many] == [True, True, False]
    assert many[2].config["batch"]["reason"] == "no other image of its size and settings"
    for m, a in zip(many, alone, strict=True):
        assert m.fit.iterations == a.fit.iterations == 12
        diff = np.abs(m.image.pixels.astype(float) - a.image.pixels.astype(float)).max()
        assert diff <= 0.03, diff  # float32 rounding, as above (pixels on [0, 1])


def test_denoise_many_refuses_one_file_settings() -> None:
    import deepprior

    with pytest.raises(deepprior.ConfigError, match="save each Restoration"):
        deepprior.denoise_many(_noisy(2, 16), sigma=25, output="x.png")
    with pytest.raises(deepprior.ConfigError, match="seeds has 1 entries for 2 images"):
        deepprior.denoise_many(_noisy(2, 16), sigma=25, seeds=[0])


def test_denoise_many_honours_the_cancel_flag() -> None:
    import threading

    import deepprior
    from deepprior.fit.loop import Callback

    cancel = threading.Event()

    class SetAtFive(Callback):
        def on_step(self, state) -> None:  # type: ignore[no-untyped-def]
            if state.iteration == 5:
                cancel.set()

    opts = {"sigma": 25, "num_iter": 500, "preset": "fast", "precision": "fp32", "stop": "none"}
    many = deepprior.denoise_many(_noisy(3), cancel=cancel, callbacks=[SetAtFive()], **opts)  # type: ignore[arg-type]
    assert [r.config["batch"]["batched"] for r in many] == [True] * 3
    assert [(r.fit.stop_reason, r.fit.iterations) for r in many] == [("interrupted", 5)] * 3
