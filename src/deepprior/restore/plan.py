"""The plan of a restoration, said before any fit: the image, the tiles, the iteration cap and stop, and how
long it should take here.

The time is an estimate from a speed measured on this machine: a few timed iterations of the fit's own
network, precision and threads on an input of the size one fit sees (a tile, or a crop of at most 256x256
scaled by the pixel count), kept in a small cache per machine, library versions and configuration, so a
second command answers at once (a speed timed while other work loaded the cores is used once, not kept).
Each fit also pays once for its network's construction and first iterations (timed by the same probe), and
each tile worker for its start-up (:data:`WORKER_START`). With an automatic stop the range runs from
:data:`EARLY_STOP` of the cap's iterations (a fit that stops early) to the cap; with none, both ends are the cap.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..errors import DeepPriorError
from ..fit.loop import Callback, StepState
from ..tiling import tile_grid
from ..units import duration
from .problem import Problem
from .resolve import Resolved

#: The share of the cap at which an automatic stop ends early fits: tiles of 160x160 of the paper's nine
#: images stopped at 900-1900 of 3000 iterations (issue #20's tiled runs, sigma 25); the low end of a range.
EARLY_STOP = 0.3

#: Above this many seconds the plan names the ways to spend less.
LONG_SECONDS = 30 * 60

#: The side of the probe for an untiled fit (scaled to the image by its pixel count).
PROBE_SIDE = 256

#: Iterations of a probe: the first ``PROBE_WARMUP`` are not timed.
PROBE_WARMUP, PROBE_TIMED = 2, 4

#: Fits of at most this many iterations get no estimate: the probe would cost more than the fit.
SHORT_FIT = 3 * (PROBE_WARMUP + PROBE_TIMED)

#: Seconds a tile worker takes to start (a Python interpreter importing PyTorch and deepprior; about 3 s on
#: this project's 2-core machine), counted once per worker.
WORKER_START = 3.0


@dataclass(frozen=True)
class Plan:
    """What a restoration will do and about how long it takes.

    Attributes:
        task: the task.
        width: the output's width.
        height: the output's height.
        tiles: how many tiles (0: the image whole).
        tile_side: the largest tile's side with its overlap (0: whole).
        workers: tiles fitted side by side.
        num_iter: the iteration cap (per tile when tiled).
        stop: the stopping rule.
        seconds_per_iteration: measured here on ``probe`` pixels (a side), for one fit (None: no estimate).
        probe: the probe's side.
        low: the estimate's low end in seconds (an early stop).
        high: its high end (the cap).
        cached: whether the speed came from the cache.
        failed: why there is no estimate (the probe's error), or None.

    """

    task: str
    width: int
    height: int
    tiles: int
    tile_side: int
    workers: int
    num_iter: int
    stop: str
    seconds_per_iteration: float | None
    probe: int
    low: float | None
    high: float | None
    cached: bool
    failed: str | None = None

    def line(self) -> str:
        """The plan in one line, as the command line prints it before the fit."""
        size = f"{self.task} {self.width}x{self.height}"
        if self.tiles:
            at_once = f"{self.workers} at a time, one thread each" if self.workers > 1 else "one at a time"
            how = (f"{self.tiles} tiles of up to {self.tile_side}x{self.tile_side} ({at_once}), at most "
                   f"{self.num_iter} iterations per tile")
        else:
            how = f"whole, at most {self.num_iter} iterations"
        rule = "no automatic stop" if self.stop == "none" else f"stop {self.stop}"
        if self.low is None or self.high is None or self.seconds_per_iteration is None:
            return f"plan: {size}, {how}, {rule}; no time estimate ({self.failed})"
        span = duration(self.high) if self.low == self.high else f"{duration(self.low)} to {duration(self.high)}"
        text = (f"plan: {size}, {how}, {rule}; estimated {span} here "
                f"({self.seconds_per_iteration:.3f} s per iteration at {self.probe}x{self.probe})")
        if self.high > LONG_SECONDS:
            text += "; to spend less: --time-limit SECONDS, fewer --iters, or a GPU (--device cuda)"
        return text


#: Builds the fit of a problem as the restoration does (:func:`~deepprior.restore.run.build_fitter`).
FitterBuilder = Callable[..., tuple[Any, Any, Any]]


def make_plan(problem: Problem, rs: Resolved, *, tile: int | None, overlap: int, workers: int,
              build: FitterBuilder) -> Plan:
    """The plan of fitting ``problem`` as resolved, tiled as given (``tile`` None: whole); ``build`` makes the
    probe's fit as the restoration makes its own.
    """
    h, w = problem.output_shape
    f = problem.factor
    if tile is not None:
        grid = tile_grid(h // f, w // f, tile // f, overlap // f)
        pixels = sum(t.height * t.width for t in grid) * f * f
        tiles, tile_side = len(grid), max(max(t.height, t.width) for t in grid) * f
        workers = max(1, min(workers, len(grid)))
        probe, threads, share = tile_side, (1 if workers > 1 else rs.threads), 1.0 / workers
    else:
        pixels, tiles, tile_side, workers = h * w, 0, 0, 1
        probe, threads, share = min(PROBE_SIDE, max(h, w)), rs.threads, 1.0
    if rs.fit.num_iter <= SHORT_FIT:  # the probe would take longer than the fit
        return Plan(problem.task, w, h, tiles, tile_side, workers, rs.fit.num_iter, rs.stop, None, probe, None,
                    None, False, failed=f"a fit of {SHORT_FIT} iterations or fewer is not timed")
    try:
        per, fixed, cached = _speed(problem, rs, probe, threads, build)
    except (DeepPriorError, RuntimeError, ValueError, NotImplementedError) as exc:  # no estimate, still a fit
        return Plan(problem.task, w, h, tiles, tile_side, workers, rs.fit.num_iter, rs.stop, None, probe, None,
                    None, False, failed=f"the timing probe failed: {type(exc).__name__}: {exc}")
    # every fit pays its network's construction and first iterations once; the workers their start-up
    overhead = fixed * max(1, tiles) * share + (WORKER_START if workers > 1 else 0.0)
    iterating = per / (probe * probe) * pixels * share * rs.fit.num_iter
    high = overhead + iterating
    low = high if rs.stop == "none" else overhead + iterating * EARLY_STOP
    return Plan(problem.task, w, h, tiles, tile_side, workers, rs.fit.num_iter, rs.stop, per, probe, low, high,
                cached)


def cache_path() -> Path:
    """Where measured speeds are kept: ``$DEEPPRIOR_CACHE`` or the user's cache folder."""
    root = os.environ.get("DEEPPRIOR_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "deepprior")
    return Path(root) / "speed.json"


def _speed(problem: Problem, rs: Resolved, side: int, threads: int,
           build: FitterBuilder) -> tuple[float, float, bool]:
    """Seconds per iteration of this fit on a ``side`` x ``side`` input at ``threads``, the seconds one fit
    spends once (its network built, its first iterations' extra), and whether they came from the cache.
    """
    key = _key(problem, rs, side, threads)
    path = cache_path()
    try:
        known = json.loads(path.read_text())
        if not isinstance(known, dict):
            known = {}
    except (OSError, ValueError):
        known = {}
    value = known.get(key)
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value) \
            and value[0] > 0:
        return float(value[0]), max(0.0, float(value[1])), True
    from ..device import available_cores

    busy = os.getloadavg()[0] > available_cores() - threads + 0.5  # others on the cores: time it, keep it not
    per, fixed = _probe(problem, rs, side, threads, build)
    if busy:
        return per, fixed, False
    known[key] = [per, fixed]
    try:
        from .. import io

        path.parent.mkdir(parents=True, exist_ok=True)
        io.write_text_atomic(path, json.dumps(known, indent=0, sort_keys=True))
    except OSError:  # a read-only home: the estimate still holds, measured again next time
        pass
    return per, fixed, False


def _key(problem: Problem, rs: Resolved, side: int, threads: int) -> str:
    """The configuration a speed belongs to: machine, versions, the code of the loop and networks, the fit."""
    from .._version import __version__

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(errors="ignore").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    parts = [__version__, torch.__version__, cpu, str(rs.device), rs.net, repr(rs.net_config), rs.precision,
             str(threads), str(side), str(problem.image.channels), str(rs.fit.channels_last), _code_digest()]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


def _code_digest() -> str:
    """A digest of the fit loop's and the networks' source: a changed loop measures its speed again."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for folder in ("fit", "nets"):
        for file in sorted((package / folder).glob("*.py")):
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


class _Clock(Callback):
    def __init__(self) -> None:
        self.stamps: list[float] = []

    def on_step(self, state: StepState) -> None:
        self.stamps.append(time.perf_counter())


def _probe(problem: Problem, rs: Resolved, side: int, threads: int, build: FitterBuilder) -> tuple[float, float]:
    """Time a few iterations of the fit's network on a ``side`` x ``side`` crop of the measurement: seconds
    per iteration, and the seconds the fit spent once (building its network, its first iterations' extra).
    """
    from dataclasses import replace

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        f = problem.factor
        low_side = max(1, side // f)
        y = problem.y[..., :low_side, :low_side]
        if y.shape[-1] < low_side or y.shape[-2] < low_side:  # a small image: repeat it to the probe's size
            reps = (math.ceil(low_side / y.shape[-2]), math.ceil(low_side / y.shape[-1]))
            y = y.repeat(1, 1, *reps)[..., :low_side, :low_side]
        weights = None if problem.weights is None else torch.ones_like(y[:, :1])
        operator = problem.operator.cropped(0, 0, low_side, low_side)
        crop = replace(problem, y=y, weights=weights, operator=operator, keep_known=False)
        # dataclasses.replace, not FitConfig.updated: that keeps a field given None (the user's time limit)
        probe = replace(rs, fit=replace(rs.fit, num_iter=PROBE_WARMUP + PROBE_TIMED, time_limit=None), stop="none",
                        net_input=None if rs.net_input is None else rs.net_input[..., :side, :side])
        clock = _Clock()
        started = time.perf_counter()
        fitter, _, _ = build(crop, probe, seed=rs.seed, callbacks=[clock], reference=None)
        fitter.run()
        stamps = clock.stamps[PROBE_WARMUP - 1 :]
        if len(stamps) < 2:  # the probe's fit ended early (an interrupt): no speed to tell
            raise RuntimeError(f"the probe ran {len(clock.stamps)} of {PROBE_WARMUP + PROBE_TIMED} iterations")
        per = (stamps[-1] - stamps[0]) / (len(stamps) - 1)
        return per, max(0.0, stamps[0] - started - PROBE_WARMUP * per)
    finally:
        torch.set_num_threads(before)


__all__ = ["EARLY_STOP", "Plan", "cache_path", "make_plan"]
