"""``deepprior bench``: the speed benchmark and one command per benchmark table of the registered tasks."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .common import CONTEXT, DEVICES, PRECISIONS, F, LazyGroup, handle_errors, net_names, preset_names, stop_names


def _int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a comma-separated list of whole numbers") from None


@click.group(cls=LazyGroup, load=lambda: _register_tables(), context_settings=CONTEXT)
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
    from .. import io
    from ..bench.speed import COMPILED_CASE, DEFAULT_CASES, speed_markdown, time_cases
    from ..device import set_threads

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
    from ..bench import BenchConfig, run_table, write_outputs

    if plots is not None:
        from ..viz import require_viz

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
    from ..bench.harness import to_markdown

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
    from ..tasks import tables

    for name, (_, table) in tables().items():
        _add_table_command(name, table.help)
