"""The ``deepprior`` command line.

Heavy libraries load inside the commands, so ``deepprior --version`` and ``--help`` answer at once.
"""

from __future__ import annotations

import functools
import json
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from ._version import __version__
from .errors import DeepPriorError

F = TypeVar("F", bound=Callable[..., Any])

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}
DEVICES = ["auto", "cpu", "cuda", "mps"]
PRECISIONS = ["auto", "fp32", "bf16", "fp16"]
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}


class Interrupted(Exception):
    """A fit was interrupted; its partial result was saved."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def handle_errors(fn: F) -> F:
    """Turn deepprior's errors into one line on stderr and a non-zero exit, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DeepPriorError as exc:
            raise click.ClickException(str(exc)) from None
        except Interrupted as exc:
            click.echo(str(exc), err=True)
            sys.exit(exc.code)
        except OSError as exc:
            raise click.ClickException(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")) from None

    return wrapper  # type: ignore[return-value]


@contextmanager
def interrupts() -> Iterator[dict[str, int]]:
    """Make SIGTERM behave like Ctrl-C inside a fit, and remember which signal arrived."""
    seen: dict[str, int] = {"signal": 0}

    def on_term(signum: int, frame: Any) -> None:
        seen["signal"] = signum
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGTERM, previous)


def preset_names() -> list[str]:
    from .presets import PRESET_NAMES

    return list(PRESET_NAMES)


def net_names() -> list[str]:
    from .nets import NETWORKS

    return list(NETWORKS)


def stop_names() -> list[str]:
    from .fit.stopping import stop_names as names

    return names()


