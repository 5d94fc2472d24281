"""One restoration started from the widget: every slice's problem built first, then fitted in a thread.

:class:`Session` builds each slice's :class:`~deepprior.restore.Problem` with the task registry before any fit
(so bad input is one line in the widget, and no fit starts), then :meth:`Session.run` fits them one by one with
the same :func:`~deepprior.restore.restore` as the command line. :class:`LivePreview` is the fit's callback: it
keeps the iteration and, every ``preview_every`` seconds, the averaged image, which the widget polls from its own
thread. Stop sets the cancel flag the fit reads every iteration: the slice ends at its current image, and the
slices after it are not started (a later Restore continues with them).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..fit.loop import Fitter, StepState
from ..restore import restore
from ..restore.callbacks import TilePreview, TileTally
from ..tasks import build_problem


@dataclass
class Live:
    """What the widget shows while a session runs (written by the fit's thread, read by the widget's)."""

    slice: int = 0
    iteration: int = 0
    total: int = 0
    loss: float | None = None
    preview: np.ndarray | None = None
    preview_version: int = 0
    finished: dict[int, np.ndarray] = field(default_factory=dict)
    stop_reasons: dict[int, str] = field(default_factory=dict)
    iterations: dict[int, int] = field(default_factory=dict)
    tiles: tuple[int, int] | None = None  # a tiled fit: (restored, count)


class LivePreview(TilePreview):
    """Writes a running fit's iteration and, every ``preview_every`` seconds, its averaged image into a
    :class:`Live` (the first iteration always gives one). A tiled fit (a large image) counts its tiles'
    iterations instead, and its preview is the input with the restored tiles pasted over it.
    """

    def __init__(self, live: Live, *, preview_every: float = 1.0, start: np.ndarray | None = None) -> None:
        super().__init__(start, preview_every)
        self.live = live

    def on_start(self, fitter: Fitter) -> None:
        self.live.total, self.live.iteration = fitter.config.num_iter, 0
        self.last_preview = -float("inf")

    def on_step(self, state: StepState) -> None:
        self.live.iteration, self.live.loss = state.iteration, state.loss
        now = time.perf_counter()
        if now - self.last_preview >= self.preview_every:
            self.last_preview = now
            image = state.fitter.crop(state.fitter.present(state.average)).clamp(0, 1)
            self.live.preview = image[0].permute(1, 2, 0).float().cpu().numpy()
            self.live.preview_version += 1

    def show_tiles(self, tally: TileTally) -> None:
        self.live.total, self.live.iteration = tally.total, tally.iteration
        self.live.tiles = (len(tally.restored), tally.count)

    def show_preview(self, pixels: np.ndarray) -> None:
        self.live.preview = pixels.copy()
        self.live.preview_version += 1


class Session:
    """Build the problems of ``slices`` (a stack's indexes) now; fit them in :meth:`run`.

    Args:
        task: the task's name in the registry.
        images: per slice, the task's images (``H x W x C`` floats in [0, 1], in ``Task.inputs``' order).
        options: per slice, the task's options (a mask as a boolean array).
        settings: the shared settings (preset, stop, iterations, seed, ...), checked once here.
        slices: the indexes of the slices to fit (the others are done already, or not asked for).

    """

    def __init__(self, task: str, images: Sequence[Sequence[np.ndarray]], options: Sequence[Mapping[str, Any]],
                 settings: Mapping[str, Any], slices: Sequence[int], *, preview_every: float = 1.0) -> None:
        self.task, self.slices = task, list(slices)
        self.settings = {**settings, "quiet": True}
        self.problems = {i: build_problem(task, list(images[i]), options[i], None, **self.settings)
                         for i in self.slices}
        self.live = Live()
        self.cancel = threading.Event()
        self.preview_every = preview_every

    def run(self) -> Live:
        """Fit every slice in turn (in the caller's thread: the widget's worker); Stop ends the one running."""
        for i in self.slices:
            if self.cancel.is_set():
                break
            self.live.slice = i
            problem = self.problems[i]
            shown = problem.input_for_score if problem.input_for_score is not None else problem.image.pixels
            callback = LivePreview(self.live, preview_every=self.preview_every, start=shown)
            self.live.tiles = None
            result = restore(problem, None, **self.settings, callbacks=[callback], cancel=self.cancel)
            self.live.finished[i] = result.image.pixels
            self.live.stop_reasons[i] = result.fit.stop_reason
            self.live.iterations[i] = result.fit.iterations
        return self.live

    def stop(self) -> None:
        self.cancel.set()


__all__ = ["Live", "LivePreview", "Session"]
