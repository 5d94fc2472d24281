"""Every setting checked before a fit starts: ranges, names, the files a restoration will write.

:func:`parse_settings` turns the settings an entry point was given into a typed
:class:`~deepprior.restore.settings.RunSettings` and checks them once with :func:`check_settings`, which needs
only the settings;
:func:`check_outputs` needs the problem too (the output's format against the image's depth and alpha,
snapshots against the iteration cap, a work folder against tiling). :func:`~deepprior.restore.restore` runs
both, so the API and the command line refuse the same values with the same one-line messages.

Documented ranges (README, "Limits"): ``seed`` 0 .. 2**63 - 1; ``num_iter`` 1 .. 10,000,000; ``lr`` and
``time_limit`` positive and finite; ``threads`` 1 .. the cores available to the process; ``tile`` 0 (untiled) or 8 ..
65536 and ``overlap`` 0 .. 65536; ``max_memory`` positive and finite; ``max_pixels`` >= 1 (None: no limit).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..device import check_threads
from ..errors import ConfigError, InputError
from ..io.formats import check_pixels, check_writable
from ..tiling import parse_memory
from .callbacks import snapshot_list
from .problem import Problem
from .settings import RunSettings

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


def check_settings(s: RunSettings) -> None:
    """Check the settings that need no image (:func:`~deepprior.restore.settings.parse_settings` runs this).

    Raises:
        ConfigError: a value out of its documented range, an empty name, an option that would be ignored.
        InputError: a figure, snapshot or output path whose folder is missing or whose format is unknown.

    """
    fit, outs, tiling, run = s.fit, s.outputs, s.tiling, s.runtime
    for key in ("preset", "net", "device", "precision", "stop"):
        value = getattr(fit, key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ConfigError(f"{key} {value!r} is invalid; expected a name (see `deepprior --help`)")
    check_seed(fit.seed)
    if fit.num_iter is not None:
        if isinstance(fit.num_iter, int) and not isinstance(fit.num_iter, bool) and fit.num_iter < 1:
            raise ConfigError(f"iterations {fit.num_iter} is invalid: must be >= 1 (the iteration cap)")
        _whole(fit.num_iter, "iterations", 1, MAX_ITERATIONS)
    if fit.lr is not None:
        _positive(fit.lr, "learning rate")
    if fit.time_limit is not None:
        _positive(fit.time_limit, "time limit")
    check_threads(fit.threads)
    if run.cancel is not None and not callable(getattr(run.cancel, "is_set", None)):
        raise ConfigError(f"cancel {run.cancel!r} is invalid; expected a flag with is_set() (threading.Event)")
    tile = tiling.tile
    if tile is not None and not (type(tile) is int and tile == 0):  # 0: untiled
        if type(tile) is int and 0 < tile < 8:
            raise ConfigError(f"tile {tile} is invalid; expected 0 (untiled) or a whole number from 8 to "
                              f"{MAX_TILE:,}")
        _whole(tile, "tile", 8, MAX_TILE)
    _whole(tiling.overlap, "overlap", 0, MAX_TILE)
    if tiling.max_memory is not None:
        parse_memory(tiling.max_memory)
    if run.max_pixels is not None:
        _whole(run.max_pixels, "max_pixels", 1, 2**62)
    if run.tile_map is not None and not callable(run.tile_map):
        raise ConfigError(f"tile_map {run.tile_map!r} is not callable")
    if tiling.resume and tiling.work_dir is None:
        raise ConfigError("--resume needs --work-dir")
    snapshots = outs.snapshots
    if snapshots is not None and not snapshot_list(snapshots):
        raise ConfigError(f"snapshots {snapshots!r} names no iteration; expected iterations like 100,500")
    if outs.snapshot_dir is not None:
        if snapshots is None:
            raise ConfigError("--snapshot-dir needs --snapshots (the iterations to save)")
        _folder_of(outs.snapshot_dir, "snapshot")
    if outs.curves is not None or outs.compare is not None:
        from ..viz import check_figure_path

        for key, path in (("curves", outs.curves), ("compare", outs.compare)):
            if path is not None:
                check_figure_path(path, key)
                _folder_of(path, key)
    if outs.animation is not None:
        from ..viz import check_animation_path

        check_animation_path(outs.animation)
        _folder_of(outs.animation, "animation")
    if outs.output is not None:
        check_writable(outs.output)  # its folder and format; the depth and alpha once the image is read


def check_outputs(s: RunSettings, problem: Problem, *, num_iter: int, tiled: bool) -> None:
    """Check what needs the problem: its size against ``max_pixels``, the output's format against the
    image's depth, alpha and channels, snapshots against the iteration cap, a work folder against tiling.
    """
    out_h, out_w = problem.output_shape
    if problem.factor != 1:
        check_pixels(out_w, out_h, s.runtime.max_pixels, f"the {problem.task} output")
    if s.outputs.output is not None:
        check_writable(s.outputs.output, bit_depth=problem.image.bit_depth, alpha=problem.out_alpha is not None,
                       channels=problem.image.channels)
    late = [i for i in snapshot_list(s.outputs.snapshots) if i > num_iter]
    if late:
        raise ConfigError(f"snapshot iteration {late[0]} is beyond the iteration cap {num_iter} (--iters); "
                          "it would never be saved")
    if s.tiling.work_dir is not None and not tiled:
        raise ConfigError("--work-dir is only used when tiling, and this image is restored without tiles "
                          "(it fits --max-memory); pass --tile N to restore it in tiles, or leave out --work-dir")


def parse_settings(settings: Mapping[str, Any] | RunSettings | None = None,
                   options: Mapping[str, Any] | None = None) -> RunSettings:
    """``settings`` (a mapping, or settings already parsed) updated by the flat ``options``, every value
    checked (:func:`check_settings`): what each entry point calls once.

    Raises:
        TypeError: an unknown setting's name.
        ConfigError: a value out of its range (one line, naming it).
        InputError: a figure or output path whose folder is missing or whose format is unknown.

    """
    if isinstance(settings, RunSettings):
        if settings.checked and not options:
            return settings  # checked once, where it was parsed
        s = settings.replace(**(options or {}))
    else:
        s = RunSettings.from_flat({**(settings or {}), **(options or {})})
    check_settings(s)
    return dataclasses.replace(s, checked=True)


__all__ = ["MAX_ITERATIONS", "MAX_SEED", "MAX_TILE", "check_outputs", "check_seed", "check_settings", "parse_settings"]
