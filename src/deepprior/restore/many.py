"""Many restorations at once: same-sized problems fitted as one batch, each as its own fit would be.

:func:`restore_many` resolves each problem as :func:`~deepprior.restore.restore` would, builds each one's
fit (its network seeded by its own seed), groups the fits that can share a batch (same size, network and
settings: :func:`~deepprior.fit.batched.batch_obstacle`) and runs each group with
:func:`~deepprior.fit.batched.run_batched`. Each image keeps its own stopping rule and leaves the batch
when the rule fires. Everything else (scoring, the report) is :func:`~deepprior.restore.restore`'s, except
the memory layout: fits are built without channels-last (it changes no arithmetic of a fit, and gave wrong
gradients under ``vmap``: :func:`~deepprior.fit.batched.batch_obstacle`).

References:
    Ulyanov, Vedaldi and Lempitsky, "Deep Image Prior", CVPR 2018.

"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import io
from ..errors import ConfigError
from ..fit.batched import batch_obstacle, run_batched
from ..fit.loop import FitResult, Fitter
from ..io import ImageData, ImageSource
from .checks import check_seed, parse_settings
from .problem import Problem, Settings
from .report import Restoration
from .resolve import Resolved, resolve
from .run import Prepared, assemble, build_fitter, load_reference, restore, tiling_plan
from .settings import RunSettings

#: Settings that name one file or figure per restoration: refused here (save each :class:`Restoration`).
PER_IMAGE = ("output", "curves", "animation", "compare", "snapshots", "snapshot_dir", "work_dir", "reference")

#: Fits per batch by default: the 64 images of the published 32x32 measurement.
BATCH_SIZE = 64


class _Job:
    """One problem on its way through :func:`restore_many`."""

    def __init__(self, problem: Problem, rs: Resolved, fitter: Fitter, prep: Prepared,
                 ref_px: np.ndarray | None) -> None:
        self.problem, self.rs, self.fitter, self.prep, self.ref_px = problem, rs, fitter, prep, ref_px
        self.batch: dict[str, Any] = {}
        self.result: FitResult | None = None

    def key(self) -> tuple[Any, ...]:
        """Fits of equal keys may share a batch (``batch_obstacle`` has the last word)."""
        return (tuple(self.prep.y.shape), self.rs.net, repr(self.prep.net_config), self.rs.fit,
                str(self.rs.device), self.problem.image.channels)


def restore_many(problems: Sequence[Problem], settings: Settings | RunSettings | None = None, *,
                 seeds: Sequence[int] | None = None, references: Sequence[ImageSource | None] | None = None,
                 batch_size: int | None = BATCH_SIZE, **options: Any) -> list[Restoration]:
    """Restore every problem, fitting same-sized ones together; each result as :func:`restore` gives it alone.

    Args:
        problems: the problems (any tasks, any sizes: those that can share a batch do).
        settings: the shared settings (as :func:`restore`'s), for every problem.
        seeds: one seed per problem (default: the ``seed`` setting for all, as separate calls would use).
        references: one clean image (or None) per problem, to score each result.
        batch_size: at most this many fits at once (None: a whole group).
        **options: the shared settings as keywords.

    Returns:
        One :class:`Restoration` per problem, in order; its ``config["batch"]`` says how it was fitted:
        ``size`` (the fits of its group), ``batched`` and, when fitted alone, ``reason``.

    Raises:
        ConfigError: a setting that names one file per restoration (``output``, ``curves``, ...: save each
            result instead), ``tile``, or ``seeds`` / ``references`` of another length than ``problems``.

    """
    s = parse_settings(settings, options)
    flat = s.flat()
    given = [k for k in PER_IMAGE if flat[k] not in (None, ())]
    if given:
        hint = "give references=" if given[0] == "reference" else "save each Restoration instead"
        raise ConfigError(f"{given[0]} names one file for one image; with many images {hint}")
    if s.tiling.tile is not None:
        raise ConfigError("tile is not available when restoring many images; restore a large image on its own")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
        raise ConfigError(f"batch size {batch_size!r} is invalid; expected a whole number >= 1")
    n = len(problems)
    for name, values in (("seeds", seeds), ("references", references)):
        if values is not None and len(values) != n:
            raise ConfigError(f"{name} has {len(values)} entries for {n} images")
    seed_list = [check_seed(x) for x in seeds] if seeds is not None else [s.fit.seed] * n
    ref_list: Sequence[ImageSource | None] = references if references is not None else [None] * n

    jobs: list[_Job | Restoration] = []
    for problem, seed, reference in zip(problems, seed_list, ref_list, strict=True):
        own = s.replace(seed=seed)
        rs = resolve(problem, own.fit)
        if rs.fit.channels_last:  # a memory layout only (no arithmetic changes), and wrong under vmap: off here
            rs = dataclasses.replace(rs, fit=rs.fit.updated(channels_last=False))
        if tiling_plan(problem, rs, own).tile is not None:  # too large for one fit: alone, in tiles
            jobs.append(restore(problem, s.replace(seed=seed, reference=reference)))
            continue
        ref_px = load_reference(reference, problem.output_shape, problem.image.channels)
        ref_tensor = None if ref_px is None else io.to_tensor(ref_px)
        fitter, prep, _ = build_fitter(problem, rs, seed=rs.seed, callbacks=list(s.runtime.callbacks),
                                       reference=ref_tensor, cancel=s.runtime.cancel)
        jobs.append(_Job(problem, rs, fitter, prep, ref_px))

    groups: dict[tuple[Any, ...], list[_Job]] = {}
    for job in jobs:
        if isinstance(job, _Job):
            groups.setdefault(job.key(), []).append(job)
    for group in groups.values():
        fitters = [job.fitter for job in group]
        reason = "no other image of its size and settings" if len(group) == 1 else batch_obstacle(fitters)
        results = run_batched(fitters, batch_size=batch_size) if reason is None else [f.run() for f in fitters]
        for job, result in zip(group, results, strict=True):
            job.result = result
            job.batch = {"size": len(group), "batched": reason is None, **({"reason": reason} if reason else {})}
    return [job if isinstance(job, Restoration) else _finish_job(job, s) for job in jobs]


def _finish_job(job: _Job, s: RunSettings) -> Restoration:
    problem, result = job.problem, job.result
    if result is None:  # pragma: no cover - every job of a group gets its result
        raise RuntimeError("a fit of the batch returned no result")
    pixels = io.quantize(io.from_tensor(result.image), problem.image.bit_depth)
    restored = ImageData(pixels=pixels, alpha=problem.out_alpha, bit_depth=problem.image.bit_depth, path=None)
    padding = {"bottom": job.prep.pad[0], "right": job.prep.pad[1]}
    out = assemble(problem, job.rs, s.replace(seed=job.rs.seed), result, restored, job.ref_px, None,
                  job.prep.net_config, padding, None, {})
    out.config["batch"] = job.batch
    return out


__all__ = ["BATCH_SIZE", "PER_IMAGE", "restore_many"]
