"""The page's form, generated from the task registry, and the page's values read back into keywords.

:func:`form` is what ``GET /api/form`` serves: every task with its inputs and its :class:`~deepprior.tasks.Option`
definitions (kind, choices, range, default, help), its presets, and the shared settings the page offers. The
page builds its fields from it, so a new task module gives the page its form with no change here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..tasks import TASKS, Option, Task

#: The shared settings the page offers (the rest, such as output paths and tiling, stay the server's).
PAGE_SETTINGS = ("preset", "stop", "num_iter", "time_limit", "seed")

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


def _number(option_name: str, value: Any, whole: bool) -> int | float:
    text = str(value).strip()
    try:
        number: int | float = int(text) if whole else float(text)
    except ValueError:
        kind = "a whole number" if whole else "a number"
        raise ConfigError(f"{option_name} {text!r} is invalid; expected {kind}") from None
    if isinstance(number, float) and not math.isfinite(number):
        raise ConfigError(f"{option_name} {text!r} is invalid; expected a finite number")
    return number


def _given(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def parse_options(task: Task, raw: Mapping[str, Any], upload_path: Callable[[str], Path]) -> dict[str, Any]:
    """The page's values of ``task``'s options as the API's keywords; empty fields are left out (defaults).

    ``path`` options hold an upload's id (``upload_path`` turns it into its file); ``text`` options take no
    file names, so a page cannot make the server read its own files (deblur's kernel: a spec such as
    ``gaussian:1.6``).
    """
    known = {o.name: o for o in task.options}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(f"unknown option {unknown[0]!r} for {task.name}; expected one of {', '.join(known)}")
    out: dict[str, Any] = {}
    for name, value in raw.items():
        option = known[name]
        if not _given(value):
            continue
        if option.kind in ("float", "int"):
            out[name] = _number(option.flag, value, option.kind == "int")
        elif option.kind == "switch":
            out[name] = value is True or str(value).lower() in ("true", "1", "on", "yes")
        elif option.kind == "choice":
            if str(value) not in option.choices:
                raise ConfigError(f"{option.flag} {value!r} is invalid; expected one of {', '.join(option.choices)}")
            out[name] = str(value)
        elif option.kind == "path":
            out[name] = upload_path(str(value))
        else:
            text = str(value).strip()
            if "/" in text or "\\" in text or Path(text).suffix.lower() in (".png", ".tif", ".tiff", ".npy"):
                raise ConfigError(f"{option.flag} {text!r}: the page takes no file names here (give a spec such "
                                  "as gaussian:1.6)")
            out[name] = text
    missing = [o.flag for o in task.options if o.required and o.name not in out]
    if missing:
        raise ConfigError(f"{task.name} needs {missing[0]}")
    return out


def parse_settings(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The shared settings the page sends (:data:`PAGE_SETTINGS`), typed; empty fields are left out."""
    unknown = sorted(set(raw) - set(PAGE_SETTINGS))
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]!r}; the page sets {', '.join(PAGE_SETTINGS)}")
    out: dict[str, Any] = {}
    for key in ("preset", "stop"):
        if _given(raw.get(key)):
            out[key] = str(raw[key])
    if _given(raw.get("num_iter")):
        out["num_iter"] = _number("iterations", raw["num_iter"], True)
    if _given(raw.get("seed")):
        out["seed"] = _number("seed", raw["seed"], True)
    if _given(raw.get("time_limit")):
        out["time_limit"] = _number("time limit", raw["time_limit"], False)
    return out
