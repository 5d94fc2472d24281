"""Tiles fitted side by side: one worker process per core, one PyTorch thread each.

A small network on a 160x160 tile keeps one core busy but gains less from a second thread of the same
process than from a second process, so a tiled job on N cores runs N tiles at once, each in a process of one
thread (``benchmarks/tile_parallel.py`` measures both ways side by side).

The workers are plain subprocesses (``python -c "...serve()"``) that read pickled calls on their standard
input and answer on a private copy of their standard output: unlike :mod:`multiprocessing`'s spawn, they
never re-run the caller's ``__main__``, so a script without an ``if __name__ == "__main__"`` guard works. They
run in a session of their own, so a Ctrl-C at the terminal reaches only this process, which passes it on.

Each source below yields ``(index, image, meta)`` for the tiles it fits, as they finish; ``image`` and
``meta`` are :func:`~deepprior.restore.tiled.fit_tile`'s. An interrupt (Ctrl-C, the ``cancel`` flag) is
passed to the tiles being fitted, which end at their current averaged image (``stop_reason``
``interrupted``); tiles not yet started are not yielded. A tile that fails ends the job the same way, and its
error is raised once the others have come back, so every finished tile is yielded (and saved) first.
"""

from __future__ import annotations

import os
import pickle
import queue
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..errors import DeepPriorError
from ..fit.protocols import CancelFlag

#: What a source yields per tile: its index, its pixels (H x W x C in [0, 1]) and its summary.
TileOutcome = tuple[int, np.ndarray, dict[str, Any]]

#: How often the parent looks at the ``cancel`` flag while the workers fit (seconds).
POLL_SECONDS = 0.25

#: The signal by which the parent asks a worker to end its tile at the current image.
STOP_SIGNAL = signal.SIGUSR1

_HEADER = struct.Struct("<Q")


class TileFailed(DeepPriorError):
    """A tile's fit failed in a worker process; the message names the tile and the error."""


