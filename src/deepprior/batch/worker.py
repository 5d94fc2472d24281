"""One file of a batch, restored wherever it runs: in the driver, in a process of ``--jobs``, or in a Ray task.

A worker reads its input, fits, and returns the image and the report; it writes no output image itself (the
driver writes each result atomically as it arrives), only the side files asked for (figures, snapshots, tile
work folders), so that a worker that dies leaves nothing half-written.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DeepPriorError
from ..io import ImageData
from ..restore.settings import RunSettings

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobSpec:
    """Everything a worker needs, plain and picklable: the task, its images, options and settings."""

    index: int
    task: str
    images: tuple[Path, ...]  # the task's inputs; the last is the file this job restores
    options: dict[str, Any]
    settings: RunSettings  # parsed at the command line, sent to the worker as is
    output: Path


@dataclass
class Outcome:
    """What came back from a worker (``image`` None when it failed)."""

    index: int
    image: ImageData | None
    report: dict[str, Any] | None
    error: str | None
    summary: str = ""
    interrupted: bool = False
    where: dict[str, Any] = field(default_factory=dict)


def where(backend: str) -> dict[str, Any]:
    """Where a job ran, for its line in ``--reports``."""
    return {"backend": backend, "host": socket.gethostname(), "pid": os.getpid()}


def summary_line(result: Any, out: Path) -> str:
    """One line per restored file: output, iterations and stop, time, device, scores."""
    parts = [f"saved {out}", f"{result.fit.iterations} iterations ({result.fit.stop_reason})",
             f"{result.fit.seconds:.1f} s", f"{result.device}/{result.precision}"]
    if result.psnr is not None:
        before = f"{result.input_psnr:.2f} -> " if result.input_psnr is not None else ""
        parts.append(f"PSNR {before}{result.psnr:.2f} dB")
    if result.ssim is not None:
        parts.append(f"SSIM {result.ssim:.4f}")
    return ", ".join(parts)


def run_job(spec: JobSpec, backend: str = "serial", tile_map: Callable[..., Any] | None = None) -> Outcome:
    """Restore one file; a :class:`~deepprior.errors.DeepPriorError` or ``OSError`` becomes a failed outcome.

    ``tile_map`` (Ray): the tiles of an image that needs tiling are fitted through it, each a task of their own.
    """
    from ..tasks import run_task

    start = time.perf_counter()
    settings = spec.settings if tile_map is None else spec.settings.replace(tile_map=tile_map)
    here = where(backend)
    source = spec.images[-1]
    _log.debug("%s: %s started (%s on %s, pid %d)", source, spec.task, backend, here["host"], here["pid"])
    try:
        result = run_task(spec.task, spec.images, spec.options, settings)
    except (DeepPriorError, OSError) as exc:
        _log.debug("%s: failed after %.1f s: %s", source, time.perf_counter() - start, exc)
        return Outcome(spec.index, None, None, str(exc) or type(exc).__name__,
                       where={**here, "seconds": round(time.perf_counter() - start, 3)})
    report = result.report()
    _log.debug("%s: fitted in %.1f s, %d iterations (%s)", source, time.perf_counter() - start,
               result.fit.iterations, result.fit.stop_reason)
    report["input"], report["output"] = str(spec.images[-1]), str(spec.output)
    return Outcome(spec.index, result.image, report, None, summary_line(result, spec.output),
                   interrupted=result.fit.stop_reason == "interrupted",
                   where={**here, "seconds": round(time.perf_counter() - start, 3)})


__all__ = ["JobSpec", "Outcome", "run_job", "summary_line", "where"]