def common_options(fn: F) -> F:
    """The options every restoration command shares: one to one with :class:`deepprior.restore.Settings`
    (``--iters`` is ``num_iter``), plus ``--report`` and ``--overwrite``, which concern the files.
    """
    options = [
        click.option("--preset", type=click.Choice(preset_names()), default=None,
                     help="Named settings; default: fast on a CPU, paper on a GPU. See the table below."),
        click.option("--net", type=click.Choice(net_names()), default=None,
                     help="Network from `deepprior nets` (default: the preset's)."),
        click.option("--iters", "num_iter", type=click.IntRange(min=0), default=None,
                     help="Iteration cap (default: the preset's)."),
        click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=None,
                     help="Adam learning rate (default: the preset's)."),
        click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
                     help="Seeds the weights, the input and its perturbations."),
        click.option("--device", type=click.Choice(DEVICES), default="auto", show_default=True),
        click.option("--precision", type=click.Choice(PRECISIONS), default="auto",
                     show_default=True, help="auto: the preset's (fast: bf16 where the hardware has it)."),
        click.option("--threads", type=click.IntRange(min=1), default=None, help="PyTorch CPU threads."),
        click.option("--stop", type=click.Choice(stop_names()), default="auto", show_default=True,
                     help="Stopping rule (auto: the task's measured best, see the README); --iters is the cap."),
        click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None,
                     help="Seconds after which the fit stops and saves its current image."),
        click.option("--reference", type=click.Path(dir_okay=True, path_type=Path), default=None,
                     help="Clean image (or folder of them, matched by name) to report PSNR and SSIM."),
        click.option("--report", type=click.Path(path_type=Path), default=None,
                     help="Write a JSON report (iterations, stop, timing, PSNR, history, settings)."),
        click.option("--snapshots", default=None, metavar="N,N,...",
                     help="Save the averaged image at these iterations."),
        click.option("--snapshot-dir", type=click.Path(path_type=Path), default=None,
                     help="Folder for snapshots [default: OUTPUT-stem_snapshots/]."),
        click.option("--curves", type=click.Path(path_type=Path), default=None,
                     help="Write loss and PSNR curves (PNG; needs deepprior[viz])."),
        click.option("--animation", type=click.Path(path_type=Path), default=None,
                     help="Write the fit as an animation (.gif; .mp4 with imageio-ffmpeg), from --snapshots "
                          "or about 50 evenly spaced iterations."),
        click.option("--compare", type=click.Path(path_type=Path), default=None,
                     help="Write corrupted | restored | reference | difference (PNG; needs deepprior[viz])."),
        click.option("--tile", type=click.IntRange(min=8), default=None,
                     help="Restore in tiles of this size (output pixels) [default: only when the image would "
                          "not fit --max-memory]."),
        click.option("--overlap", type=click.IntRange(min=0), default=16, show_default=True,
                     help="Pixels each tile reaches into its neighbours (cross-faded over twice that)."),
        click.option("--max-memory", default=None, metavar="SIZE",
                     help="Memory budget, e.g. 4GB [default: half the machine's memory]."),
        click.option("--work-dir", type=click.Path(path_type=Path), default=None,
                     help="Save each finished tile here as it completes (for --resume)."),
        click.option("--resume", is_flag=True, help="Continue a tiled job from --work-dir."),
        click.option("--overwrite", is_flag=True, help="Allow the output to replace the input file."),
        click.option("-q", "--quiet", is_flag=True, help="No progress bar."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _expand_inputs(inputs: tuple[Path, ...]) -> tuple[list[Path], bool]:
    files: list[Path] = []
    batch = len(inputs) > 1
    for p in inputs:
        if p.is_dir():
            batch = True
            found = sorted(q for q in p.iterdir() if q.suffix.lower() in IMAGE_SUFFIXES and q.is_file())
            if not found:
                raise click.ClickException(f"folder {p} holds no image files")
            files.extend(found)
        elif not p.exists():
            raise click.ClickException(f"no such file: {p}")
        else:
            files.append(p)
    return files, batch


def _outputs(files: list[Path], output: Path, batch: bool, overwrite: bool) -> list[Path]:
    if batch:
        if not output.is_dir():
            raise click.ClickException(f"with several inputs, -o must be an existing folder; {output} is not")
        outs = [output / f"{f.stem}.png" for f in files]
    elif output.is_dir():
        outs = [output / f"{files[0].stem}.png"]
    else:
        outs = [output]
        if not output.parent.is_dir() and str(output.parent):
            raise click.ClickException(f"output folder {output.parent} does not exist")
    for f, o in zip(files, outs, strict=False):
        if o.resolve() == f.resolve() and not overwrite:
            raise click.ClickException(f"output {o} is the input file; pass --overwrite to replace it")
    return outs


def _reference_for(reference: Path | None, image: Path, batch: bool) -> Path | None:
    if reference is None:
        return None
    if reference.is_dir():
        matches = [q for q in reference.iterdir() if q.stem == image.stem and q.suffix.lower() in IMAGE_SUFFIXES]
        if not matches:
            raise click.ClickException(f"no reference named {image.stem}.* in {reference}")
        return matches[0]
    if batch:
        raise click.ClickException("with several inputs, --reference must be a folder of images with the same names")
    return reference


def _run_many(
    task: str,
    run: Callable[..., Any],
    inputs: tuple[Path, ...],
    output: Path,
    opts: dict[str, Any],
    extra: dict[str, Any],
) -> None:
    files, batch = _expand_inputs(inputs)
    outs = _outputs(files, output, batch, opts.pop("overwrite"))
    reference = opts.pop("reference")
    report_path: Path | None = opts.pop("report")
    snapshot_dir = opts.pop("snapshot_dir")
    figures = {k: opts.pop(k) for k in ("curves", "animation", "compare")}
    work_root = opts.get("work_dir")
    if opts.get("resume") and work_root is None:
        raise click.ClickException("--resume needs --work-dir")
    if report_path is not None and not (report_path.parent.is_dir() or not str(report_path.parent)):
        raise click.ClickException(f"report folder {report_path.parent} does not exist")
    from . import io

    reports = []
    with interrupts() as seen:
        for f, out in zip(files, outs, strict=False):
            snap_dir = snapshot_dir
            if opts.get("snapshots") and snap_dir is None:
                snap_dir = out.parent / f"{out.stem}_snapshots"
            elif snap_dir is not None and batch:
                snap_dir = Path(snap_dir) / out.stem
            if work_root is not None and batch:
                opts = {**opts, "work_dir": Path(work_root) / out.stem}
            per_file = {k: (None if v is None else (v.parent / f"{v.stem}_{out.stem}{v.suffix}" if batch else v))
                        for k, v in figures.items()}
            result = run(
                f, reference=_reference_for(reference, f, batch), snapshot_dir=snap_dir, **opts, **extra,
                **per_file,
            )
            result.save(out)
            rep = result.report()
            rep["input"], rep["output"] = str(f), str(out)
            reports.append(rep)
            if report_path is not None:
                io.write_text_atomic(report_path, json.dumps(reports if batch else rep, indent=2) + "\n")
            if not opts.get("quiet"):
                click.echo(_summary(result, out), err=False)
            if result.fit.stop_reason == "interrupted":
                code = 143 if seen["signal"] == signal.SIGTERM else 130
                where = f" and the report to {report_path}" if report_path else ""
                raise Interrupted(
                    f"interrupted at iteration {result.fit.iterations}: saved the current averaged image to {out}"
                    f"{where}", code
                )


def _summary(result: Any, out: Path) -> str:
    parts = [f"saved {out}", f"{result.fit.iterations} iterations ({result.fit.stop_reason})",
             f"{result.fit.seconds:.1f} s", f"{result.device}/{result.precision}"]
    if result.psnr is not None:
        before = f"{result.input_psnr:.2f} -> " if result.input_psnr is not None else ""
        parts.append(f"PSNR {before}{result.psnr:.2f} dB")
    if result.ssim is not None:
        parts.append(f"SSIM {result.ssim:.4f}")
    return ", ".join(parts)


class _LazyEpilogCommand(click.Command):
    """Shows the preset table under ``--help``, built only then (it imports torch)."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from .tasks import preset_table

        formatter.write_paragraph()
        formatter.write_text("Presets:")
        for line in preset_table().splitlines():
            formatter.write(f"  {line}\n")


class _TaskGroup(click.Group):
    """Adds one command per registered task (and ``degrade``) when a command is first looked up, so that
    ``deepprior --version`` answers before PyTorch loads.
    """

    _ready = False

    def _ensure(self) -> None:
        if not _TaskGroup._ready:
            _TaskGroup._ready = True
            _register_commands()

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._ensure()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._ensure()
        return super().get_command(ctx, cmd_name)


@click.group(cls=_TaskGroup, context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="deepprior")
def cli() -> None:
    """Restore images with untrained neural networks (Deep Image Prior and family)."""


def click_option(option: Any, *, prefix: str = "") -> Callable[[F], F]:
    """A task's :class:`~deepprior.tasks.Option` as a click option (the flag is the API keyword with dashes)."""
    flag = option.flag
    if option.kind == "switch":
        return click.option(f"{flag}/--no-{flag[2:]}", option.name, default=option.default,
                            show_default=option.default is not None, help=option.help)
    kind: Any
    if option.kind == "choice":
        kind = click.Choice(list(option.choices))
    elif option.kind == "path":
        kind = click.Path(path_type=Path)
    elif option.kind == "text":
        kind = str
    else:
        ranged = click.IntRange if option.kind == "int" else click.FloatRange
        kind = ranged(min=option.low, max=option.high, min_open=option.low_open, max_open=option.high_open)
    return click.option(flag, option.name, type=kind, default=option.default, required=option.required,
                        metavar=option.metavar, show_default=option.default is not None, help=option.help)


def _task_command(task: Any) -> None:
    """One restoration command per registered task, its options from the task module."""

    def command(output: Path, **kwargs: Any) -> None:
        from .tasks import run_task

        images = {name: kwargs.pop(name) for name in task.inputs} if len(task.inputs) > 1 else None
        inputs = (images[task.inputs[-1]],) if images else kwargs.pop("inputs")
        extra = {o.name: kwargs.pop(o.name) for o in task.options}
        if "scale" in extra and extra["scale"] is not None:
            extra["scale"] = int(extra["scale"])
        lead = tuple(images[name] for name in task.inputs[:-1]) if images else ()

        def run(f: Path, **common: Any) -> Any:
            return run_task(task.name, (*lead, f), extra, None, **common)

        _run_many(task.name, run, inputs, output, kwargs, {})

    command.__doc__ = task.summary
    fn: Any = handle_errors(command)
    fn = common_options(fn)
    for option in reversed(task.options):
        fn = click_option(option)(fn)
    fn = click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
                      help="Output file (or folder)." if len(task.inputs) == 1 else "Output file.")(fn)
    if len(task.inputs) == 1:
        fn = click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))(fn)
    else:
        for name in reversed(task.inputs):
            fn = click.argument(name, type=click.Path(path_type=Path))(fn)
    cli.command(task.name, cls=_LazyEpilogCommand)(fn)


