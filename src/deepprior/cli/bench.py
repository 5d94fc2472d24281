"""``deepprior bench``: the speed benchmark and one command per benchmark table of the registered tasks."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .common import (
    CONTEXT,
    DEVICES,
    PRECISIONS,
    F,
    FiniteFloatRange,
    LazyGroup,
    click_option,
    handle_errors,
    net_names,
    preset_names,
    stop_names,
)


@click.group(cls=LazyGroup, load=lambda: _register_tables(), context_settings=CONTEXT)
def bench() -> None:
    """Benchmarks: the paper's tables (denoise, pixels, sr), any folder, and speed."""


@bench.command("speed")
@click.option("--size", type=click.IntRange(min=16, max=16384), default=512, show_default=True,
              help="Image side in pixels.")
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
    from .. import io
    from ..bench.speed import COMPILED_CASE, DEFAULT_CASES, speed_markdown, time_cases
    from ..device import set_threads
    from ..restore.report import strict_json

    set_threads(threads)
    cases = (*DEFAULT_CASES, COMPILED_CASE) if with_compile else DEFAULT_CASES
    result = time_cases(cases, size=size, warmup=warmup, repeats=repeats, rounds=rounds, device=device,
                        echo=click.echo)
    command = "deepprior " + " ".join(sys.argv[1:]) if sys.argv and "deepprior" in sys.argv[0] else ""
    if json_path is not None:
        io.write_text_atomic(json_path, json.dumps(strict_json(result), indent=1, allow_nan=False) + "\n")
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
        click.option("--lr", type=FiniteFloatRange(min=0, min_open=True), default=None,
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
        click.option("--no-baselines", is_flag=True, help="Skip the classical baselines."),
        click.option("--quick", is_flag=True, help="Tiny crops, 20 iterations, 2 images per set (for CI)."),
        click.option("--json", "json_path", type=click.Path(path_type=Path), default=None,
                     help="Write the results as JSON (after every image)."),
        click.option("--resume", is_flag=True,
                     help="Keep the images already in --json (same table and settings) and run the rest."),
        click.option("--markdown", type=click.Path(path_type=Path), default=None, help="Write a Markdown table."),
        click.option("--plots", type=click.Path(path_type=Path), default=None,
                     help="Folder for curves and bar charts."),
    ]


def _run_table(table: str, no_baselines: bool, json_path: Path | None, markdown: Path | None, plots: Path | None,
               resume: bool, **opts: Any) -> None:
    from ..bench import BenchConfig, run_table, write_outputs

    if plots is not None:
        from ..viz import require_viz

        require_viz()
    opts["images"] = tuple(n for n in opts.pop("images", "").split(",") if n)
    cfg = BenchConfig(table=table, baselines=not no_baselines, **opts)
    command = "deepprior " + " ".join(sys.argv[1:]) if sys.argv and "deepprior" in sys.argv[0] else ""

    def save_partial(partial: dict[str, Any]) -> None:
        write_outputs(partial, json_path=json_path, markdown_path=markdown, plots=None, command=command)

    earlier = None
    if resume:
        if json_path is None:
            raise click.UsageError("--resume needs --json (the results to resume)")
        if json_path.exists():
            try:
                earlier = json.loads(json_path.read_text())
            except (OSError, ValueError) as exc:
                raise click.ClickException(f"cannot resume from {json_path}: {exc}") from None
    result = run_table(cfg, echo=click.echo, on_row=save_partial, resume=earlier)
    write_outputs(result, json_path=json_path, markdown_path=markdown, plots=plots, command=command)
    from ..bench.harness import to_markdown

    click.echo(to_markdown(result, command=command))


def _add_table_command(table: str, help_text: str, flags: tuple[Any, ...]) -> None:
    def command(**kwargs: Any) -> None:
        _run_table(table, **kwargs)

    command.__doc__ = help_text
    fn: Any = handle_errors(command)
    for option in reversed([*_table_options(), *(click_option(f) for f in flags)]):
        fn = option(fn)
    bench.command(table)(fn)


def _register_tables() -> None:
    from ..tasks import tables

    for name, (_, table) in tables().items():
        if name not in bench.commands:
            _add_table_command(name, table.help, table.flags)
