"""The driver of a restoration command: one file, or a batch of files and folders on any backend.

Everything is checked before the first fit: the settings once, then every file's header and output. A single
input stops at its first error. A batch reports each bad file on one line and skips it, fits the rest (one
after another, ``--jobs N`` at once, or on Ray), writes each result atomically as it arrives, appends one line
per file to ``--reports``, ends with a summary and exits 1 when any file failed.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..errors import ConfigError, DeepPriorError, InputError
from .common import Interrupted, interrupts

_log = logging.getLogger(__name__)


def _reference_for(reference: Path | None, job: Any, batch: bool) -> Path | None:
    """A reference file, or in a folder of references the one with the job's relative path and stem."""
    from ..batch.plan import IMAGE_SUFFIXES

    if reference is None:
        return None
    if reference.is_dir():
        stem = job.rel.stem
        for folder in (reference / job.rel.parent, reference):
            matches = sorted(q for q in folder.glob(f"{stem}.*") if q.suffix.lower() in IMAGE_SUFFIXES)
            if matches:
                return matches[0]
        raise InputError(f"no reference named {job.rel.parent / stem}.* in {reference}")
    if batch:
        raise InputError("with several inputs, --reference must be a folder of images with the same names")
    return reference


def _preflight(jobs: list[Any], max_pixels: int | None) -> dict[int, str]:
    """Each file's problem found from its header and output path alone: unreadable, over the pixel limit,
    several frames, an output folder or format that cannot take it.
    """
    from .. import io

    bad: dict[int, str] = {}
    for job in jobs:
        try:
            header = io.read_header(job.source)
            io.check_frames(header.frames, str(job.source))
            io.check_pixels(header.width, header.height, max_pixels, str(job.source))
            io.check_writable(job.output, bit_depth=header.bit_depth or 8)  # alpha: once the task has read it
        except DeepPriorError as exc:
            bad[job.index] = str(exc)
    return bad