def _degrade_command() -> None:
    from .tasks import stage_options

    def degrade(clean: Path, output: Path, mask_out: Path | None, overwrite: bool, seed: int, **opts: Any) -> None:
        """Corrupt a CLEAN image with seeded blur, downscaling, noise or missing pixels (clipped, same bit depth)."""
        from . import io
        from .api import degrade as run

        if output.resolve() == clean.resolve() and not overwrite:
            raise click.ClickException(f"output {output} is the input file; pass --overwrite to replace it")
        if mask_out is not None and opts.get("drop") is None:
            raise click.ClickException("--mask-out needs --drop")
        result = run(clean, seed=seed, **{k: v for k, v in opts.items() if v is not None})
        io.save_image(output, result.image)
        if mask_out is not None and result.mask is not None:
            import numpy as np

            io.save_image(mask_out, result.mask.astype(np.uint8) * 255)
        click.echo(f"saved {output}: {result.description}")

    fn: Any = handle_errors(degrade)
    for decorator in reversed([
        click.argument("clean", type=click.Path(path_type=Path)),
        click.option("-o", "--output", required=True, type=click.Path(path_type=Path)),
        *(click_option(o) for o in stage_options()),
        click.option("--mask-out", type=click.Path(path_type=Path), default=None,
                     help="Write the mask of kept pixels."),
        click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True),
        click.option("--overwrite", is_flag=True, help="Allow the output to replace the input file."),
    ]):
        fn = decorator(fn)
    cli.command("degrade")(fn)


