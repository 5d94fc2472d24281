"""The tiled fit: each tile restored by a fresh network, blended, saved as it finishes, resumable.

Peak memory is bounded by the tile size: one tile's network, input and optimiser live at a time, and the
image-sized state is the input, the running blend (float64 sums) and the output.
"""

from __future__ import annotations

import hashlib
import io as _bytesio
import json
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import io
from ..errors import ConfigError, InputError
from ..fit.loop import Callback, FitResult, StepState
from ..fit.protocols import CancelFlag
from ..tiling import Blender, Tile, tile_weights
from .callbacks import TileWatcher
from .problem import Problem
from .resolve import Resolved
from .tile_pool import mapped_tiles, parallel_tiles, serial_tiles

#: How a tile is fitted: ``fit(problem, resolved, seed=, callbacks=, reference=) -> (FitResult, ...)``;
#: the restoration layer passes its own untiled fit.
FitFunction = Callable[..., tuple[FitResult, Any, Any]]

_log = logging.getLogger(__name__)


def _cut(job: Problem, t_lr: Tile) -> Problem:
    from dataclasses import replace

    sl = (..., slice(t_lr.top, t_lr.bottom), slice(t_lr.left, t_lr.right))
    y = job.y[sl]
    weights = None if job.weights is None else job.weights[sl]
    try:
        operator = job.operator.cropped(t_lr.top, t_lr.left, t_lr.bottom, t_lr.right)
    except InputError as exc:
        raise InputError(f"tile {t_lr.index} ({t_lr.width}x{t_lr.height} at {t_lr.left},{t_lr.top}): {exc}; "
                         "use a larger --tile") from None
    return replace(job, y=y, weights=weights, operator=operator)


#: A parallel map for the tiles (``tile_map(fit_tile, [args, ...])`` yields ``fit_tile(*args)`` for each, in
#: order): Ray's, for a batch on a cluster (:mod:`deepprior.batch.ray_backend`).
TileMap = Callable[[Callable[..., Any], list[tuple[Any, ...]]], Any]


class _Iterations(Callback):
    """Tells ``progress`` the iteration after each step of a tile's fit."""

    def __init__(self, progress: Callable[[int], None]) -> None:
        self.progress = progress

    def on_step(self, state: StepState) -> None:
        self.progress(state.iteration)


def fit_tile(part: Problem, st: Resolved, seed: int, fit: FitFunction, index: int, region: list[int],
             cancel: CancelFlag | None = None, progress: Callable[[int], None] | None = None,
             ) -> tuple[np.ndarray, dict[str, Any]]:
    """Fit one cut-out tile: its image and its summary (picklable, for a worker elsewhere); ``cancel``
    ends its fit early, as Ctrl-C does; ``progress`` is told the iteration after each step.
    """
    extra = {} if cancel is None else {"cancel": cancel}
    callbacks = () if progress is None else (_Iterations(progress),)
    result, _, _ = fit(part, st, seed=seed, callbacks=callbacks, reference=None, **extra)
    meta = {"index": index, "region": region, "iterations": result.iterations, "stopped_at": result.stopped_at,
            "stop_reason": result.stop_reason, "seconds": round(result.seconds, 2)}
    return io.from_tensor(result.image), meta


def _fallback(job: Problem, t: Tile, t_lr: Tile) -> np.ndarray:
    """What an unfinished tile shows after an interrupt: the measurement, enlarged if needed."""
    lr = io.from_tensor(job.y[..., t_lr.top : t_lr.bottom, t_lr.left : t_lr.right])
    f = job.factor
    return np.repeat(np.repeat(lr, f, axis=0), f, axis=1)[: t.height, : t.width]


