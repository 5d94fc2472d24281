"""What the ``deepprior`` commands share: error handling, signals, the common options, batches of files.

Heavy libraries load inside the commands, so ``deepprior --version`` and ``--help`` answer at once.
"""

from __future__ import annotations

import functools
import math
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from ..errors import DeepPriorError

F = TypeVar("F", bound=Callable[..., Any])

DEVICES = ["auto", "cpu", "cuda", "mps"]
PRECISIONS = ["auto", "fp32", "bf16", "fp16"]
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}


class _OutputPath(click.Path):
    """A path that is not empty (``-o ""`` would otherwise mean the current folder)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            self.fail("the output path is empty; give a file (or, for several inputs, a folder)", param, ctx)
        return super().convert(value, param, ctx)


OUTPUT_PATH = _OutputPath(path_type=Path)


class FiniteFloatRange(click.FloatRange):
    """A float range that also refuses ``inf`` and ``nan`` (click's accepts both)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


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
    from ..presets import PRESET_NAMES

    return list(PRESET_NAMES)


def net_names() -> list[str]:
    from ..nets import NETWORKS

    return list(NETWORKS)


def stop_names() -> list[str]:
    from ..fit.stopping import stop_names as names

    return names()


def _log_level(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    from ..logs import configure

    if value:
        level = "debug" if param.name == "verbose" else value
        ctx.meta["deepprior.log_level"] = level
        configure(level)


def _quiet(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    """``-q``: no progress bar and a log of errors only, unless ``--log-level`` or ``-v`` says otherwise."""
    from ..logs import configure

    if value and "deepprior.log_level" not in ctx.meta:
        configure("error")
    return value


def log_params() -> list[click.Parameter]:
    """``--log-level`` and ``-v``, which every command takes (the log goes to standard error)."""
    from ..logs import LEVELS

    return [
        click.Option(["--log-level"], type=click.Choice(LEVELS), default=None, expose_value=False, is_eager=True,
                     callback=_log_level, help="Show the log from this level up on standard error [info]."),
        click.Option(["-v", "--verbose"], count=True, expose_value=False, is_eager=True, callback=_log_level,
                     help="Show the log from the debug level up (as --log-level debug)."),
    ]


def with_log_params(command: click.Command) -> click.Command:
    """The command, taking ``--log-level`` and ``-v`` (added once)."""
    names = {p.name for p in command.params}
    if "log_level" not in names:
        command.params.extend(p for p in log_params() if p.name not in names)
    return command


class LazyGroup(click.Group):
    """A group whose commands ``load`` adds at each lookup: the task commands and the bench tables come from
    the registries, which import PyTorch, so ``deepprior --version`` answers before that; and a task
    registered after the first lookup still becomes a command. ``load`` adds only what is missing.
    """

    def __init__(self, *args: Any, load: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._load = load

    def _ensure(self) -> None:
        self._load()

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._ensure()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._ensure()
        command = super().get_command(ctx, cmd_name)
        return None if command is None else with_log_params(command)


def click_option(option: Any) -> Callable[[F], F]:
    """A task's :class:`~deepprior.tasks.Option` as a click option (the flag is the API keyword with dashes)."""
    flag = option.flag
    if option.kind == "switch":
        return click.option(f"{flag}/--no-{flag[2:]}", option.name, default=option.default,
                            show_default=option.default is not None, help=option.help)
    kind: Any
    if option.kind in ("ints", "names"):
        return click.option(flag, option.name, type=str, default=option.default, metavar=option.metavar,
                            show_default=option.default is not None, help=option.help,
                            callback=lambda ctx, param, value: _comma_list(option, value))
    if option.kind == "choice":
        kind = click.Choice(list(option.choices))
    elif option.kind == "path":
        kind = click.Path(path_type=Path)
    elif option.kind == "text":
        kind = str
    else:
        ranged = click.IntRange if option.kind == "int" else FiniteFloatRange
        kind = ranged(min=option.low, max=option.high, min_open=option.low_open, max_open=option.high_open)
    return click.option(flag, option.name, type=kind, default=option.default, required=option.required,
                        metavar=option.metavar, show_default=option.default is not None, help=option.help)


def _comma_list(option: Any, value: str | None) -> tuple[Any, ...] | None:
    """A comma-separated list (``ints``: whole numbers, ``names``: words), each among ``choices`` if given."""
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    if option.choices and any(v not in option.choices for v in items):
        raise click.BadParameter(f"{value!r}: each must be one of {', '.join(option.choices)}")
    if option.kind == "names":
        return tuple(items)
    try:
        return tuple(int(v) for v in items)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a comma-separated list of whole numbers") from None


def common_options(fn: F) -> F:
    """The options every restoration command shares: one to one with :class:`deepprior.restore.Settings`
    (``--iters`` is ``num_iter``, ``-o`` is ``output``), plus ``--report`` and ``--overwrite``, which concern
    the files. Ranges beyond click's own are checked by :func:`deepprior.restore.checks.check_settings`.
    """
    from ..io import DEFAULT_MAX_PIXELS
    from ..restore.checks import MAX_ITERATIONS, MAX_TILE

    options = [
        click.option("--preset", type=click.Choice(preset_names()), default=None,
                     help="Named settings (the docs' Presets page); default: fast on a CPU, paper on a GPU."),
        click.option("--net", type=click.Choice(net_names()), default=None,
                     help="Network from `deepprior nets` (default: the preset's)."),
        click.option("--iters", "num_iter", type=click.IntRange(min=1, max=MAX_ITERATIONS), default=None,
                     help="Iteration cap (default: the preset's)."),
        click.option("--lr", type=FiniteFloatRange(min=0, min_open=True), default=None,
                     help="Adam learning rate (default: the preset's)."),
        click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
                     help="Seeds the weights, the input and its perturbations (0 to 2**63 - 1)."),
        click.option("--device", type=click.Choice(DEVICES), default="auto", show_default=True),
        click.option("--precision", type=click.Choice(PRECISIONS), default="auto",
                     show_default=True, help="auto: the preset's (fast: bf16 where the hardware has it)."),
        click.option("--threads", type=click.IntRange(min=1), default=None,
                     help="PyTorch CPU threads (at most the cores available to the process)."),
        click.option("--stop", type=click.Choice(stop_names()), default="auto", show_default=True,
                     help="Stopping rule (auto: the task's measured best; see the docs' Stopping rules page); "
                          "--iters is the cap."),
        click.option("--time-limit", type=FiniteFloatRange(min=0, min_open=True), default=None,
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
                     help="Write loss and PSNR curves (.png, .pdf, .svg, ...; needs deepprior[viz])."),
        click.option("--animation", type=click.Path(path_type=Path), default=None,
                     help="Write the fit as an animation (.gif; .mp4 with imageio-ffmpeg), from --snapshots "
                          "or about 50 evenly spaced iterations."),
        click.option("--compare", type=click.Path(path_type=Path), default=None,
                     help="Write corrupted | restored | reference | difference (.png, .pdf, .svg, ...; needs "
                          "deepprior[viz])."),
        click.option("--tile", type=click.IntRange(min=0, max=MAX_TILE), default=None,
                     help="Restore in tiles of this size (output pixels), fitted side by side on --threads "
                          "cores; 0: untiled unless the image would not fit --max-memory [default: the task's "
                          "rule (denoising on the CPU: 128 from 384x384 pixels), else only when the image would "
                          "not fit --max-memory]."),
        click.option("--overlap", type=click.IntRange(min=0, max=MAX_TILE), default=16, show_default=True,
                     help="Pixels each tile reaches into its neighbours (cross-faded over twice that)."),
        click.option("--max-memory", default=None, metavar="SIZE",
                     help="Memory budget, e.g. 4GB [default: half the machine's memory]."),
        click.option("--work-dir", type=click.Path(path_type=Path), default=None,
                     help="Save each finished tile here as it completes (for --resume); only with tiling."),
        click.option("--resume", is_flag=True, help="Continue a tiled job from --work-dir."),
        click.option("--max-pixels", type=click.IntRange(min=1), default=DEFAULT_MAX_PIXELS, show_default=True,
                     help="Refuse larger images (read from the header, before decoding)."),
        click.option("--overwrite", is_flag=True, help="Allow the output to replace the input file."),
        click.option("-q", "--quiet", is_flag=True, callback=_quiet,
                     help="No progress bar, no plan: only errors (unless --log-level says otherwise)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn
