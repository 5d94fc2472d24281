"""A form's fields as people fill them in (text, empty for the default) turned into a task's keywords.

The web page and the napari widget both show a task's :class:`~deepprior.tasks.base.Option` definitions as
fields and read them back here, so a value is parsed and refused the same way in both (and then checked
against its range by the task, as for the command line and the API).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .base import Task

#: The shared settings a form offers (the rest, such as output paths and tiling, stay the front end's).
FORM_SETTINGS = ("preset", "stop", "num_iter", "time_limit", "seed")


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


def parse_options(task: Task, raw: Mapping[str, Any], upload_path: Callable[[str], Any]) -> dict[str, Any]:
    """A form's values of ``task``'s options as the API's keywords; empty fields are left out (defaults).

    ``path`` options hold an id that ``upload_path`` turns into the file (the web page's upload) or the array
    (the napari widget's mask layer); ``text`` options take no file names, so a page cannot make the server
    read its own files (deblur's kernel: a spec such as ``gaussian:1.6``).
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
    """The shared settings the page sends (:data:`FORM_SETTINGS`), typed; empty fields are left out."""
    unknown = sorted(set(raw) - set(FORM_SETTINGS))
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]!r}; a form sets {', '.join(FORM_SETTINGS)}")
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


__all__ = ["FORM_SETTINGS", "parse_options", "parse_settings"]
