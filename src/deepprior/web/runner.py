"""One job's fit: the same :func:`~deepprior.restore.restore` as the CLI and the API, watched by the page.

:class:`LiveProgress` is a fit callback: after every iteration it records the iteration, loss and time;
every ``log_every`` iterations a point of the loss and PSNR curves; every ``preview_every`` seconds the
averaged image (as :class:`~deepprior.restore.callbacks.FrameRecorder` takes it) encoded as a PNG. A tiled fit
(the default for large photos) tells it each tile's progress instead, and each restored tile, which it pastes
into the preview over the input.
"""

from __future__ import annotations

import importlib.util
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import io
from ..fit.loop import Fitter, StepState, psnr_from_mse
from ..restore import Problem, restore
from ..restore.callbacks import FrameRecorder, TilePreview, TileTally, default_frames
from .jobs import Job, Live
from .uploads import preview_png


@dataclass(frozen=True)
class Payload:
    """What a job runs: the problem (built when the page asked, so bad input was refused then) and settings."""

    problem: Problem
    settings: dict[str, Any]
    stem: str


class LiveProgress(TilePreview):
    """Writes a running fit's progress into a :class:`~deepprior.web.jobs.Live` for the page.

    Args:
        live: where the page reads it.
        preview_every: seconds between preview images (the first iteration always gives one).
        log_every: iterations between points of the curves.
        start: the input as the page shows it (``H x W x C`` in [0, 1]): a tiled fit's preview starts from it.

    """

    def __init__(self, live: Live, *, preview_every: float = 2.0, log_every: int = 10,
                 start: np.ndarray | None = None) -> None:
        super().__init__(start, preview_every)
        self.live, self.log_every = live, log_every
        self._start = 0.0

    def on_start(self, fitter: Fitter) -> None:
        self.live.total = fitter.config.num_iter
        self._start = time.perf_counter()
        self.last_preview = -float("inf")

    def on_step(self, state: StepState) -> None:
        live, now = self.live, time.perf_counter()
        live.iteration, live.loss, live.seconds = state.iteration, state.loss, now - self._start
        if state.iteration % self.log_every == 0 or state.iteration == 1:
            fitter = state.fitter
            psnr_in = psnr_from_mse(fitter.data_mse(state.average))
            point = {"iteration": state.iteration, "loss": _finite(state.loss),
                     "psnr_input": _finite(round(psnr_in, 3)), "psnr": _finite(fitter.psnr_reference(state.average))}
            live.points = [*live.points, point]  # a new list: the server's thread may be reading the old one
        if now - self.last_preview >= self.preview_every:
            self.last_preview = now
            image = state.fitter.crop(state.fitter.present(state.average)).clamp(0, 1).cpu()
            live.preview = preview_png(io.from_tensor(image))
            live.preview_iteration = state.iteration
            live.preview_version += 1


    # -- a tiled fit ---------------------------------------------------------------------------------------

    def on_tiles(self, count: int, cap: int, output_shape: tuple[int, int]) -> None:
        self._start = time.perf_counter()
        super().on_tiles(count, cap, output_shape)

    def show_tiles(self, tally: TileTally) -> None:
        live = self.live
        live.total, live.iteration = tally.total, tally.iteration
        live.seconds = time.perf_counter() - self._start
        live.tiles = {"count": tally.count, "done": len(tally.restored), "running": sorted(tally.running.items())}

    def show_preview(self, pixels: np.ndarray) -> None:
        self.live.preview = preview_png(pixels)
        self.live.preview_iteration = self.live.iteration
        self.live.preview_version += 1


def _finite(value: float | None) -> float | None:
    import math

    return None if value is None or not math.isfinite(value) else round(value, 6)


class _Frames(FrameRecorder):
    """The animation's frames: about 50 of the fit's resolved iteration cap (known once the fit starts)."""

    def on_start(self, fitter: Fitter) -> None:
        self.iterations = set(default_frames(fitter.config.num_iter))


def curves_available() -> bool:
    """Whether the curves can be drawn: they need matplotlib (the ``viz`` extra)."""
    return importlib.util.find_spec("matplotlib") is not None


def run_job(job: Job, *, preview_every: float = 2.0) -> None:
    """Fit one job and write its files: the image at the input's bit depth (PNG), the report and a preview.

    The curves and the animation are drawn when first downloaded (:attr:`Job.lazy`): matplotlib takes
    seconds to load, which the page need not wait for.
    """
    payload: Payload = job.payload
    work = job.work
    problem = payload.problem
    shown = problem.input_for_score if problem.input_for_score is not None else problem.image.pixels
    live = LiveProgress(job.live, preview_every=preview_every, start=shown)
    frames = _Frames(())
    result = restore(problem, None, **payload.settings, callbacks=[live, frames], cancel=job.cancel, quiet=True)
    image_path = work / f"{payload.stem}_{problem.task}.png"
    result.save(image_path)
    report = result.report()
    report["input"] = payload.stem
    (work / "report.json").write_text(json.dumps(report, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    (work / "preview.png").write_bytes(preview_png(result.image.pixels, result.image.alpha))
    (work / "input.png").write_bytes(preview_png(shown))  # "before": the input as the fit saw it (holes black)
    fit = result.fit

    def curves() -> Path:
        from ..viz import plot_curves

        return plot_curves(fit.history, work / "curves.png", title=f"{problem.task} ({result.preset}, {result.net})",
                           stopped_at=fit.stopped_at, stop_reason=fit.stop_reason)

    def animation() -> Path:
        from ..viz import write_animation

        shown = frames.frames
        if fit.stopped_at and (not shown or shown[-1][0] != fit.stopped_at):
            shown = [*shown, (fit.stopped_at, result.image.pixels)]
        return write_animation(shown, work / "animation.gif")

    job.files = {"image": image_path, "report": work / "report.json", "preview": work / "preview.png",
                 "input": work / "input.png"}
    job.lazy = {**({"animation": animation} if frames.frames else {}),  # a tiled fit records no frames
                **({"curves": curves} if curves_available() and fit.history else {})}
    job.summary = {"stop_reason": fit.stop_reason, "iterations": fit.iterations, "stopped_at": fit.stopped_at,
                   "seconds": round(fit.seconds, 2), "psnr": report["psnr"], "input_psnr": report["input_psnr"],
                   "ssim": report["ssim"], "bit_depth": result.image.bit_depth, "width": result.image.width,
                   "height": result.image.height, "preset": result.preset, "net": result.net,
                   "device": result.device}