def _send(stream: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError("the other end closed")
    (size,) = _HEADER.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the other end closed mid-message")
    return pickle.loads(data)  # noqa: S301 - our own worker or parent at the other end of a private pipe


class _Flag:
    """A cancel flag a signal handler can set (no lock, unlike :class:`threading.Event`)."""

    def __init__(self) -> None:
        self.value = False

    def is_set(self) -> bool:
        return self.value

    def set(self, *_: Any) -> None:
        self.value = True


#: Seconds between two progress messages of a worker (its tile's iteration).
PROGRESS_SECONDS = 1.0


def serve() -> None:
    """A worker's main loop: say ``("ready", None)`` once the stop signal is handled, then read ``(fn, args)``,
    answer ``("ok", fn(*args, cancel=flag, progress=...))`` or
    ``("error", text)``, until the parent closes the pipe; meanwhile ``("progress", iteration)`` about once a
    second. The flag is set by :data:`STOP_SIGNAL`.
    """
    import time

    import torch

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(1)
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever the fit prints goes to standard error, never into the answers
    calls = sys.stdin.buffer
    flag = _Flag()
    signal.signal(STOP_SIGNAL, flag.set)
    _send(answers, ("ready", None))  # from now on the stop signal sets the flag (before, it would end us)
    last = [0.0]

    def progress(iteration: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_SECONDS:
            last[0] = now
            _send(answers, ("progress", iteration))

    try:
        while True:
            try:
                fn, args = _receive(calls)
            except EOFError:
                return
            try:
                answer: tuple[str, Any] = ("ok", fn(*args, cancel=flag, progress=progress))
            except BrokenPipeError:
                raise
            except Exception as exc:  # noqa: BLE001 - reported to the parent, which names the tile
                answer = ("error", f"{type(exc).__name__}: {exc}")
            _send(answers, answer)
    except BrokenPipeError:  # the parent is gone (killed): no one to answer, and nothing to say on stderr
        os._exit(0)


class _Worker:
    """One worker process and the thread in this process that feeds it tiles from a shared queue."""

    def __init__(self, jobs: queue.Queue[tuple[int, Any] | None], results: queue.Queue[Any],
                 fn: Callable[..., Any], halt: threading.Event) -> None:
        package_root = str(Path(__file__).resolve().parents[2])  # the folder holding deepprior/
        env = {**os.environ, "OMP_NUM_THREADS": "1",
               "PYTHONPATH": os.pathsep.join([package_root, *filter(None, [os.environ.get("PYTHONPATH")])])}
        self.process = subprocess.Popen(  # noqa: S603 - this interpreter, a fixed command
            [sys.executable, "-c", "from deepprior.restore.tile_pool import serve; serve()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, start_new_session=True)
        self.calls: IO[bytes] = self.process.stdin  # type: ignore[assignment]  # PIPE: never None
        self.answers: IO[bytes] = self.process.stdout  # type: ignore[assignment]
        self.busy = False
        self.thread = threading.Thread(target=self._feed, args=(jobs, results, fn, halt), daemon=True)
        self.thread.start()

    def _feed(self, jobs: queue.Queue[tuple[int, Any] | None], results: queue.Queue[Any],
              fn: Callable[..., Any], halt: threading.Event) -> None:
        try:  # a tile goes only to a worker whose stop signal is handled: until then the signal would kill it
            _receive(self.answers)
        except (EOFError, OSError, pickle.PickleError):
            pass  # it died starting: the first tile it is sent reports that
        while True:
            job = jobs.get()
            if job is None:
                return
            index, args = job
            self.busy = True  # before reading halt: a stop either sees this worker busy or is seen here
            if halt.is_set():
                self.busy = False
                results.put((index, ("dropped", None)))
                continue
            try:
                _send(self.calls, (fn, args))
                answer = _receive(self.answers)
                while answer[0] == "progress":
                    results.put((index, answer))
                    answer = _receive(self.answers)
                results.put((index, answer))
            except (EOFError, OSError, pickle.PickleError) as exc:
                code = self.process.poll()
                why = f"exit code {code}" if code is not None else type(exc).__name__
                results.put((index, ("error", f"its worker process ended ({why})")))
                return
            finally:
                self.busy = False

    def stop_tile(self) -> None:
        if self.busy and self.process.poll() is None:
            try:
                self.process.send_signal(STOP_SIGNAL)
            except ProcessLookupError:  # pragma: no cover - ended meanwhile
                pass

    def close(self) -> None:
        try:
            self.calls.close()  # the worker reads the end and exits
        except OSError:  # pragma: no cover - already gone
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a stuck worker
            self.process.kill()
            self.process.wait()


#: Told of a running tile's iteration: ``on_progress(index, iteration)``.
ProgressHook = Callable[[int, int], None]


def parallel_tiles(fn: Callable[..., tuple[np.ndarray, dict[str, Any]]], items: list[tuple[Any, ...]],
                   indexes: list[int], workers: int, cancel: CancelFlag | None = None,
                   on_progress: ProgressHook | None = None) -> Iterator[TileOutcome]:
    """Fit ``fn(*items[k], cancel=...)`` for every ``k`` in ``workers`` processes of one thread each.

    Args:
        fn: the tile's fit (:func:`~deepprior.restore.tiled.fit_tile`), taking a ``cancel`` keyword; it and
            ``items`` must pickle.
        items: its arguments, one tuple per tile.
        indexes: the tiles' indexes, in the order of ``items``.
        workers: how many processes.
        cancel: a flag that ends the job as Ctrl-C does.
        on_progress: told of each running tile's iteration, about once a second per worker.

    Yields:
        ``(index, image, meta)`` for each tile fitted, in the order they finish.

    Raises:
        TileFailed: after the other tiles have come back, when a tile's fit raised or its process died.

    """
    jobs: queue.Queue[tuple[int, Any] | None] = queue.Queue()
    results: queue.Queue[Any] = queue.Queue()
    for index, args in zip(indexes, items, strict=True):
        jobs.put((index, args))
    halt = threading.Event()
    pool = [_Worker(jobs, results, fn, halt) for _ in range(max(1, min(workers, len(items))))]
    for _ in pool:
        jobs.put(None)  # one end-mark per worker, after the tiles
    outstanding = len(items)
    failure: TileFailed | None = None
    stopping = False

    def stop() -> int:
        """End the running tiles at their current image and drop the others; how many were dropped."""
        halt.set()
        dropped = 0
        while True:
            try:
                job = jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                dropped += 1
        for _ in pool:
            jobs.put(None)
        for worker in pool:
            worker.stop_tile()
        return dropped

    try:
        while outstanding:
            try:
                index, (status, value) = results.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if not stopping and cancel is not None and cancel.is_set():
                    stopping = True
                    outstanding -= stop()
                continue
            except KeyboardInterrupt:
                if not stopping:
                    stopping = True
                    outstanding -= stop()
                else:
                    for worker in pool:
                        worker.stop_tile()
                continue
            if status == "progress":
                if on_progress is not None:
                    on_progress(index, value)
                continue
            outstanding -= 1
            if status == "dropped":
                continue
            if status == "ok":
                image, meta = value
                yield index, image, meta
            else:
                failure = failure or TileFailed(f"tile {index} failed: {value}")
                if not stopping:
                    stopping = True
                    outstanding -= stop()
    finally:
        if outstanding:  # the caller stopped early: end the tiles still running
            stop()
        for worker in pool:
            worker.close()
    if failure is not None:
        raise failure


def serial_tiles(fn: Callable[..., tuple[np.ndarray, dict[str, Any]]], items: list[tuple[Any, ...]],
                 indexes: list[int], cancel: CancelFlag | None = None,
                 on_progress: ProgressHook | None = None) -> Iterator[TileOutcome]:
    """The tiles one after another in this process; stops after an interrupted tile or a set ``cancel``."""
    for args, index in zip(items, indexes, strict=True):
        if cancel is not None and cancel.is_set():
            return
        hook = None if on_progress is None else (lambda it, i=index: on_progress(i, it))  # type: ignore[misc]
        image, meta = fn(*args, cancel=cancel, progress=hook)
        yield index, image, meta
        if meta["stop_reason"] == "interrupted":
            return


def mapped_tiles(tile_map: Callable[[Callable[..., Any], list[tuple[Any, ...]]], Any],
                 fn: Callable[..., tuple[np.ndarray, dict[str, Any]]], items: list[tuple[Any, ...]],
                 indexes: list[int], cancel: CancelFlag | None = None) -> Iterator[TileOutcome]:
    """The tiles through another parallel map (Ray's), whose results come in order; ``cancel`` is read
    between results (the tiles elsewhere do not see it).
    """
    results = iter(tile_map(fn, items))
    try:
        for index in indexes:
            if cancel is not None and cancel.is_set():
                return
            image, meta = next(results)
            yield index, image, meta
    finally:
        close = getattr(results, "close", None)  # a generator's cleanup cancels the tiles still out
        if close is not None:
            close()


__all__ = ["TileFailed", "TileOutcome", "mapped_tiles", "parallel_tiles", "serial_tiles", "serve"]