class WorkDir:
    """Finished tiles on disk: ``tile_00012.npy`` (the pixels) after ``tile_00012.json`` (its summary), and a
    ``manifest.json`` holding the job's fingerprint (:func:`_signature`: input, task, settings, tile grid).

    A folder of another job, a damaged manifest, or tiles without a manifest are refused (:class:`ConfigError`,
    before any fit); a damaged or foreign tile file is named through ``warn`` and its tile recomputed.
    """

    MANIFEST = "manifest.json"

    def __init__(self, path: str | Path, signature: dict[str, Any], resume: bool,
                 warn: Callable[[str], None] = lambda text: logging.getLogger(__name__).warning(text)) -> None:
        self.path = Path(path)
        self.warn = warn
        if self.path.exists() and not self.path.is_dir():
            raise ConfigError(f"work folder {self.path} is a file; expected a folder")
        self.path.mkdir(parents=True, exist_ok=True)
        manifest = self.path / self.MANIFEST
        if manifest.exists():
            if not resume:
                raise ConfigError(f"work folder {self.path} holds tiles of an earlier run; pass --resume to "
                                  "continue it, or use an empty folder")
            old = self._read_manifest(manifest)
            if old != signature:
                changed = sorted(k for k in set(old) | set(signature) if old.get(k) != signature.get(k))
                raise ConfigError(f"work folder {self.path} belongs to another job (differs in: "
                                  f"{', '.join(changed)}); use an empty folder")
        else:
            stray = sorted(p.name for p in self.path.glob("tile_*.npy"))
            if stray:
                raise ConfigError(f"work folder {self.path} holds tile files ({stray[0]}, ...) but no "
                                  f"{self.MANIFEST}, so they cannot be matched to this job; use an empty folder")
            io.write_text_atomic(manifest, json.dumps(signature, indent=1, sort_keys=True) + "\n")

    def _read_manifest(self, manifest: Path) -> dict[str, Any]:
        try:
            old = json.loads(manifest.read_text())
        except (OSError, ValueError) as exc:  # ValueError: bad JSON, bad UTF-8
            raise ConfigError(f"work folder {self.path}: {manifest.name} is damaged ({_short(exc)}), so its "
                              "tiles cannot be matched to this job; use an empty folder") from None
        if not isinstance(old, dict):
            raise ConfigError(f"work folder {self.path}: {manifest.name} is not a deepprior manifest; "
                              "use an empty folder")
        return old

    def tile_path(self, index: int) -> Path:
        return self.path / f"tile_{index:05d}.npy"

    def load(self, tile: Tile, channels: int) -> tuple[np.ndarray, dict[str, Any]] | None:
        """The saved pixels and summary of ``tile``, or None when it has none or its files are unusable
        (then a warning names the file, and the tile is recomputed and saved over it).
        """
        p = self.tile_path(tile.index)
        if not p.exists():
            return None
        bad, summary = p, p.with_suffix(".json")
        problem: str | None
        # untrusted files: whatever fails in reading them (OSError, ValueError, EOFError, BadZipFile, ...), the
        # tile is recomputed
        try:
            meta = json.loads(summary.read_text())
        except Exception as exc:  # noqa: BLE001
            bad, problem = summary, f"is damaged ({_short(exc)})"
        else:
            try:
                image = np.load(p, allow_pickle=False)
            except Exception as exc:  # noqa: BLE001
                problem = f"is damaged or not a tile ({_short(exc)})"
            else:
                problem = _tile_problem(image, meta, tile, channels)
                if problem is None:
                    return image.astype(np.float32, copy=False), meta
        self.warn(f"warning: work folder file {bad} {problem}; recomputing tile {tile.index}")
        return None

    def save(self, index: int, image: np.ndarray, meta: dict[str, Any]) -> None:
        io.write_text_atomic(self.tile_path(index).with_suffix(".json"), json.dumps(meta) + "\n")
        buffer = _bytesio.BytesIO()
        np.save(buffer, image)
        io.write_bytes_atomic(self.tile_path(index), buffer.getvalue())  # last: its presence marks the tile done


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= 80 else text[:77] + "..."


def _tile_problem(image: Any, meta: Any, tile: Tile, channels: int) -> str | None:
    """Why a loaded tile file cannot be this job's ``tile``, or None when it can."""
    if not isinstance(image, np.ndarray) or not np.issubdtype(image.dtype, np.floating):
        return "is not an array of pixels"
    expected = (tile.height, tile.width, channels)
    if image.shape != expected:
        return f"holds {'x'.join(map(str, image.shape))} values, expected {'x'.join(map(str, expected))}"
    if not np.isfinite(image).all() or image.min() < 0 or image.max() > 1:
        return "holds values outside [0, 1]"
    region = [tile.top, tile.left, tile.bottom, tile.right]
    if not isinstance(meta, dict) or meta.get("index") != tile.index or meta.get("region") != region:
        return f"has a summary (tile_{tile.index:05d}.json) that is not this tile's"
    if not all(type(meta.get(k)) is int for k in ("iterations", "stopped_at")) or \
            not isinstance(meta.get("stop_reason"), str):
        return f"has an incomplete summary (tile_{tile.index:05d}.json)"
    return None


