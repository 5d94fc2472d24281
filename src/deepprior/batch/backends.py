"""Where the files of a batch are fitted: one after another here, ``--jobs N`` processes here, or Ray.

Every backend yields each file's :class:`~deepprior.batch.worker.Outcome` as it finishes (in any order); the
driver writes the results. ``close`` cancels what is still running.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

from ..errors import ConfigError
from .worker import JobSpec, Outcome, run_job, where

_log = logging.getLogger(__name__)


class Backend(Protocol):
    """Runs the jobs of a batch and yields their outcomes as they finish."""

    name: str

    def run(self, specs: Sequence[JobSpec]) -> Iterator[Outcome]: ...

    def close(self) -> None: ...


class Serial:
    """One file after another in this process (the per-fit progress bar and Ctrl-C behave as for one file)."""

    name = "serial"

    def run(self, specs: Sequence[JobSpec]) -> Iterator[Outcome]:
        for spec in specs:
            yield run_job(spec, self.name)

    def close(self) -> None:
        return None


def _worker_init(level: int = logging.INFO) -> None:
    """Workers leave Ctrl-C to the driver, which cancels them (a terminal sends SIGINT to the whole group), and
    log at the driver's level (each file's and each tile's lines, on the shared standard error).
    """
    from ..logs import configure

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure(level)


def _pool_job(spec: JobSpec) -> Outcome:
    return run_job(spec, "jobs")


class Pool:
    """``jobs`` fits at once in worker processes on this machine (spawned: no state shared with the driver)."""

    name = "jobs"

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self._executor: ProcessPoolExecutor | None = None

    def run(self, specs: Sequence[JobSpec]) -> Iterator[Outcome]:
        ctx = multiprocessing.get_context("spawn")
        level = logging.getLogger("deepprior").getEffectiveLevel()
        self._executor = ProcessPoolExecutor(max_workers=self.jobs, mp_context=ctx, initializer=_worker_init,
                                             initargs=(level,))
        running: dict[Future[Outcome], JobSpec] = {self._executor.submit(_pool_job, s): s for s in specs}
        _log.info("%d files, %d at a time in worker processes", len(specs), self.jobs)
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                spec = running.pop(future)
                try:
                    yield future.result()
                except BrokenProcessPool:
                    _log.warning("%s: its worker process died", spec.images[-1])
                    yield Outcome(spec.index, None, None, "a worker process died (killed, or out of memory); "
                                  "run the batch again with --skip-existing", where=where(self.name))

    def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        processes = list(getattr(executor, "_processes", {}).values())  # terminate fits already running
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=10)


def make_backend(*, jobs: int | None, ray: str | None, threads: int | None) -> Backend:
    """The backend the options ask for (``jobs`` and ``ray`` exclude each other)."""
    if ray is not None:
        if jobs is not None:
            raise ConfigError("--jobs and --ray exclude each other: Ray decides how many fits run at once")
        from .ray_backend import RayBackend

        return RayBackend(ray, threads)
    if jobs is not None and jobs > 1:
        return Pool(jobs)
    return Serial()


__all__ = ["Backend", "Pool", "Serial", "make_backend"]