def _register_commands() -> None:
    from .tasks import TASKS

    for task in TASKS.values():
        _task_command(task)
    _degrade_command()


@cli.command()
def nets() -> None:
    """List the registered networks with their parameter counts (RGB output)."""
    from .nets import NETWORKS, count_parameters

    click.echo(f"{'name':<12} {'parameters':>12}  description")
    for name, entry in NETWORKS.items():
        n = count_parameters(entry.builder(entry.input_depth, 3, entry.config))
        click.echo(f"{name:<12} {n:>12,}  {entry.summary}")


@cli.command()
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("demo-output"), show_default=True,
              help="Folder for the demo's images and report.")
@click.option("--iters", "num_iter", type=click.IntRange(min=1), default=1200, show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("-q", "--quiet", is_flag=True)
@handle_errors
def demo(out_dir: Path, num_iter: int, seed: int, quiet: bool) -> None:
    """Denoise a 128x128 crop of scikit-image's astronaut (sigma 25) and report PSNR before and after."""
    from .demo import run_demo

    run_demo(out_dir, num_iter=num_iter, seed=seed, quiet=quiet, echo=click.echo)


def _int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a comma-separated list of whole numbers") from None


class _BenchGroup(_TaskGroup):
    """Adds one command per benchmark table of the registered tasks on first lookup."""

    _tables_ready = False

    def _ensure(self) -> None:
        if not _BenchGroup._tables_ready:
            _BenchGroup._tables_ready = True
            _register_tables()


@cli.group(cls=_BenchGroup, context_settings=CONTEXT)
def bench() -> None:
    """Benchmarks: the paper's tables (denoise, pixels, sr), any folder, and speed."""


@bench.command("speed")
@click.option("--size", type=click.IntRange(min=16), default=512, show_default=True, help="Image side in pixels.")
@click.option("--warmup", type=click.IntRange(min=0), default=2, show_default=True)
@click.option("--repeats", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--rounds", type=click.IntRange(min=1), default=1, show_default=True,
              help="Alternate the configurations this many times.")
@click.option("--device", type=click.Choice(DEVICES), default="auto", show_default=True)
@click.option("--threads", type=click.IntRange(min=1), default=None)
@click.option("--compile", "with_compile", is_flag=True,
              help="Also time fast through torch.compile (its first, compiling iteration is shown apart).")
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None)
@click.option("--markdown", type=click.Path(path_type=Path), default=None)
@handle_errors
def bench_speed(size: int, warmup: int, repeats: int, rounds: int, device: str, threads: int | None,
                with_compile: bool, json_path: Path | None, markdown: Path | None) -> None:
    """Per-iteration time of each preset against the paper configuration in float32, side by side."""
    from . import io
    from .bench.speed import COMPILED_CASE, DEFAULT_CASES, speed_markdown, time_cases
    from .device import set_threads

    set_threads(threads)
    cases = (*DEFAULT_CASES, COMPILED_CASE) if with_compile else DEFAULT_CASES
    result = time_cases(cases, size=size, warmup=warmup, repeats=repeats, rounds=rounds, device=device,
                        echo=click.echo)
    command = "deepprior " + " ".join(sys.argv[1:]) if sys.argv and "deepprior" in sys.argv[0] else ""
    if json_path is not None:
        io.write_text_atomic(json_path, json.dumps(result, indent=1) + "\n")
    text = speed_markdown(result, command=command)
    if markdown is not None:
        io.write_text_atomic(markdown, text)
    click.echo(text)


