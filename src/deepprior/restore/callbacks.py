"""Callbacks of a restoration: the progress bar, the run-time estimate, snapshots and animation frames."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import io
from ..errors import ConfigError
from ..fit.loop import Callback, FitResult, Fitter, StepState
from ..io import ImageData
from ..units import duration

#: Seconds between two progress lines when standard error is not a terminal (a log file, a pipe).
LOG_SECONDS = 10.0


class LogProgress:
    """Progress for a log: a line every ``every`` seconds (and at the end), never a redrawn bar.

    It offers the part of tqdm's interface the restoration uses (``update``, ``set_postfix``, ``write``,
    ``close``), so a log of a long fit holds a line every few seconds rather than one per iteration.

    Example:
        >>> lines = []
        >>> p = LogProgress(100, "denoise", "it", every=3600, write=lines.append)
        >>> p.update(100); p.close()
        >>> lines
        ['denoise: 100/100 it (100%)']

    """

    def __init__(self, total: int, description: str, unit: str, every: float | None = None,
                 write: Callable[[str], None] | None = None) -> None:
        import time

        self.total, self.description, self.unit = total, description, unit
        self.every = LOG_SECONDS if every is None else every
        self.n = 0
        self.postfix: dict[str, str] = {}
        self._write = write
        self._clock = time.monotonic
        self._started = self._last = self._clock()
        self._closed = False

    def write(self, text: str) -> None:
        if self._write is not None:
            self._write(text)
        else:
            logging.getLogger(__name__).info(text)

    def _line(self) -> str:
        share = f" ({100 * self.n / self.total:.0f}%)" if self.total else ""
        extra = "".join(f", {k} {v}" for k, v in self.postfix.items())
        elapsed = self._clock() - self._started
        left = ""
        if 0 < self.n < self.total and elapsed > 0:
            left = f", about {(self.total - self.n) * elapsed / self.n / 60:.1f} min left at this pace"
        return f"{self.description}: {self.n}/{self.total} {self.unit}{share}{extra}{left}"

    def update(self, n: int = 1) -> None:
        self.n += n
        self._tick()

    def set_postfix(self, post: dict[str, str], refresh: bool = False) -> None:
        self.postfix = dict(post)
        self._tick()

    def _tick(self) -> None:
        now = self._clock()
        if now - self._last >= self.every:
            self._last = now
            self.write(self._line())

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.write(self._line())


def progress_bar(total: int, description: str, unit: str) -> Any:
    """A tqdm bar on a terminal; elsewhere (a log, a pipe) a :class:`LogProgress` line every few seconds."""
    import sys

    if not sys.stderr.isatty():
        return LogProgress(total, description, unit)
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, unit=unit, dynamic_ncols=True, leave=True)


class ProgressBar(Callback):
    """A progress bar (a line every few seconds in a log): iteration, loss, PSNR when a reference is known."""

    def __init__(self, total: int, description: str = "") -> None:
        self.total = total
        self.description = description
        self.bar: Any = None

    def on_start(self, fitter: Fitter) -> None:
        self.bar = progress_bar(self.total, self.description, "it")

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
                            f"{duration(total)}{tail}; --time-limit caps it")
            if self.write is not None:
                self.write(self.message)
            else:
                from tqdm.auto import tqdm

                tqdm.write(self.message)


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


class TileWatcher(Callback):
    """A callback that also follows a tiled fit (its tiles run elsewhere: in worker processes or on Ray).

    Given in ``callbacks``, a whole fit calls it as any :class:`~deepprior.fit.loop.Callback`; a tiled fit
    calls these instead, in the restoring thread: the web page and the napari widget show a tiled fit's
    progress and a preview of the finished tiles with them.
    """

    def on_tiles(self, count: int, cap: int, output_shape: tuple[int, int]) -> None:
        """Called once: the number of tiles, each tile's iteration cap, and the output's ``(height, width)``."""

    def on_tile_progress(self, index: int, iteration: int) -> None:
        """Called as a tile's fit goes (every few iterations from a worker process)."""

    def on_tile_done(self, index: int, region: Sequence[int], image: np.ndarray, meta: dict[str, Any]) -> None:
        """Called when a tile is restored (or found in the work folder): ``region`` is ``(top, left, bottom,
        right)`` in the output, ``image`` its pixels (``H x W x C`` in [0, 1]), ``meta`` its summary.
        """