class _Records:
    """``--reports FILE.jsonl``: one JSON object per file, appended (and flushed) as each file ends."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def add(self, record: dict[str, Any]) -> None:
        if self.path is None:
            return
        from ..restore.report import strict_json

        line = json.dumps(strict_json(record), allow_nan=False) + "\n"
        with open(self.path, "a", encoding="utf-8") as fh:  # one write per line: whole lines only
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())


def _side_files(job: Any, batch: bool, opts: dict[str, Any], snapshot_dir: Path | None,
                figures: dict[str, Path | None], work_root: Path | None) -> dict[str, Any]:
    """Snapshots, figures and tile work folders for one file; in a batch mirrored like the outputs."""
    out = job.output
    snap_dir = snapshot_dir
    if opts.get("snapshots") and snap_dir is None:
        snap_dir = out.parent / f"{out.stem}_snapshots"
    elif snap_dir is not None and batch:
        snap_dir = job.mirrored(Path(snap_dir))
        snap_dir.parent.mkdir(parents=True, exist_ok=True)
    side: dict[str, Any] = {"snapshot_dir": snap_dir}
    for key, path in figures.items():
        if path is not None and batch:
            path = job.mirrored(path.parent, f"{path.stem}_{job.stem}{path.suffix}")
            path.parent.mkdir(parents=True, exist_ok=True)
        side[key] = path
    if work_root is not None and batch:
        side["work_dir"] = job.mirrored(work_root)
        side["work_dir"].parent.mkdir(parents=True, exist_ok=True)
    return side


#: The keywords :func:`batch_options` adds to a command.
BATCH_KEYS = ("recursive", "suffix", "fmt", "skip_existing", "reports", "jobs", "ray", "dry_run")


def batch_options(fn: Any) -> Any:
    """The options of a batch: how folders are read and outputs named, where the fits run, the records."""
    from ..batch.plan import FORMATS

    options = [
        click.option("--recursive", "-r", is_flag=True, help="Descend into the subfolders of input folders."),
        click.option("--suffix", default="", metavar="TEXT",
                     help="Added to each output's stem in a batch (OUT/<relative path>/<stem><suffix>.<ext>)."),
        click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="png", show_default=True,
                     help="Output format of a batch (same: the input's)."),
        click.option("--skip-existing", is_flag=True,
                     help="Leave out files whose output exists (to continue a batch)."),
        click.option("--reports", type=click.Path(path_type=Path), default=None, metavar="FILE.jsonl",
                     help="Append one JSON line per file as it ends (failures included; where it ran)."),
        click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
                     help="Fit this many files at once on this machine, the cores split between them."),
        click.option("--ray", default=None, is_flag=False, flag_value="local", metavar="[ADDRESS]",
                     help="Fit on Ray (deepprior[ray]): a local Ray, or the cluster at ADDRESS; each file and "
                          "each tile a task."),
        click.option("--dry-run", is_flag=True,
                     help="Say the plan of each file (size, tiles, iterations, stop) and the time it should take "
                          "here, then exit without fitting."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _checked_backend_options(batch_opts: dict[str, Any], opts: dict[str, Any]) -> tuple[int | None, str | None]:
    from ..device import available_cores

    jobs, ray = batch_opts.get("jobs"), batch_opts.get("ray")
    cores = available_cores()
    if jobs is not None:
        if jobs > cores:
            raise ConfigError(f"--jobs {jobs} is more than the {cores} cores available to this process")
        threads = opts.get("threads")
        if threads is None:
            opts["threads"] = max(1, cores // jobs)
        elif threads * jobs > cores:
            raise ConfigError(f"--jobs {jobs} x --threads {threads} is more than the {cores} cores available; "
                              f"give --threads {max(1, cores // jobs)} or fewer jobs")
    return jobs, ray


def run_files(task: str, lead: tuple[Path, ...], inputs: tuple[Path, ...], output: Path, opts: dict[str, Any],
              options: dict[str, Any], batch_opts: dict[str, Any]) -> None:
    """Restore each input file (see the module's docstring); ``opts`` are the shared settings and files."""
    from ..batch.backends import make_backend
    from ..batch.plan import find_inputs, plan
    from ..batch.worker import JobSpec
    from ..restore.checks import parse_settings
    from ..restore.settings import RunSettings

    sources, batch, folder_problems = find_inputs(list(inputs), recursive=batch_opts.get("recursive", False))
    jobs = plan(sources, output, batch=batch, suffix=batch_opts.get("suffix") or "",
                fmt=batch_opts.get("fmt") or "png", overwrite=opts.pop("overwrite"))
    reference = opts.pop("reference")
    report_path: Path | None = opts.pop("report")
    records_path: Path | None = batch_opts.get("reports")
    snapshot_dir = opts.pop("snapshot_dir")
    figures = {k: opts.pop(k) for k in ("curves", "animation", "compare")}
    work_root = opts.get("work_dir")
    for what, path in (("report", report_path), ("reports", records_path)):
        if path is not None and str(path.parent) and not path.parent.is_dir():
            raise InputError(f"{what} folder {path.parent} does not exist")
        if path is not None and path.is_dir():
            raise InputError(f"{what} {path} is a folder; expected a file name")
    parse_settings(None, {**opts, "reference": reference, "snapshot_dir": snapshot_dir, **figures})
    n_jobs, ray = _checked_backend_options(batch_opts, opts)
    if not batch and (n_jobs or ray):
        click.echo("one input file: --jobs and --ray have nothing to share out; fitting it here", err=True)
        n_jobs = ray = None
    bad = _preflight(jobs, opts.get("max_pixels"))
    specs: list[JobSpec] = []
    for job in jobs:
        if job.index in bad:
            continue
        try:
            ref = _reference_for(reference, job, batch)
        except InputError as exc:
            bad[job.index] = str(exc)
            continue
        settings = {**opts, **_side_files(job, batch, opts, snapshot_dir, figures, work_root),
                    "reference": ref, "output": job.output}
        if n_jobs or ray:
            settings["quiet"] = True
        specs.append(JobSpec(job.index, task, (*lead, job.source), dict(options), RunSettings.from_flat(settings),
                             job.output))
    if bad and not batch:
        raise InputError(bad[jobs[0].index])
    if batch_opts.get("dry_run"):
        _dry_run(specs, bad, jobs)
        return
    work_dirs = {spec.index: spec.settings.tiling.work_dir for spec in specs}
    _Driver(jobs, batch, report_path, _Records(records_path), bool(opts.get("quiet")), work_dirs).run(
        specs, bad, folder_problems, lambda: make_backend(jobs=n_jobs, ray=ray, threads=opts.get("threads")),
        skip_existing=bool(batch_opts.get("skip_existing")))


def _dry_run(specs: list[Any], bad: dict[int, str], jobs: list[Any]) -> None:
    """Print each file's plan and time estimate (the line a fit prints first), and each bad file's error."""
    from ..restore.run import plan_restoration
    from ..tasks import build_problem

    for spec in specs:
        problem = build_problem(spec.task, spec.images, spec.options, spec.settings)
        line = plan_restoration(problem, spec.settings).line()
        click.echo(f"{spec.images[-1]}: {line}" if len(jobs) > 1 else line)
    for index, error in sorted(bad.items()):
        click.echo(f"{jobs[index].source}: skipped: {error}", err=True)


class _Driver:
    """Runs the checked jobs on a backend, writes each result, keeps the records and the summary."""

    def __init__(self, jobs: list[Any], batch: bool, report_path: Path | None, records: _Records, quiet: bool,
                 work_dirs: dict[int, Any]) -> None:
        self.jobs, self.batch, self.report_path, self.records = jobs, batch, report_path, records
        self.quiet, self.work_dirs = quiet, work_dirs
        self.reports: list[dict[str, Any]] = []
        self.failed: list[Path] = []
        self.bar: Any = None

    def say(self, text: str, err: bool = True) -> None:
        if self.bar is not None:
            self.bar.write(text)
        else:
            click.echo(text, err=err)

    def _record(self, job: Any, status: str, where: dict[str, Any], **fields: Any) -> None:
        self.records.add({"input": str(job.source), "output": str(job.output), "status": status, **where,
                          **fields})

    def run(self, specs: list[Any], bad: dict[int, str], folder_problems: list[str],
            make: Callable[[], Any], *, skip_existing: bool) -> None:
        from ..batch.worker import where

        here = where("driver")
        for text in folder_problems:
            self.say(f"skipped: {text}")
        for index, message in sorted(bad.items()):
            job = self.jobs[index]
            self.say(f"skipped {job.source}: {message}")
            self.failed.append(job.source)
            self._record(job, "failed", here, error=message)
        todo = []
        for spec in specs:
            if skip_existing and spec.output.exists():
                self.say(f"exists, skipped: {spec.output}")
                self._record(self.jobs[spec.index], "exists", here)
            else:
                todo.append(spec)
        backend = make() if todo else None  # Ray installs its own SIGTERM handler: ours goes on after it
        start = time.perf_counter()
        try:
            with interrupts() as seen:
                if self.batch and not self.quiet and backend is not None:
                    from tqdm.auto import tqdm

                    self.bar = tqdm(total=len(todo), desc=f"batch ({backend.name})", unit="file", position=0)
                try:
                    for outcome in backend.run(todo) if backend is not None else ():
                        self._finish(outcome, seen)
                except KeyboardInterrupt:
                    code = 143 if seen["signal"] == signal.SIGTERM else 130
                    done = len(self.reports)
                    raise Interrupted(f"interrupted: {done} of {len(todo)} files restored; run the same command "
                                      "with --skip-existing to restore the rest", code) from None
        finally:
            if backend is not None:
                backend.close()
            if self.bar is not None:
                self.bar.close()
        if self.batch and not self.quiet:
            click.echo(f"batch: {len(self.reports)} restored, {len(self.failed)} failed, "
                       f"{len(self.jobs) - len(self.reports) - len(self.failed)} skipped, "
                       f"{time.perf_counter() - start:.0f} s", err=True)
        if self.failed:
            names = ", ".join(str(f) for f in self.failed[:5]) + (", ..." if len(self.failed) > 5 else "")
            raise click.ClickException(f"restored {len(self.reports)} of {len(self.jobs)} files; "
                                       f"{len(self.failed)} failed ({names})")

    def _finish(self, outcome: Any, seen: dict[str, int]) -> None:
        from .. import io

        job = self.jobs[outcome.index]
        if self.bar is not None:
            self.bar.update(1)
        where = outcome.where
        _log.debug("%s: %s (%s on %s, pid %s, %s s)", job.source, "failed" if outcome.image is None else
                   "interrupted" if outcome.interrupted else "done", where.get("backend"), where.get("host"),
                   where.get("pid"), where.get("seconds"))
        if outcome.image is None:
            if not self.batch:
                raise InputError(outcome.error) if outcome.error else ConfigError("the fit failed")
            self.say(f"skipped {job.source}: {outcome.error}")
            self.failed.append(job.source)
            self._record(job, "failed", outcome.where, error=outcome.error)
            return
        io.save_image(job.output, outcome.image)
        report = outcome.report
        self.reports.append(report)
        if self.report_path is not None:
            text = json.dumps(self.reports if self.batch else report, indent=2, allow_nan=False)
            io.write_text_atomic(self.report_path, text + "\n")
        self._record(job, "interrupted" if outcome.interrupted else "ok", outcome.where, report=report)
        if not self.quiet:
            self.say(outcome.summary, err=False)
        if outcome.interrupted:
            code = 143 if seen["signal"] == signal.SIGTERM else 130
            raise Interrupted(_interrupted_text(report, job.output, self.report_path, self.work_dirs.get(job.index)),
                              code)


def _interrupted_text(report: dict[str, Any], out: Path, report_path: Path | None, work_dir: Any) -> str:
    where = f" and the report to {report_path}" if report_path else ""
    config = report.get("config", {})
    tiling = config.get("tiling")
    if not tiling:
        return f"interrupted at iteration {report['iterations']}: saved the current averaged image to {out}{where}"
    left, count = tiling.get("unrestored", []), config.get("stop", {}).get("tiles", "?")
    resume = f"; finish it with --work-dir {work_dir} --resume" if work_dir is not None and left else ""
    return f"interrupted: saved the image with {len(left)} of {count} tiles unrestored to {out}{where}{resume}"


__all__ = ["BATCH_KEYS", "batch_options", "run_files"]