def _table_options() -> list[Callable[[F], F]]:
    """The options every benchmark table shares."""
    return [
        click.option("--data", type=click.Path(path_type=Path), default=None,
                      help="Folder holding dip-paper/ [default: $DEEPPRIOR_DATA, else ../shared/data]."),
        click.option("--preset", type=click.Choice(preset_names()), default=None,
                     help="As for the restoration commands."),
        click.option("--net", type=click.Choice(net_names()), default=None, help="Network from `deepprior nets`."),
        click.option("--iters", "num_iter", type=click.IntRange(min=0), default=None, help="Iteration cap."),
        click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=None,
                     help="Adam's learning rate (default: the preset's)."),
        click.option("--stop", type=click.Choice(stop_names()), default="none", show_default=True),
        click.option("--crop", type=click.IntRange(min=8), default=None,
                     help="Centre crop SIZE x SIZE of every image."),
        click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first N images of each set."),
        click.option("--images", default="", help="Only these images, comma-separated names as the table shows them."),
        click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True),
        click.option("--device", type=click.Choice(DEVICES), default="auto", show_default=True),
        click.option("--precision", type=click.Choice(PRECISIONS), default="auto", show_default=True),
        click.option("--threads", type=click.IntRange(min=1), default=None),
        click.option("--sigmas", default="25,50", show_default=True, help="denoise: noise levels of the paper's set."),
        click.option("--scales", default="4", show_default=True, help="sr: factors (4, 8)."),
        click.option("--sets", default="Set5,Set14", show_default=True, help="sr: which sets."),
        click.option("--folder", type=click.Path(path_type=Path), default=None,
                     help="folder: clean images to corrupt."),
        click.option("--noise", type=click.Choice(["gaussian", "poisson", "salt-pepper", "speckle"]), default=None,
                      help="folder: noise model (as in degrade)."),
        click.option("--sigma", type=click.FloatRange(min=0), default=None, help="folder: as in degrade."),
        click.option("--peak", type=click.FloatRange(min=0, min_open=True), default=None,
                     help="folder: as in degrade."),
        click.option("--amount", type=click.FloatRange(0, 1), default=None, help="folder: as in degrade."),
        click.option("--setting", type=click.Choice(["matched", "blind", "mse"]), default="matched", show_default=True,
                     help="folder: what denoise is told: the noise and its level, nothing, or the noise with MSE."),
        click.option("--no-baselines", is_flag=True, help="Skip the classical baselines."),
        click.option("--quick", is_flag=True, help="Tiny crops, 20 iterations, 2 images per set (for CI)."),
        click.option("--json", "json_path", type=click.Path(path_type=Path), default=None,
                     help="Write the results as JSON."),
        click.option("--markdown", type=click.Path(path_type=Path), default=None, help="Write a Markdown table."),
        click.option("--plots", type=click.Path(path_type=Path), default=None,
                     help="Folder for curves and bar charts."),
    ]


def _run_table(table: str, sigmas: str, scales: str, sets: str, no_baselines: bool, json_path: Path | None,
               markdown: Path | None, plots: Path | None, **opts: Any) -> None:
    from .bench import BenchConfig, run_table, write_outputs

    if plots is not None:
        from .viz import require_viz

        require_viz()
    scale_list = _int_list(scales)
    if any(s not in (2, 4, 8) for s in scale_list):
        raise click.BadParameter(f"scales {scales!r}: each must be 2, 4 or 8", param_hint="--scales")
    opts["images"] = tuple(n for n in opts.pop("images", "").split(",") if n)
    cfg = BenchConfig(table=table, sigmas=_int_list(sigmas), scales=scale_list,
                      sets=tuple(s for s in sets.split(",") if s), baselines=not no_baselines, **opts)
    command = "deepprior " + " ".join(sys.argv[1:]) if sys.argv and "deepprior" in sys.argv[0] else ""

    def save_partial(partial: dict[str, Any]) -> None:
        write_outputs(partial, json_path=json_path, markdown_path=markdown, plots=None, command=command)

    result = run_table(cfg, echo=click.echo, on_row=save_partial)
    write_outputs(result, json_path=json_path, markdown_path=markdown, plots=plots, command=command)
    from .bench.harness import to_markdown

    click.echo(to_markdown(result, command=command))


def _add_table_command(table: str, help_text: str) -> None:
    def command(**kwargs: Any) -> None:
        _run_table(table, **kwargs)

    command.__doc__ = help_text
    fn: Any = handle_errors(command)
    for option in reversed(_table_options()):
        fn = option(fn)
    bench.command(table)(fn)


def _register_tables() -> None:
    from .tasks import tables

    for name, (_, table) in tables().items():
        _add_table_command(name, table.help)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="deepprior")


if __name__ == "__main__":  # pragma: no cover
    main()
