"""The shared settings, parsed once at the entry point into frozen groups and passed down typed.

The API takes the settings as flat keywords or a :class:`~deepprior.restore.problem.Settings` mapping, the
command line as flags, the web page as a form, a batch as a pickled mapping: each entry point hands them to
:func:`~deepprior.restore.checks.parse_settings` once, which fills in the defaults, refuses unknown names,
checks every value (:func:`~deepprior.restore.checks.check_settings`) and returns a :class:`RunSettings`.
Below the entry points the code reads typed attributes grouped by concern (``s.fit.seed``,
``s.tiling.overlap``, ``s.outputs.curves``, ``s.runtime.cancel``), never string keys.

Example:
    >>> s = RunSettings.from_flat({"num_iter": 500, "device": None})
    >>> s.fit.num_iter, s.fit.device, s.tiling.overlap
    (500, 'auto', 16)
    >>> s.replace(seed=3).fit.seed
    3

"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..fit.loop import Callback
from ..fit.protocols import CancelFlag
from ..io import DEFAULT_MAX_PIXELS, ImageSource

#: A parallel map for a tiled run's tiles: ``tile_map(fn, [args, ...])`` yields ``fn(*args)`` in order.
TileMap = Callable[[Callable[..., Any], list[tuple[Any, ...]]], Any]


@dataclass(frozen=True)
class FitSettings:
    """What is fitted and how: the preset and network, the fit's knobs, where it runs, when it stops."""

    preset: str | None = None
    net: str | None = None
    num_iter: int | None = None
    lr: float | None = None
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"
    threads: int | None = None
    stop: str = "auto"
    time_limit: float | None = None


@dataclass(frozen=True)
class OutputSettings:
    """What a restoration writes or scores beside its image: the output file, figures, snapshots, the reference."""

    reference: ImageSource | None = None
    snapshots: Sequence[int] | str | None = None
    snapshot_dir: str | Path | None = None
    curves: str | Path | None = None
    animation: str | Path | None = None
    compare: str | Path | None = None
    output: str | Path | None = None


@dataclass(frozen=True)
class TilingSettings:
    """Whether and how the image is cut into tiles, and where finished tiles are kept."""

    tile: int | None = None
    overlap: int = 16
    max_memory: str | int | None = None
    work_dir: str | Path | None = None
    resume: bool = False

    def changed(self) -> list[str]:
        """The names of the settings given other values than their defaults (refused where tiles cannot be)."""
        default = TilingSettings()
        return [f.name for f in dataclasses.fields(self) if getattr(self, f.name) != getattr(default, f.name)]


@dataclass(frozen=True)
class RuntimeSettings:
    """How the run talks to its caller: progress, hooks, cancellation, input limits, a parallel tile map."""

    quiet: bool = True
    callbacks: tuple[Callback, ...] = ()
    cancel: CancelFlag | None = None
    max_pixels: int | None = DEFAULT_MAX_PIXELS
    tile_map: TileMap | None = None


#: Settings where None means "the default" (elsewhere None has a meaning of its own: no limit, no figure).
NONE_IS_DEFAULT = ("seed", "device", "precision", "stop", "quiet", "callbacks", "overlap", "resume")

_GROUPS: dict[str, type] = {"fit": FitSettings, "outputs": OutputSettings, "tiling": TilingSettings,
                            "runtime": RuntimeSettings}
#: Each flat setting's group.
GROUP_OF: dict[str, str] = {f.name: group for group, cls in _GROUPS.items() for f in dataclasses.fields(cls)}


@dataclass(frozen=True)
class RunSettings:
    """Every shared setting of one restoration, grouped by concern."""

    fit: FitSettings = field(default_factory=FitSettings)
    outputs: OutputSettings = field(default_factory=OutputSettings)
    tiling: TilingSettings = field(default_factory=TilingSettings)
    runtime: RuntimeSettings = field(default_factory=RuntimeSettings)
    #: Whether :func:`parse_settings` checked these values (a change makes a copy that is not).
    checked: bool = field(default=False, repr=False, compare=False)

    @classmethod
    def from_flat(cls, flat: Mapping[str, Any]) -> RunSettings:
        """From flat names (the API's keywords); unknown names are a TypeError, None takes the default
        where None has no meaning of its own (``device=None`` is ``"auto"``; ``max_pixels=None``: no limit).
        """
        return cls().replace(**flat)

    def replace(self, **flat: Any) -> RunSettings:
        """A copy with the flat settings given changed (as :meth:`from_flat` reads them)."""
        unknown = sorted(set(flat) - set(GROUP_OF))
        if unknown:
            raise TypeError(f"unexpected setting {unknown[0]!r}; the settings are {', '.join(GROUP_OF)}")
        changes: dict[str, dict[str, Any]] = {}
        for name, value in flat.items():
            if value is None and name in NONE_IS_DEFAULT:
                value = DEFAULTS[name]
            if name == "callbacks":
                value = tuple(value)
            changes.setdefault(GROUP_OF[name], {})[name] = value
        groups = {g: dataclasses.replace(getattr(self, g), **c) for g, c in changes.items()}
        return dataclasses.replace(self, checked=False, **groups)

    def flat(self) -> dict[str, Any]:
        """The settings by their flat names (what :meth:`from_flat` reads back)."""
        return {f.name: getattr(getattr(self, g), f.name) for g in _GROUPS
                for f in dataclasses.fields(getattr(self, g))}


#: Every setting's default, by its flat name.
DEFAULTS: dict[str, Any] = RunSettings().flat()


__all__ = ["DEFAULTS", "FitSettings", "GROUP_OF", "NONE_IS_DEFAULT", "OutputSettings", "RunSettings",
           "RuntimeSettings", "TileMap", "TilingSettings"]
