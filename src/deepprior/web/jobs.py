"""The job queue: at most ``workers`` fits at a time, the others waiting in order; cancel and heartbeat.

A job is cancelled by its Stop button (:meth:`Jobs.stop`), or when its page stops asking about it for
``heartbeat`` seconds (the page polls; a closed page polls no more). A waiting job is then dropped; a running
one has its ``cancel`` flag set, which the fit loop reads every iteration: the fit ends with its current
image, as Ctrl-C ends a fit of the command line.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DeepPriorError

log = logging.getLogger("deepprior.web")

#: A job's states, in order; the last three are final.
STATES = ("queued", "running", "done", "failed", "cancelled")


@dataclass
class Live:
    """What a running fit shows on the page: written by the fit's thread, read by the server's."""

    iteration: int = 0
    total: int = 0
    loss: float | None = None
    seconds: float = 0.0
    points: list[dict[str, Any]] = field(default_factory=list)
    preview: bytes | None = None
    preview_version: int = 0
    preview_iteration: int = 0
    tiles: dict[str, Any] | None = None  # a tiled fit: count, done, running [[index, iteration], ...]


@dataclass
class Job:
    """One restoration asked for by a page.

    Attributes:
        id: the job's id (the page's handle).
        task: the task's name.
        work: the job's folder (its result files).
        payload: what the runner needs (the problem and settings); the queue does not look inside.
        state: one of :data:`STATES`.
        message: why it failed or was cancelled, for the page.
        cancel: the flag the fit loop reads every iteration.
        last_seen: when the page last asked about it (monotonic seconds).
        live: the fit's progress.
        files: the result files by name (``image``, ``report``; ``preview`` and ``input``, for the page).
        lazy: the files drawn when first asked for (``curves``, ``animation``), by name.
        summary: the report's headline (stop reason, iterations, PSNR) once done.

    """

    id: str
    task: str
    work: Path
    payload: Any
    state: str = "queued"
    message: str = ""
    cancel: threading.Event = field(default_factory=threading.Event)
    last_seen: float = field(default_factory=time.monotonic)
    finished: float | None = None
    live: Live = field(default_factory=Live)
    files: dict[str, Path] = field(default_factory=dict)
    lazy: dict[str, Callable[[], Path]] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    _draw: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def final(self) -> bool:
        return self.state in STATES[2:]

    def file(self, name: str) -> Path | None:
        """A result file, drawn now if it is one of the lazy ones (once; the server may ask from two threads)."""
        with self._draw:
            if name not in self.files and name in self.lazy:
                self.files[name] = self.lazy.pop(name)()
        return self.files.get(name)


class Jobs:
    """The queue and its worker threads.

    Args:
        run: ``run(job)`` fits one job, filling ``job.files``, ``job.summary`` and ``job.live``; a
            :class:`~deepprior.errors.DeepPriorError` becomes the job's message.
        workers: fits at a time.
        heartbeat: seconds without a poll after which a page counts as closed and its job is cancelled.
        keep: finished jobs kept (results and all); the oldest go first.

    """

    def __init__(self, run: Callable[[Job], None], *, workers: int = 1, heartbeat: float = 30.0,
                 keep: int = 20) -> None:
        self.run, self.heartbeat, self.keep = run, heartbeat, keep
        self._jobs: dict[str, Job] = {}
        self._waiting: list[Job] = []
        self._cond = threading.Condition()
        self._closed = False
        self._threads = [threading.Thread(target=self._work, name=f"deepprior-fit-{i}", daemon=True)
                         for i in range(workers)]
        self._threads.append(threading.Thread(target=self._watch, name="deepprior-heartbeat", daemon=True))
        for t in self._threads:
            t.start()

    def submit(self, task: str, work: Path, payload: Any) -> Job:
        job = Job(secrets.token_hex(8), task, work, payload)
        with self._cond:
            if self._closed:
                raise DeepPriorError("the server is shutting down")
            self._jobs[job.id] = job
            self._waiting.append(job)
            self._prune()
            self._cond.notify()
        return job

    def get(self, job_id: str, *, seen: bool = False) -> Job | None:
        """The job, or None; ``seen``: the page asked (its heartbeat)."""
        with self._cond:
            job = self._jobs.get(job_id)
            if job is not None and seen:
                job.last_seen = time.monotonic()
            return job

    def position(self, job: Job) -> int:
        """1 for the next job to run, 2 for the one after, ...; 0 when not waiting."""
        with self._cond:
            return self._waiting.index(job) + 1 if job in self._waiting else 0

    def stop(self, job: Job, reason: str = "stopped") -> None:
        """End the job: a waiting one is dropped, a running one returns its current image."""
        with self._cond:
            if job in self._waiting:
                self._waiting.remove(job)
                self._end(job, "cancelled", f"{reason} before it started")
            elif job.state == "running":
                job.message = reason
                job.cancel.set()

    def close(self) -> None:
        """Cancel every job and let the threads end (the server's shutdown)."""
        with self._cond:
            self._closed = True
            for job in list(self._waiting):
                self._end(job, "cancelled", "the server shut down")
            self._waiting.clear()
            for job in self._jobs.values():
                job.cancel.set()
            self._cond.notify_all()
        for t in self._threads:
            t.join(timeout=10)
        for job in self._jobs.values():
            shutil.rmtree(job.work, ignore_errors=True)

    def _end(self, job: Job, state: str, message: str = "") -> None:
        job.state, job.finished = state, time.monotonic()
        if message:
            job.message = message

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._waiting and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                job = self._waiting.pop(0)
                job.state = "running"
            try:
                self.run(job)
            except DeepPriorError as exc:
                with self._cond:
                    self._end(job, "failed", str(exc))
            except Exception as exc:  # noqa: BLE001 - the page gets one line; the log keeps the traceback
                log.exception("job %s failed", job.id)
                with self._cond:
                    self._end(job, "failed", f"internal error ({type(exc).__name__}: {exc}); see the server's log")
            else:
                with self._cond:
                    self._end(job, "done")

    def _watch(self) -> None:
        while not self._closed:
            time.sleep(min(1.0, self.heartbeat / 4))
            now = time.monotonic()
            with self._cond:
                lost = [j for j in self._jobs.values() if not j.final and now - j.last_seen > self.heartbeat]
            for job in lost:
                log.info("job %s: no poll for %.0f s, cancelled", job.id, self.heartbeat)
                self.stop(job, f"the page was closed (no poll for {self.heartbeat:g} s)")

    def _prune(self) -> None:
        done = sorted((j for j in self._jobs.values() if j.final), key=lambda j: j.finished or 0.0)
        for job in done[: max(0, len(done) - self.keep)]:
            del self._jobs[job.id]
            shutil.rmtree(job.work, ignore_errors=True)
