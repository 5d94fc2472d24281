"""The ``deepprior`` command line: one command per registered task, ``degrade``, ``nets``, ``demo``, ``bench``,
``serve`` (the web page, :mod:`deepprior.web`).

Heavy libraries load inside the commands, so ``deepprior --version`` answers at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .._version import __version__
from .batch import BATCH_KEYS, batch_options, run_files
from .bench import bench
from .common import (
    CONTEXT,
    OUTPUT_PATH,
    FiniteFloatRange,
    Interrupted,
    LazyGroup,
    click_option,
    common_options,
    handle_errors,
    interrupts,
    log_params,
)


class _LazyEpilogCommand(click.Command):
    """Shows the preset table under ``--help``, built only then (it imports torch)."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from ..tasks import preset_table

        formatter.write_paragraph()
        formatter.write_text("Presets:")
        for line in preset_table().splitlines():
            formatter.write(f"  {line}\n")


@click.group(cls=LazyGroup, load=lambda: _register_commands(), context_settings=CONTEXT, params=log_params())
@click.version_option(__version__, "-V", "--version", prog_name="deepprior")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Restore images with untrained neural networks (Deep Image Prior and family)."""
    from ..logs import configure

    configure(ctx.meta.get("deepprior.log_level", "info"))  # a command's own --log-level or -v comes after


def _task_command(task: Any) -> None:
    """One restoration command per registered task, its options from the task module."""

    def command(output: Path, **kwargs: Any) -> None:
        images = {name: kwargs.pop(name) for name in task.inputs} if len(task.inputs) > 1 else None
        inputs = (images[task.inputs[-1]],) if images else kwargs.pop("inputs")
        extra = {o.name: kwargs.pop(o.name) for o in task.options}
        lead = tuple(images[name] for name in task.inputs[:-1]) if images else ()
        batch_opts = {k: kwargs.pop(k) for k in BATCH_KEYS}
        run_files(task.name, lead, inputs, output, kwargs, extra, batch_opts)

    command.__doc__ = task.summary
    fn: Any = handle_errors(command)
    fn = batch_options(common_options(fn))
    for option in reversed(task.options):
        fn = click_option(option)(fn)
    fn = click.option("-o", "--output", required=True, type=OUTPUT_PATH,
                      help="Output file (or folder)." if len(task.inputs) == 1 else "Output file.")(fn)
    if len(task.inputs) == 1:
        fn = click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))(fn)
    else:
        for name in reversed(task.inputs):
            fn = click.argument(name, type=click.Path(path_type=Path))(fn)
    cli.command(task.name, cls=_LazyEpilogCommand)(fn)


def _degrade_command() -> None:
    from ..tasks import stage_options

    def degrade(clean: Path, output: Path, mask_out: Path | None, overwrite: bool, seed: int, **opts: Any) -> None:
        """Corrupt a CLEAN image with seeded blur, downscaling, noise or missing pixels (clipped, same bit depth)."""
        from .. import io
        from ..api import degrade as run

        if output.resolve() == clean.resolve() and not overwrite:
            raise click.ClickException(f"output {output} is the input file; pass --overwrite to replace it")
        if mask_out is not None:
            _check_mask_out(mask_out, clean, output, overwrite, drop=opts.get("drop"))
        result = run(clean, seed=seed, **{k: v for k, v in opts.items() if v is not None})
        io.save_image(output, result.image)
        if mask_out is not None and result.mask is not None:
            import numpy as np

            io.save_image(mask_out, result.mask.astype(np.uint8) * 255)
        click.echo(f"saved {output}: {result.description}")

    fn: Any = handle_errors(degrade)
    for decorator in reversed([
        click.argument("clean", type=click.Path(path_type=Path)),
        click.option("-o", "--output", required=True, type=OUTPUT_PATH),
        *(click_option(o) for o in stage_options()),
        click.option("--mask-out", type=click.Path(path_type=Path), default=None,
                     help="Write the mask of kept pixels."),
        click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True),
        click.option("--overwrite", is_flag=True, help="Allow the output to replace the input file."),
    ]):
        fn = decorator(fn)
    cli.command("degrade")(fn)


def _check_mask_out(mask_out: Path, clean: Path, output: Path, overwrite: bool, *, drop: float | None) -> None:
    """Refuse a ``--mask-out`` that could not be written before anything is: else the image would be saved
    and the command fail after it, leaving half its output.
    """
    from .. import io

    if drop is None:
        raise click.ClickException("--mask-out needs --drop")
    if mask_out.resolve() == output.resolve():
        raise click.ClickException(f"--mask-out {mask_out} is the output image too")
    if mask_out.resolve() == clean.resolve() and not overwrite:
        raise click.ClickException(f"--mask-out {mask_out} is the input file; pass --overwrite to replace it")
    if mask_out.suffix.lower() not in io.WRITABLE_SUFFIXES:
        raise click.ClickException(f"cannot save --mask-out {mask_out}: unknown image format "
                                   f"{mask_out.suffix or '(none)'}; expected one of "
                                   f"{', '.join(sorted(io.WRITABLE_SUFFIXES))}")
    folder = mask_out.parent if str(mask_out.parent) else Path(".")
    if not folder.is_dir():
        raise click.ClickException(f"--mask-out folder {folder} does not exist")


def _register_commands() -> None:
    """A command for every registered task not yet one (tasks registered later join at the next lookup), and
    ``degrade`` once.
    """
    from ..tasks import TASKS

    for task in TASKS.values():
        if task.name not in cli.commands:
            _task_command(task)
    if "degrade" not in cli.commands:
        _degrade_command()


@cli.command()
def nets() -> None:
    """List the registered networks with their parameter counts (RGB output)."""
    from ..nets import NETWORKS, count_parameters

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
    from ..demo import run_demo

    run_demo(out_dir, num_iter=num_iter, seed=seed, quiet=quiet, echo=click.echo)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; 0.0.0.0 opens the page to the network (no authentication).")
@click.option("--port", type=click.IntRange(0, 65535), default=7860, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Fits at a time; other users wait in a queue that shows their position.")
@click.option("--max-upload-mb", type=FiniteFloatRange(min=0, min_open=True), default=32.0, show_default=True,
              help="Largest upload accepted.")
@click.option("--max-pixels", type=click.IntRange(min=1), default=4_000_000, show_default=True,
              help="Largest image accepted (read from the header, before decoding).")
@click.option("--heartbeat", type=FiniteFloatRange(min=1), default=30.0, show_default=True,
              help="Seconds without a poll from its page after which a job is cancelled.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda", "mps"]), default="auto", show_default=True)
@click.option("--threads", type=click.IntRange(min=1), default=None, help="PyTorch CPU threads per fit.")
@handle_errors
def serve(host: str, port: int, workers: int, max_upload_mb: float, max_pixels: int, heartbeat: float,
          device: str, threads: int | None) -> None:
    """Serve a local web page: restore in the browser, draw the inpainting mask, watch the fit live."""
    try:
        from ..web.server import ServerConfig
        from ..web.server import serve as run
    except ImportError as exc:
        raise click.ClickException(f"the web page needs the web extra ({exc.name} is missing): "
                                   'pip install "deepprior[web]"') from None
    run(ServerConfig(host=host, port=port, workers=workers, max_upload_mb=max_upload_mb, max_pixels=max_pixels,
                     heartbeat=heartbeat, device=device, threads=threads))


cli.add_command(bench)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="deepprior")


if __name__ == "__main__":  # pragma: no cover
    main()


__all__ = ["Interrupted", "cli", "interrupts", "main"]
