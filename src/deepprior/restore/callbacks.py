"""Callbacks of a restoration: the progress bar, the run-time estimate, snapshots and animation frames."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import io
from ..errors import ConfigError
from ..fit.loop import Callback, FitResult, Fitter, StepState
from ..io import ImageData


class ProgressBar(Callback):
    """A tqdm progress bar: iteration, loss, PSNR when a reference is known, and time left."""

    def __init__(self, total: int, description: str = "") -> None:
        self.total = total
        self.description = description
        self.bar: Any = None

    def on_start(self, fitter: Fitter) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=self.total, desc=self.description, unit="it", dynamic_ncols=True, leave=True)

    def on_step(self, state: StepState) -> None:
        if self.bar is None:
            return
        self.bar.update(1)
        if state.iteration % 10 == 0 or state.iteration == 1:
            post = {"loss": f"{state.loss:.2e}"}
            if state.fitter.reference is not None:
                value = state.fitter.psnr_reference(state.average)
                post["psnr"] = f"{value:.2f}" if value is not None else "-"
            self.bar.set_postfix(post, refresh=False)

    def on_end(self, result: FitResult) -> None:
        if self.bar is not None:
            self.bar.close()


class RunEstimate(Callback):
    """Says, once the first iterations are timed, how long the whole fit may take (to stderr).

    The first ``warmup`` iterations are not counted (allocation, thread start-up); the estimate is the
    mean time of the next ``probe`` iterations times the iterations left. Runs shorter than ``min_seconds``
    in total say nothing.
    """

    def __init__(self, total: int, warmup: int = 2, probe: int = 5, min_seconds: float = 60.0,
                 write: Callable[[str], None] | None = None) -> None:
        self.total, self.warmup, self.probe, self.min_seconds = total, warmup, probe, min_seconds
        self.write = write
        self.message: str | None = None
        self._t0 = 0.0

    def on_step(self, state: StepState) -> None:
        import time

        if state.iteration == self.warmup:
            self._t0 = time.perf_counter()
        elif state.iteration == self.warmup + self.probe:
            per = (time.perf_counter() - self._t0) / self.probe
            total = per * self.total
            if total < self.min_seconds:
                return
            rule = state.fitter.stop.name
            tail = "" if rule == "none" else f" (the {rule} rule usually stops sooner)"
            self.message = (f"about {per:.2f} s per iteration here: up to {self.total} iterations take about "
                            f"{_duration(total)}{tail}; --time-limit caps it")
            if self.write is not None:
                self.write(self.message)
            else:
                from tqdm.auto import tqdm

                tqdm.write(self.message)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class Snapshots(Callback):
    """Saves the averaged image at the given iterations as ``DIR/STEM_000100.png``."""

    def __init__(self, iterations: Sequence[int], folder: Path, stem: str, finish: Callable[[torch.Tensor], ImageData]):
        self.iterations = set(iterations)
        self.folder = folder
        self.stem = stem
        self.finish = finish
        self.saved: list[Path] = []

    def on_start(self, fitter: Fitter) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)

    def on_step(self, state: StepState) -> None:
        if state.iteration in self.iterations:
            image = self.finish(state.fitter.crop(state.average).clamp(0, 1).cpu())
            path = self.folder / f"{self.stem}_{state.iteration:06d}.png"
            io.save_image(path, image)
            self.saved.append(path)


class FrameRecorder(Callback):
    """Keeps the averaged image (cropped, on the CPU) at the given iterations, for an animation."""

    def __init__(self, iterations: Sequence[int]) -> None:
        self.iterations = set(iterations)
        self.frames: list[tuple[int, np.ndarray]] = []

    def on_step(self, state: StepState) -> None:
        if state.iteration in self.iterations:
            image = state.fitter.crop(state.average).clamp(0, 1).cpu()
            self.frames.append((state.iteration, io.from_tensor(image)))


def default_frames(num_iter: int, count: int = 50) -> list[int]:
    """Iterations for an animation when none are given: about ``count`` evenly spaced, the first included."""
    step = max(1, num_iter // count)
    return sorted({1, *range(step, num_iter + 1, step)} & set(range(1, num_iter + 1)))


def snapshot_list(snapshots: Sequence[int] | str | None) -> list[int]:
    if snapshots is None or snapshots == "":
        return []
    if isinstance(snapshots, str):
        try:
            values = [int(s) for s in snapshots.replace(" ", "").split(",") if s]
        except ValueError:
            raise ConfigError(f"snapshots {snapshots!r} is not a comma-separated list of iterations") from None
    else:
        values = [int(s) for s in snapshots]
    if any(v < 1 for v in values):
        raise ConfigError(f"snapshot iterations must be >= 1, got {values}")
    return sorted(set(values))
