"""The page's form, generated from the task registry, and the page's values read back into keywords.

:func:`form` is what ``GET /api/form`` serves: every task with its inputs and its :class:`~deepprior.tasks.Option`
definitions (kind, choices, range, default, help), its presets, and the shared settings the page offers. The
page builds its fields from it, so a new task module gives the page its form with no change here.
"""

from __future__ import annotations

from typing import Any

from ..tasks import TASKS, Option, Task
from ..tasks.fields import FORM_SETTINGS, parse_options, parse_settings

#: The shared settings the page offers (the rest, such as output paths and tiling, stay the server's).
PAGE_SETTINGS = FORM_SETTINGS

#: Options a brush can draw on the photo (white = known, black = missing).
DRAWN = ("mask",)


def option_json(option: Option) -> dict[str, Any]:
    """One option as the page reads it: the CLI's flag, its kind and limits; ``path`` options are uploads."""
    return {
        "name": option.name,
        "label": option.title,
        "flag": option.flag,
        "help": option.help,
        "kind": option.kind,
        "default": option.default,
        "choices": list(option.choices),
        "low": option.low,
        "high": option.high,
        "low_open": option.low_open,
        "high_open": option.high_open,
        "required": option.required,
        "draw": option.kind == "path" and option.name in DRAWN,
    }


def task_json(task: Task) -> dict[str, Any]:
    presets = list(task.presets)
    return {
        "name": task.name,
        "title": task.title or task.name,
        "summary": task.summary,
        "inputs": list(task.inputs),
        "options": [option_json(o) for o in task.options],
        "presets": presets,
        "default_preset": "fast" if "fast" in presets else presets[0],
    }


def form() -> dict[str, Any]:
    """Every task's form and the shared settings, as JSON (``GET /api/form``)."""
    from ..fit.stopping import stop_names
    from ..restore.checks import MAX_ITERATIONS, MAX_SEED

    return {
        "tasks": [task_json(t) for t in TASKS.values()],
        "settings": {
            "stop": {"choices": stop_names(), "default": "auto",
                     "help": "Stopping rule (auto: the task's measured best); the iterations stay the cap."},
            "num_iter": {"low": 1, "high": MAX_ITERATIONS, "help": "Iteration cap (empty: the preset's)."},
            "time_limit": {"low": 0, "help": "Seconds after which the fit stops and returns its current image."},
            "seed": {"low": 0, "high": MAX_SEED, "default": 0, "help": "Seeds the weights, input and perturbations."},
        },
    }


__all__ = ["DRAWN", "PAGE_SETTINGS", "form", "option_json", "parse_options", "parse_settings", "task_json"]
