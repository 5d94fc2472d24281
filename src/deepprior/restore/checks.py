"""Every setting checked before a fit starts: ranges, names, the files a restoration will write.

:func:`check_settings` needs only the settings (the CLI runs it once before a batch); :func:`check_outputs`
needs the problem too (the output's format against the image's depth and alpha, snapshots against the
iteration cap, a work folder against tiling). :func:`~deepprior.restore.restore` runs both, so the API and
the command line refuse the same values with the same one-line messages.

Documented ranges (README, "Limits"): ``seed`` 0 .. 2**63 - 1; ``num_iter`` 1 .. 10,000,000; ``lr`` and
``time_limit`` positive and finite; ``threads`` 1 .. the cores available to the process; ``tile`` 0 (untiled) or 8 ..
65536 and ``overlap`` 0 .. 65536; ``max_memory`` positive and finite; ``max_pixels`` >= 1 (None: no limit).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..device import check_threads
from ..errors import ConfigError, InputError
from ..formats import check_pixels, check_writable
from ..tiling import parse_memory
from .callbacks import snapshot_list
from .problem import Problem

#: The seeds accepted: 0 .. 2**63 - 1 (beyond 32 bits they are mixed, see :mod:`deepprior.fit.seeding`).
MAX_SEED = 2**63 - 1
#: The largest iteration cap accepted (at 1 s per iteration, about four months).
MAX_ITERATIONS = 10_000_000
#: The largest tile side and overlap accepted.
MAX_TILE = 65_536


def _whole(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{name} {value!r} is invalid; expected a whole number from {low} to {high:,}")
    return value


def _positive(value: Any, name: str) -> float:
    ok = not isinstance(value, bool) and isinstance(value, (int, float))
    if not ok or not 0 < value < math.inf:
        raise ConfigError(f"{name} {value!r} is invalid; expected a positive, finite number")
    return float(value)


def check_seed(seed: Any) -> int:
    """The seed, or a :class:`ConfigError` naming it: a whole number from 0 to 2**63 - 1."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"seed {seed!r} is invalid; expected a whole number from 0 to 2**63 - 1")
    return seed


def _folder_of(path: Any, what: str) -> None:
    folder = Path(path).parent
    if str(folder) and not folder.is_dir():
        raise InputError(f"{what} folder {folder} does not exist")
    if str(folder) and not os.access(folder, os.W_OK):
        raise InputError(f"{what} folder {folder} is not writable")
    if Path(path).is_dir():
        raise InputError(f"{what} {path} is a folder; expected a file name")


def check_settings(s: Mapping[str, Any]) -> None:
    """Check merged settings (see :func:`~deepprior.restore.problem.merged`) that need no image.

    Raises:
        ConfigError: a value out of its documented range, an empty name, an option that would be ignored.
        InputError: a figure, snapshot or output path whose folder is missing or whose format is unknown.

    """
    for key in ("preset", "net", "device", "precision", "stop"):
        if s.get(key) is not None and (not isinstance(s[key], str) or not s[key].strip()):
            raise ConfigError(f"{key} {s[key]!r} is invalid; expected a name (see `deepprior --help`)")
    check_seed(s["seed"])
    if s["num_iter"] is not None:
        if isinstance(s["num_iter"], int) and not isinstance(s["num_iter"], bool) and s["num_iter"] < 1:
            raise ConfigError(f"iterations {s['num_iter']} is invalid: must be >= 1 (the iteration cap)")
        _whole(s["num_iter"], "iterations", 1, MAX_ITERATIONS)
    if s["lr"] is not None:
        _positive(s["lr"], "learning rate")
    if s["time_limit"] is not None:
        _positive(s["time_limit"], "time limit")
    check_threads(s["threads"])
    if s["cancel"] is not None and not callable(getattr(s["cancel"], "is_set", None)):
        raise ConfigError(f"cancel {s['cancel']!r} is invalid; expected a flag with is_set() (threading.Event)")
    if s["tile"] is not None and not (type(s["tile"]) is int and s["tile"] == 0):  # 0: untiled
        if type(s["tile"]) is int and 0 < s["tile"] < 8:
            raise ConfigError(f"tile {s['tile']} is invalid; expected 0 (untiled) or a whole number from 8 to "
                              f"{MAX_TILE:,}")
        _whole(s["tile"], "tile", 8, MAX_TILE)
    _whole(s["overlap"], "overlap", 0, MAX_TILE)
    if s["max_memory"] is not None:
        parse_memory(s["max_memory"])
    if s["max_pixels"] is not None:
        _whole(s["max_pixels"], "max_pixels", 1, 2**62)
    if s["tile_map"] is not None and not callable(s["tile_map"]):
        raise ConfigError(f"tile_map {s['tile_map']!r} is not callable")
    if s["resume"] and s["work_dir"] is None:
        raise ConfigError("--resume needs --work-dir")
    snapshots = s["snapshots"]
    if snapshots is not None and not snapshot_list(snapshots):
        raise ConfigError(f"snapshots {snapshots!r} names no iteration; expected iterations like 100,500")
    if s["snapshot_dir"] is not None:
        if snapshots is None:
            raise ConfigError("--snapshot-dir needs --snapshots (the iterations to save)")
        _folder_of(s["snapshot_dir"], "snapshot")
    if s["curves"] is not None or s["compare"] is not None:
        from ..viz import check_figure_path

        for key in ("curves", "compare"):
            if s[key] is not None:
                check_figure_path(s[key], key)
                _folder_of(s[key], key)
    if s["animation"] is not None:
        from ..viz import check_animation_path

        check_animation_path(s["animation"])
        _folder_of(s["animation"], "animation")
    if s["output"] is not None:
        check_writable(s["output"])  # its folder and format; the depth and alpha once the image is read


def check_outputs(s: Mapping[str, Any], problem: Problem, *, num_iter: int, tiled: bool) -> None:
    """Check what needs the problem: its size against ``max_pixels``, the output's format against the
    image's depth, alpha and channels, snapshots against the iteration cap, a work folder against tiling.
    """
    out_h, out_w = problem.output_shape
    if problem.factor != 1:
        check_pixels(out_w, out_h, s["max_pixels"], f"the {problem.task} output")
    if s["output"] is not None:
        check_writable(s["output"], bit_depth=problem.image.bit_depth, alpha=problem.out_alpha is not None,
                       channels=problem.image.channels)
    late = [i for i in snapshot_list(s["snapshots"]) if i > num_iter]
    if late:
        raise ConfigError(f"snapshot iteration {late[0]} is beyond the iteration cap {num_iter} (--iters); "
                          "it would never be saved")
    if s["work_dir"] is not None and not tiled:
        raise ConfigError("--work-dir is only used when tiling, and this image is restored without tiles "
                          "(it fits --max-memory); pass --tile N to restore it in tiles, or leave out --work-dir")


__all__ = ["MAX_ITERATIONS", "MAX_SEED", "MAX_TILE", "check_outputs", "check_seed", "check_settings"]
