"""What a task is: its options, how it turns images and options into a :class:`Problem`, and its defaults.

A task is data plus functions, not a branch in five files: the command line builds its commands and
choices from :data:`TASKS`, the API its functions, ``--stop auto`` the rule (the problem carries it),
``deepprior degrade`` its corruption stages and ``deepprior bench`` its tables.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConfigError
from ..io import ImageData
from ..presets import OWNERS, PresetRow
from ..restore.problem import Problem

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from ..benchdata import Case


@dataclass(frozen=True)
class Option:
    """One option of a task: a keyword of its API function and a flag of its CLI command, one to one.

    Attributes:
        name: the API keyword (the flag is ``--name`` with dashes, unless ``flag`` says otherwise).
        help: one line for ``--help``.
        kind: ``float``, ``int``, ``choice``, ``path``, ``text``, ``switch`` (a ``--x/--no-x`` pair), or a
            comma-separated list: ``ints`` (whole numbers) or ``names`` (words; each among ``choices`` if given).
        default: the default (None: not given).
        choices: the allowed values of a ``choice``.
        low / high: the range of a number; ``low_open`` / ``high_open`` exclude the end.
        required: the CLI refuses to run without it.
        metavar: how ``--help`` shows the value.
        label: its name for people (the web page's field; default: the name in words).

    """

    name: str
    help: str
    kind: str = "float"
    default: Any = None
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    required: bool = False
    metavar: str | None = None
    label: str = ""

    @property
    def title(self) -> str:
        """The label, or the name in words (``keep_known``: "Keep known")."""
        return self.label or self.name.replace("_", " ").capitalize()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class Stage:
    """A corruption that ``deepprior degrade`` applies for a task (noise, missing pixels, blur, ...).

    Attributes:
        order: stages run in increasing order (blur 10, downscale 20, noise 30, drop 40).
        options: the degrade options this stage reads.
        apply: ``apply(x, alpha, options, generator) -> (x, alpha, description, mask)``; ``description``
            is None when the stage's options were not given (nothing done).

    """

    order: int
    options: tuple[Option, ...]
    apply: Callable[..., tuple[torch.Tensor, Any, str | None, Any]]


@dataclass(frozen=True)
class Table:
    """A benchmark table of a task (``deepprior bench NAME``).

    Attributes:
        name: the table's name.
        help: one line for ``--help``.
        cases: ``cases(cfg, data_folder) -> iterator of Case``.
        baselines: ``baselines(case) -> {name: restored image}`` (classical methods beside).
        options: what the task's API function is told for one case: ``options(case) -> dict``.
        flags: the table's own options (``deepprior bench NAME --...``), fields of the harness's config.

    """

    name: str
    help: str
    cases: Callable[..., Any]
    baselines: Callable[[Case], dict[str, Any]]
    options: Callable[[Case], dict[str, Any]]
    flags: tuple[Option, ...] = ()


@dataclass(frozen=True)
class Task:
    """A restoration task.

    Attributes:
        name: the command's and the report's name (``denoise``, ``super-resolve``, ...).
        summary: one line for ``--help``.
        inputs: the names of its image arguments (``("image",)``; flash/no-flash has two).
        options: its own options (the common ones are :class:`~deepprior.restore.Settings`).
        build: ``build(images, **options) -> Problem``: the operator, data term, mask, network input and
            ``--stop auto``'s rule for these images and options. Raises before any fit on bad input.
        presets: its preset rows by name.
        min_side: the smallest side its (last) image may have.
        target: how errors name that image.
        stages: its corruptions for ``deepprior degrade``.
        tables: its benchmark tables.
        example: a small input it restores (:class:`Example`), for the contract tests and to try.
        title: what it does in a few words for people (the web page's task list; default: the name).
        api_name: the API function's name (default: ``name`` with underscores).

    """

    name: str
    summary: str
    inputs: tuple[str, ...]
    options: tuple[Option, ...]
    build: Callable[..., Problem]
    presets: Mapping[str, PresetRow]
    min_side: int = 8
    target: str = "image"
    stages: tuple[Stage, ...] = ()
    tables: tuple[Table, ...] = ()
    example: Callable[[], Example] | None = None
    title: str = ""

    @property
    def api_name(self) -> str:
        return self.name.replace("-", "_")


@dataclass(frozen=True)
class Example:
    """A small input a task restores: in the contract tests over every task, and as something to try.

    Attributes:
        images: the task's images, in the order of ``Task.inputs`` (float arrays in [0, 1], ``H x W x C``).
        options: its own options for them (a mask as an array, a scale, a blur kernel).
        clean: the image the corrupted input was made from, to score against.

    """

    images: tuple[np.ndarray, ...]
    options: Mapping[str, Any]
    clean: np.ndarray


def synthetic_scene(height: int = 48, width: int = 40, seed: int = 0) -> np.ndarray:
    """A smooth colour scene with edges (a gradient, a disc and a bar), seeded: an example's clean image.

    Example:
        >>> synthetic_scene(8, 6).shape
        (8, 6, 3)

    """
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    rng = np.random.default_rng(seed)
    cy, cx = rng.uniform(0.3, 0.7, 2)
    disc = ((yy - cy) ** 2 + (xx - cx) ** 2 < 0.06).astype(float)
    bar = ((xx > 0.15) & (xx < 0.25)).astype(float)
    img = np.stack([0.2 + 0.5 * xx + 0.3 * disc, 0.3 + 0.4 * yy + 0.2 * bar, 0.6 - 0.3 * xx + 0.2 * disc], axis=2)
    return np.clip(img, 0, 1).astype(np.float32)


def gaussian_noise(clean: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """``clean`` with Gaussian noise of ``sigma`` (0-255 scale) added and clipped, seeded."""
    rng = np.random.default_rng(seed)
    return np.clip(clean + rng.normal(0, sigma / 255, clean.shape), 0, 1).astype(np.float32)


class Registry(dict[str, Task]):
    """The tasks by name; a lookup of an unknown name is an error that lists the known ones."""

    def register(self, task: Task) -> Task:
        if task.name in self:
            raise ConfigError(f"task {task.name!r} is registered twice")
        self[task.name] = task
        for name in task.presets:
            OWNERS.setdefault(name, []).append(task.name)
        return task

    def unregister(self, name: str) -> Task:
        """Remove a task (a plugin unloaded, a test's toy task); its presets stop naming it."""
        task = self.pop(name)
        for preset in task.presets:
            owners = OWNERS.get(preset, [])
            if name in owners:
                owners.remove(name)
        return task

    def get_task(self, name: str) -> Task:
        if name not in self:
            raise ConfigError(f"unknown task {name!r}; expected one of {', '.join(self)}")
        return self[name]


def stem_of(source: object) -> str:
    """The file name's stem of an image source (for snapshot names), else ``image``."""
    if isinstance(source, (str, Path)):
        return Path(source).stem
    if isinstance(source, ImageData) and source.path is not None:
        return source.path.stem
    return "image"


def check_value(option: Option, value: Any) -> None:
    """A number option's value: finite and within ``low`` / ``high`` (the CLI's ranges, for the API too)."""
    if value is None or option.kind not in ("float", "int"):
        return
    whole = option.kind == "int"
    kinds = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value):
        raise ConfigError(f"{option.flag} {value!r} is invalid; expected a finite {'whole ' if whole else ''}number")
    low_ok = option.low is None or (value > option.low if option.low_open else value >= option.low)
    high_ok = option.high is None or (value < option.high if option.high_open else value <= option.high)
    if not (low_ok and high_ok):
        low = "" if option.low is None else f"{option.low:g} {'<' if option.low_open else '<='} "
        high = "" if option.high is None else f" {'<' if option.high_open else '<='} {option.high:g}"
        raise ConfigError(f"{option.flag} {value!r} is out of range; expected {low}x{high}")


def option_values(options: Sequence[Option], given: Mapping[str, Any]) -> dict[str, Any]:
    """The options' values: ``given`` where present, the defaults elsewhere; unknown names and numbers out of
    range are an error.
    """
    names = {o.name for o in options}
    unknown = sorted(set(given) - names)
    if unknown:
        raise ConfigError(f"unknown option {unknown[0]!r}; expected one of {', '.join(sorted(names))}")
    for o in options:
        check_value(o, given.get(o.name))
    return {o.name: given.get(o.name, o.default) for o in options}