def _signature(job: Problem, st: Resolved, tile: int, overlap: int, seed: int, stop: str) -> dict[str, Any]:
    digest = hashlib.sha256(job.y.numpy().tobytes())
    if job.weights is not None:
        digest.update(job.weights.numpy().tobytes())
    return {
        "input_sha256": digest.hexdigest(), "task": job.task, "factor": job.factor, "preset": st.preset,
        "net": st.net, "fit": st.fit.to_dict(), "precision": st.precision, "tile": tile, "overlap": overlap,
        "seed": seed, "stop": stop, "operator": repr(job.operator),
    }


def run_tiled(
    job: Problem,
    st: Resolved,
    *,
    tile: int,
    overlap: int,
    work_dir: str | Path | None,
    resume: bool,
    quiet: bool,
    fit: FitFunction,
    echo: Callable[[str], None] | None = None,
    tile_map: TileMap | None = None,
    cancel: CancelFlag | None = None,
    workers: int = 1,
    watchers: Sequence[TileWatcher] = (),
) -> tuple[FitResult, dict[str, Any]]:
    """Restore ``job`` tile by tile with ``fit``; tile ``i`` is fitted with seed ``seed + i``, so runs are
    repeatable.

    An interrupt (Ctrl-C, or SIGTERM turned into ``KeyboardInterrupt`` by the CLI) ends the job but still
    returns an image: the finished tiles (and those found in the work folder), the interrupted tile at its
    partial fit, and the measurement (enlarged when super-resolving) where no tile was fitted. Those tiles
    not fully restored are named through ``echo`` and in ``unrestored``; ``stop_reason`` is ``interrupted``.
    A set ``cancel`` flag ends the job the same way (``fit`` reads it inside a tile, this loop between tiles).

    The tiles not found in the work folder are fitted ``workers`` at a time in processes of one thread each
    (:func:`~deepprior.restore.tile_pool.parallel_tiles`), or through ``tile_map`` (in parallel, elsewhere),
    or one after another in this process; each is saved to the work folder as its result arrives. The tiles
    are blended in tile order, so the image does not depend on which finished first. ``watchers`` are told
    the tiles' progress and each restored tile (:class:`~deepprior.restore.callbacks.TileWatcher`).

    Returns:
        The blended result and the tiling report: ``tiles`` (one summary per tile fitted or resumed) and
        ``unrestored`` (indexes of the tiles not fully restored).

    """
    seed, stop = st.seed, st.requested_stop
    f = job.factor
    if tile % f or overlap % f:
        raise ConfigError(f"with --scale {f}, --tile ({tile}) and --overlap ({overlap}) must divide by {f}")
    if tile < 8:
        raise ConfigError(f"tile {tile} is too small; deepprior needs at least 8x8 pixels")
    h, w = job.y.shape[-2:]
    say = echo or logging.getLogger(__name__).warning
    grid = list(tile_weights(h, w, tile // f, overlap // f))
    channels = job.image.channels
    blender = Blender(h * f, w * f, channels)
    store = WorkDir(work_dir, _signature(job, st, tile, overlap, seed, stop), resume, say) if work_dir else None
    summaries: list[dict[str, Any]] = []
    unrestored: list[int] = []
    interrupted = False
    start = time.perf_counter()
    bar: Any = None
    if not quiet:
        from .callbacks import progress_bar

        bar = progress_bar(len(grid), "tiles", "tile")
    saved_tiles = {t_lr.index: store.load(t_lr.scaled(f), channels) for t_lr, _ in grid} if store else {}
    done: dict[int, tuple[np.ndarray, dict[str, Any]]] = {
        i: found for i, found in saved_tiles.items() if found is not None}
    if bar is not None and done:
        bar.update(len(done))
    todo = [t_lr for t_lr, _ in grid if t_lr.index not in done]
    regions = {t_lr.index: _region(t_lr.scaled(f)) for t_lr, _ in grid}
    for watcher in watchers:
        watcher.on_tiles(len(grid), st.fit.num_iter, (h * f, w * f))
        for t_lr, _ in grid:
            if t_lr.index in done:
                watcher.on_tile_done(t_lr.index, regions[t_lr.index], *done[t_lr.index])
    items = [(_cut(job, t_lr), st, seed + t_lr.index, fit, t_lr.index, regions[t_lr.index]) for t_lr in todo]
    indexes = [t_lr.index for t_lr in todo]
    at_once = max(1, min(workers, len(todo)))
    running: dict[int, int] = {}
    fitted_seconds: list[float] = []

    def show() -> None:
        """The bar's tail: the tiles running at their iteration, and the time left at the finished tiles' pace."""
        post = {"running": ", ".join(f"tile {i} at {it}" for i, it in sorted(running.items())) or "-"}
        if fitted_seconds:
            left = sum(fitted_seconds) / len(fitted_seconds) * (len(todo) - len(fitted_seconds)) / at_once
            post["left"] = f"about {left / 60:.0f} min"
        bar.set_postfix(post)

    def on_progress(index: int, iteration: int) -> None:
        running[index] = iteration
        for watcher in watchers:
            watcher.on_tile_progress(index, iteration)
        if bar is not None:
            show()

    hook = on_progress if bar is not None or watchers else None
    if interrupted or not todo:
        source: Any = iter(())
    elif tile_map is not None:
        source = mapped_tiles(tile_map, fit_tile, items, indexes, cancel)
    elif at_once > 1:
        source = parallel_tiles(fit_tile, items, indexes, at_once, cancel, on_progress=hook)
    else:
        source = serial_tiles(fit_tile, items, indexes, cancel, on_progress=hook)
    _log.info("%d tiles to fit (%d found in the work folder), %d at a time", len(todo), len(done), at_once)
    try:
        for index, image, meta in source:
            top, left, bottom, right = meta.get("region", (0, 0, 0, 0))
            _log.debug("tile %d (rows %d-%d, columns %d-%d): %s iterations (%s), %.1f s", index, top, bottom,
                       left, right, meta.get("iterations"), meta.get("stop_reason"), float(meta["seconds"]))
            fitted_seconds.append(float(meta["seconds"]))
            done[index] = (image, meta)
            for watcher in watchers:
                watcher.on_tile_done(index, regions[index], image, meta)
            if meta["stop_reason"] == "interrupted":
                interrupted = True
            elif store is not None:
                try:
                    store.save(index, image, meta)
                except KeyboardInterrupt:  # the tile is in this image; a resumed job fits it again
                    interrupted = True
            running.pop(index, None)
            if bar is not None:
                bar.update(1)
                show()
    except KeyboardInterrupt:  # outside a fit's loop (building a network): the tiles done so far are kept
        interrupted = True
    if cancel is not None and cancel.is_set():
        interrupted = True
    for t_lr, w_lr in grid:
        t = t_lr.scaled(f)
        weights = np.kron(w_lr, np.ones((f, f))) if f > 1 else w_lr
        found = done.get(t.index)
        if found is None:
            image = _fallback(job, t, t_lr)
            unrestored.append(t.index)
        else:
            image, meta = found
            summaries.append(meta)
            if meta["stop_reason"] == "interrupted":
                unrestored.append(t.index)
        blender.add(t, image, weights)
    if bar is not None:
        bar.close()
    if interrupted:
        say(_unrestored_text(unrestored, len(grid), summaries, work_dir))
    reasons = {m.get("stop_reason") for m in summaries}
    stop_reason = "interrupted" if interrupted else str(reasons.pop() if len(reasons) == 1 else "mixed")
    iterations = sum(int(m.get("iterations", 0)) for m in summaries)
    blended = torch.from_numpy(blender.result().transpose(2, 0, 1).copy())[None]
    result = FitResult(
        image=blended.clamp(0, 1), history=[], iterations=iterations,
        stopped_at=max((int(m.get("stopped_at", 0)) for m in summaries), default=0),
        stop_reason=stop_reason, seconds=time.perf_counter() - start,
        stop_rule={"name": stop, "tiles": len(grid)},
    )
    return result, {"tiles": summaries, "unrestored": unrestored}


def _region(t: Tile) -> list[int]:
    return [t.top, t.left, t.bottom, t.right]


def _unrestored_text(unrestored: list[int], count: int, summaries: list[dict[str, Any]],
                     work_dir: str | Path | None) -> str:
    """The warning after an interrupt: which tiles the image shows unrestored, and how to finish the job."""
    partial = [m["index"] for m in summaries if m.get("stop_reason") == "interrupted"]
    shown = (f"tile {partial[0]} at its partial fit, the others as given" if partial else "as given")
    which = ", ".join(map(str, unrestored))
    text = (f"warning: interrupted; {len(unrestored)} of {count} tiles unrestored ({which}), shown {shown}"
            if unrestored else "warning: interrupted after the last tile; every tile is restored")
    if work_dir is not None and unrestored:
        return f"{text}; the finished tiles are in {work_dir}: run the same command with --resume to finish"
    if unrestored:
        return f"{text}; with --work-dir the finished tiles are kept for --resume"
    return text
