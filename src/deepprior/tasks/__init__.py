"""The task registry: one module per task, one :data:`TASKS` entry each.

The command line, the API, ``deepprior degrade`` and ``deepprior bench`` are all built from :data:`TASKS`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from .. import io
from ..errors import ConfigError, InputError
from ..fit.seeding import generator_seed
from ..io import ImageData, ImageSource
from ..presets import PRESET_HEAD, PRESET_NAMES, Preset, TaskInfo, preset_line
from ..presets import resolve_preset as _resolve_row
from ..restore import Problem, Restoration, RunSettings, Settings, parse_settings, restore
from ..restore.checks import check_seed
from ..restore.many import BATCH_SIZE, restore_many
from . import deblur, denoise, flash, inpaint, jpeg, superres
from .base import Option, Registry, Stage, Table, Task, option_values, stem_of

TASKS = Registry()
for _module in (denoise, inpaint, superres, jpeg, flash):
    TASKS.register(_module.TASK)
TASKS.register(deblur.TASK)

def check_size(img: ImageData, what: str = "image", min_side: int = 8) -> None:
    """Refuse an image smaller than ``min_side`` on a side, naming its size."""
    if min(img.height, img.width) < min_side:
        raise InputError(f"{what} is {img.size_text}; deepprior needs at least {min_side}x{min_side} pixels")


def build_problem(name: str, images: Sequence[ImageSource], options: Mapping[str, Any],
                  settings: Settings | RunSettings | None = None, **common: Any) -> Problem:
    """Read the images and build the task's problem, before any fit (the first half of :func:`run_task`).

    The settings are checked first, then each image's header (``max_pixels``, one frame), then the rest:
    every bad input (an unreadable file, a mask of another size) is refused here, in one line.
    """
    s = parse_settings(settings, common)
    task = TASKS.get_task(name)
    return _problem(task, option_values(task.options, options), images, s)


def _problem(task: Task, values: Mapping[str, Any], images: Sequence[ImageSource], s: RunSettings) -> Problem:
    loaded = [io.load_image(source, max_pixels=s.runtime.max_pixels) for source in images]
    check_size(loaded[-1], task.target, task.min_side)
    problem = task.build(*loaded, **values)
    problem.stem = stem_of(images[-1])
    return problem


def run_task(name: str, images: Sequence[ImageSource], options: Mapping[str, Any],
             settings: Settings | RunSettings | None = None, **common: Any) -> Restoration:
    """Read the images, build the task's problem and restore it (what every API function does); the
    settings are parsed and checked once, before any image is read.
    """
    s = parse_settings(settings, common)
    return restore(build_problem(name, images, options, s), s)


def run_task_many(name: str, inputs: Sequence[Sequence[ImageSource]], options: Mapping[str, Any],
                  settings: Settings | RunSettings | None = None, *, seeds: Sequence[int] | None = None,
                  references: Sequence[ImageSource | None] | None = None, batch_size: int | None = BATCH_SIZE,
                  **common: Any) -> list[Restoration]:
    """:func:`run_task` for many inputs (each a tuple of the task's images) with the same task options: the
    same-sized ones fitted as one batch (:func:`~deepprior.restore.many.restore_many`).
    """
    task = TASKS.get_task(name)
    values = option_values(task.options, options)
    s = parse_settings(settings, common)
    problems = [_problem(task, values, images, s) for images in inputs]
    return restore_many(problems, s, seeds=seeds, references=references, batch_size=batch_size)


def resolve_preset(name: str, info: TaskInfo) -> Preset:
    """The preset ``name`` for ``info.task``."""
    return _resolve_row(name, info, TASKS.get_task(info.task).presets)


def preset_table() -> str:
    """A plain-text table of every preset for every task (for ``--help`` and the README)."""
    rows = [preset_line(_resolve_row(name, TaskInfo(task=t.name, sigma=25, scale=4), t.presets), t.name)
            for name in PRESET_NAMES for t in TASKS.values() if name in t.presets]
    return "\n".join([PRESET_HEAD, *rows])


def presets_for(task: str) -> list[str]:
    """The preset names a task accepts."""
    return list(TASKS.get_task(task).presets)


def stages() -> list[Stage]:
    """Every task's corruption stage, in the order ``degrade`` applies them."""
    return sorted((s for t in TASKS.values() for s in t.stages), key=lambda s: s.order)


def stage_options() -> list[Option]:
    """The options of ``degrade``: every stage's, each name once."""
    seen: dict[str, Option] = {}
    for stage in stages():
        for option in stage.options:
            seen.setdefault(option.name, option)
    return list(seen.values())


def tables() -> dict[str, tuple[Task, Table]]:
    """Every benchmark table by name, with its task."""
    return {table.name: (t, table) for t in TASKS.values() for table in t.tables}


def degrade_image(image: ImageSource, *, seed: int = 0, **options: Any) -> tuple[ImageData, Any, str]:
    """Corrupt a clean image with every stage whose options are given; returns (image, kept mask, description).

    Stages run in order (blur, downscale, noise, drop); the result is clipped to [0, 1] after each and keeps
    the input's bit depth. Every random draw comes from one generator seeded with ``seed``.
    """
    names = {o.name for o in stage_options()}
    unknown = sorted(set(options) - names)
    if unknown:
        raise TypeError(f"unexpected option {unknown[0]!r}; degrade takes {', '.join(sorted(names))} and seed")
    option_values(stage_options(), {k: v for k, v in options.items() if v is not None})  # ranges
    check_seed(seed)
    img = io.load_image(image)
    check_size(img, min_side=1)  # a damaged file can decode to an image of no pixels
    x, alpha, mask = io.to_tensor(img.pixels), img.alpha, None
    gen = torch.Generator().manual_seed(generator_seed(seed))
    parts: list[str] = []
    for stage in stages():
        x, alpha, text, kept = stage.apply(x, alpha, options, gen)
        x = x.clamp(0, 1)
        if text is not None:
            parts.append(text)
        if kept is not None:
            mask = kept
    if not parts:
        raise ConfigError("nothing to do: give a noise level (--sigma, --peak, --amount), --drop, --downscale or "
                          "--blur")
    out = ImageData(pixels=io.quantize(io.from_tensor(x), img.bit_depth), alpha=alpha, bit_depth=img.bit_depth)
    return out, mask, ", ".join(parts)


__all__ = ["TASKS", "Option", "Stage", "Table", "Task", "build_problem", "degrade_image", "preset_table", "presets_for",
           "resolve_preset", "run_task", "run_task_many", "stage_options", "tables"]
