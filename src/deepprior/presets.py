"""Presets: named bundles of a network, its architecture and the fit's settings, resolved per task.

``paper`` reproduces the Deep Image Prior reference settings for each task; ``fast`` is the default on a
CPU (a narrower network in bfloat16 with channels-last where the CPU supports it). A preset is a function
of the task, so that ``paper`` means the paper's settings *for that task*: each task module
(:mod:`deepprior.tasks`) holds its own rows, built from the pieces below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError
from .fit.config import FitConfig
from .nets import SkipConfig


@dataclass(frozen=True)
class TaskInfo:
    """What a preset may depend on.

    Attributes:
        task: the task's name (``denoise``, ``inpaint``, ``super-resolve``, ...).
        sigma: the Gaussian noise level on the 0-255 scale when known.
        scale: the super-resolution factor.

    """

    task: str
    sigma: float | None = None
    scale: int | None = None


@dataclass(frozen=True)
class Preset:
    """A resolved preset.

    Attributes:
        name: the preset's name.
        net: the registered network (``--net``).
        net_config: its architecture.
        fit: the fit's settings.
        precision: ``auto`` (bfloat16 where the device supports it, else float32) or a fixed one.
        summary: one line for ``--help`` and the README.

    """

    name: str
    net: str
    net_config: Any
    fit: FitConfig
    precision: str
    summary: str


#: A preset row: the preset of one name for one task, as a function of what is known of the input.
PresetRow = Callable[[TaskInfo], Preset]

#: The preset names, in the order ``--help`` lists them; each task offers a subset.
PRESET_NAMES = ("fast", "paper", "paper-pixels", "paper-region", "paper-text")

#: The paper's network: the skip net with 128 channels at 5 levels.
PAPER_NET = SkipConfig()

#: The network of ``fast`` outside denoising: the skip net with 64 channels a level.
FAST_NET = SkipConfig(channels_down=(64,) * 5, channels_up=(64,) * 5, channels_skip=(4,) * 5)


def paper_preset(fit: FitConfig, summary: str, net_config: Any = PAPER_NET, net: str = "skip") -> Preset:
    """A ``paper`` row: the reference's settings in float32."""
    return Preset("paper", net, net_config, fit, "fp32", summary)


#: The tasks that offer each preset name (filled as the tasks register), for the error messages.
OWNERS: dict[str, list[str]] = {}


def resolve_preset(name: str, info: TaskInfo, rows: Mapping[str, PresetRow]) -> Preset:
    """The preset ``name`` among a task's ``rows``, or a :class:`ConfigError` naming the choices."""
    if name not in rows:
        if OWNERS.get(name):
            raise ConfigError(f"preset {name!r} is for {' and '.join(OWNERS[name])}, not {info.task}; expected one "
                              f"of {', '.join(rows)}")
        raise ConfigError(f"unknown preset {name!r}; expected one of {', '.join(rows)}")
    return rows[name](info)


def preset_line(p: Preset, task: str) -> str:
    """One row of the plain-text preset table."""
    return (f"{p.name:<13} {task:<14} {p.net:<10} {p.fit.num_iter:>6} {p.fit.lr:<6g} "
            f"{p.fit.reg_noise_std:<7.3g} {p.precision}")


PRESET_HEAD = f"{'preset':<13} {'task':<14} {'net':<10} {'iters':>6} {'lr':<6} {'noise':<7} precision"