class TileCanvas:
    """A tiled fit's preview: the input (enlarged to the output's size, nearest) with each restored tile pasted
    over it as it comes, for a :class:`TileWatcher` to show (tiles are pasted, not blended: a preview).
    """

    def __init__(self, start: np.ndarray, output_shape: tuple[int, int]) -> None:
        h, w = output_shape
        rows = np.arange(h) * start.shape[0] // h
        cols = np.arange(w) * start.shape[1] // w
        self.pixels = np.array(start[rows][:, cols], np.float32)

    def paste(self, region: Sequence[int], image: np.ndarray) -> None:
        top, left, bottom, right = (int(v) for v in region)
        tile = np.asarray(image, np.float32)
        if tile.ndim == 2:
            tile = tile[:, :, None]
        if tile.shape[:2] != (bottom - top, right - left):
            raise ValueError(f"a tile of {tile.shape[:2]} does not fill its region {list(region)}")
        self.pixels[top:bottom, left:right] = tile[..., :self.pixels.shape[2]]


class TileTally:
    """A tiled fit's progress as the front ends show it: tiles restored, tiles running at their iteration, and
    the iterations so far as the restored tiles' caps plus the running tiles' counts (an upper bound of the work:
    a tile that stops early counts its whole cap). A tile that an interrupt ended is not counted as restored.
    """

    def __init__(self, count: int, cap: int) -> None:
        self.count, self.cap = count, cap
        self.restored: set[int] = set()
        self.running: dict[int, int] = {}

    def progress(self, index: int, iteration: int) -> None:
        self.running[index] = iteration

    def done(self, index: int, meta: dict[str, Any]) -> None:
        self.running.pop(index, None)
        if meta.get("stop_reason") != "interrupted":
            self.restored.add(index)

    @property
    def iteration(self) -> int:
        return len(self.restored) * self.cap + sum(self.running.values())

    @property
    def total(self) -> int:
        return self.count * self.cap

    @property
    def finished(self) -> bool:
        return len(self.restored) == self.count


class TilePreview(TileWatcher):
    """A tiled fit followed for a front end: a :class:`TileTally` of the tiles, and the input with the restored
    tiles pasted over it (:class:`TileCanvas`) shown every ``preview_every`` seconds and when the last tile is
    restored. Subclasses say where the figures go (:meth:`show_tiles`) and the preview (:meth:`show_preview`).

    Args:
        start: the input as the front end shows it (``H x W x C`` in [0, 1]); None: no preview.
        preview_every: seconds between previews.

    """

    def __init__(self, start: np.ndarray | None, preview_every: float) -> None:
        self.tile_input, self.preview_every = start, preview_every
        self.tally = TileTally(0, 0)
        self.canvas: TileCanvas | None = None
        self.last_preview = -float("inf")

    def show_tiles(self, tally: TileTally) -> None:
        """Called at each change of the tiles' progress."""

    def show_preview(self, pixels: np.ndarray) -> None:
        """Called with a new preview (the canvas's pixels, to copy or encode)."""

    def on_tiles(self, count: int, cap: int, output_shape: tuple[int, int]) -> None:
        self.tally, self.last_preview = TileTally(count, cap), -float("inf")
        if self.tile_input is not None:
            self.canvas = TileCanvas(self.tile_input, output_shape)
        self.show_tiles(self.tally)

    def on_tile_progress(self, index: int, iteration: int) -> None:
        self.tally.progress(index, iteration)
        self.show_tiles(self.tally)

    def on_tile_done(self, index: int, region: Sequence[int], image: np.ndarray, meta: dict[str, Any]) -> None:
        self.tally.done(index, meta)
        self.show_tiles(self.tally)
        if self.canvas is None:
            return
        self.canvas.paste(region, image)
        now = time.perf_counter()
        if now - self.last_preview >= self.preview_every or self.tally.finished:
            self.last_preview = now
            self.show_preview(self.canvas.pixels)
