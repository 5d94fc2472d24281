"""The shared settings: parsed once into typed groups, and each one reaching the single and the batched fit."""

from __future__ import annotations

import dataclasses
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import deepprior
from deepprior.fit.loop import Callback
from deepprior.restore.checks import parse_settings
from deepprior.restore.many import PER_IMAGE
from deepprior.restore.problem import Settings
from deepprior.restore.settings import DEFAULTS, GROUP_OF, RunSettings, TilingSettings

SRC = Path(deepprior.__file__).parent


def _noisy(seed: int, side: int = 16) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(0.5 + rng.normal(0, 0.1, (side, side, 3)), 0, 1)


class _Count(Callback):
    def __init__(self) -> None:
        self.steps = 0

    def on_step(self, state: Any) -> None:
        self.steps += 1


def test_the_api_mapping_and_the_typed_groups_name_the_same_settings() -> None:
    assert set(Settings.__annotations__) == set(GROUP_OF) == set(DEFAULTS)


def test_unknown_settings_are_refused_and_none_means_the_default() -> None:
    with pytest.raises(TypeError, match="unexpected setting 'iters'"):
        RunSettings.from_flat({"iters": 3})
    s = RunSettings.from_flat({"device": None, "overlap": None, "max_pixels": None})
    assert (s.fit.device, s.tiling.overlap, s.runtime.max_pixels) == ("auto", 16, None)


def test_settings_are_frozen_and_replace_makes_an_unchecked_copy() -> None:
    s = parse_settings(None, {"num_iter": 4})
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.fit.num_iter = 5  # type: ignore[misc]
    assert s.checked and not s.replace(seed=1).checked
    assert parse_settings(s) is s  # parsed once: handing it on checks nothing again


def test_one_request_is_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from deepprior.restore import checks

    calls = []
    real = checks.check_settings
    monkeypatch.setattr(checks, "check_settings", lambda s: (calls.append(s), real(s))[1])
    deepprior.denoise(_noisy(0), sigma=25, num_iter=2)
    assert len(calls) == 1


def test_no_string_lookups_of_settings_below_the_entry_points() -> None:
    lookup = re.compile(r"\bs\[\"[a-z_]+\"\]|settings\[\"[a-z_]+\"\]|dict\[str, Any\] *= *merged")
    below = [p for d in ("restore", "fit", "tasks", "nets", "physics") for p in (SRC / d).rglob("*.py")]
    found = [f"{p.relative_to(SRC)}: {m.group(0)}" for p in below for m in lookup.finditer(p.read_text())]
    assert not found, found


#: What each setting changes that a result shows, given to both paths; the others are classified below.
REACHES: dict[str, tuple[Any, Any]] = {
    "preset": ("paper", lambda r: r.preset),
    "net": ("unet", lambda r: r.net),
    "num_iter": (3, lambda r: r.fit.iterations),
    "lr": (0.02, lambda r: r.config["fit"]["lr"]),
    "seed": (7, lambda r: r.seed),
    "device": ("cpu", lambda r: r.device),
    "precision": ("fp32", lambda r: r.precision),
    "threads": (1, lambda r: r.threads),
    "stop": ("none", lambda r: r.config["stop"]["requested"]),
    "time_limit": (1000.0, lambda r: r.config["fit"]["time_limit"]),
}


def test_every_setting_is_classified_for_the_batched_path() -> None:
    tiling = {f.name for f in dataclasses.fields(TilingSettings)}
    others = {"callbacks", "cancel", "quiet", "max_pixels", "tile_map"}  # tested one by one below
    assert set(REACHES) | set(PER_IMAGE) | tiling | others == set(GROUP_OF)


@pytest.mark.parametrize("key", sorted(REACHES))
def test_each_setting_reaches_the_single_and_the_batched_fit(key: str) -> None:
    value, shown = REACHES[key]
    base = {"sigma": 25, "num_iter": 3, "stop": "none", key: value}
    alone = deepprior.denoise(_noisy(0), **base)
    many = deepprior.denoise_many([_noisy(0), _noisy(1)], **base)
    assert shown(alone) == shown(many[0]) == shown(many[1])
    layout = "channels_last"  # a memory layout only, off in a batch by design (restore.many's docstring)
    assert {**alone.config["fit"], layout: None} == {**many[0].config["fit"], layout: None}


def test_callbacks_max_pixels_and_cancel_reach_both_paths() -> None:
    single, batched = _Count(), _Count()
    deepprior.denoise(_noisy(0), sigma=25, num_iter=3, callbacks=[single])
    deepprior.denoise_many([_noisy(0), _noisy(1)], sigma=25, num_iter=3, callbacks=[batched])
    assert single.steps == 3 and batched.steps == 6
    with pytest.raises(deepprior.InputError, match="pixels"):
        deepprior.denoise(_noisy(0), sigma=25, num_iter=3, max_pixels=100)
    with pytest.raises(deepprior.InputError, match="pixels"):
        deepprior.denoise_many([_noisy(0)], sigma=25, num_iter=3, max_pixels=100)
    stop = threading.Event()
    stop.set()
    assert deepprior.denoise(_noisy(0), sigma=25, num_iter=50, cancel=stop).fit.stop_reason == "interrupted"
    assert deepprior.denoise_many([_noisy(0)], sigma=25, num_iter=50, cancel=stop)[0].fit.stop_reason == "interrupted"


@pytest.mark.parametrize(("precision", "layout"), [("fp32", False), ("bf16", True)])
def test_channels_last_only_with_bf16(precision: str, layout: bool) -> None:
    """`fast` asks for channels-last; in float32 it ran 1.24-1.48x slower (layout_time.py), so it is dropped."""
    from deepprior import io
    from deepprior.restore.resolve import resolve
    from deepprior.restore.settings import FitSettings
    from deepprior.tasks import TASKS
    from deepprior.tasks.base import option_values

    image = io.load_image(np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8))
    task = TASKS.get_task("denoise")
    problem = task.build(image, **option_values(task.options, {"sigma": 25}))
    r = resolve(problem, FitSettings(preset="fast", device="cpu", precision=precision, threads=1))
    assert r.fit.precision == precision
    assert r.fit.channels_last is layout
