"""Presets: named bundles of a network, its architecture and the fit's settings, resolved per task.

``paper`` reproduces the Deep Image Prior reference settings for each task; ``fast`` is the default on a
CPU (a narrower network in bfloat16 with channels-last where the CPU supports it). Each preset is a
function of the task, so that ``paper`` means the paper's settings *for that task*.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from .errors import ConfigError
from .fit.config import FitConfig
from .nets import SkipConfig

TASKS = ("denoise", "inpaint", "super-resolve", "jpeg", "flash-no-flash")


@dataclass(frozen=True)
class TaskInfo:
    """What a preset may depend on.

    Attributes:
        task: ``denoise``, ``inpaint``, ``super-resolve``, ``jpeg`` or ``flash-no-flash``.
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


PAPER_NET = SkipConfig()


#: The reference notebook's network for blind JPEG-artifact removal (the snail figure): a light skip net
#: (8 to 128 channels, skips only at the two coarsest levels) with a 3-channel noise input.
JPEG_NET = SkipConfig(channels_down=(8, 16, 32, 64, 128), channels_up=(8, 16, 32, 64, 128),
                      channels_skip=(0, 0, 0, 4, 4))


def _paper(info: TaskInfo) -> Preset:
    if info.task == "jpeg":
        fit = FitConfig(num_iter=2400, lr=0.01, input_depth=3, reg_noise_std=1.0 / 30.0)
        text = "paper JPEG-artifact removal: skip net 8-128 channels, 3-channel input, 2400 iterations, lr 0.01"
        return Preset("paper", "skip", JPEG_NET, fit, "fp32", text)
    if info.task == "flash-no-flash":
        # The flash image is the input; no perturbation, no averaging (the notebook returns the last output).
        fit = FitConfig(num_iter=601, lr=0.1, input_depth=3, reg_noise_std=0.0, ema=0.0)
        text = "paper flash/no-flash: skip net 128x5, the flash image as input, 601 iterations, lr 0.1"
        return Preset("paper", "skip", PAPER_NET, fit, "fp32", text)
    if info.task == "denoise":
        noise = 1.0 / 20.0 if (info.sigma is not None and info.sigma >= 50) else 1.0 / 30.0
        fit = FitConfig(num_iter=3000, lr=0.01, reg_noise_std=noise)
        text = "paper denoising: skip net 128x5, 3000 iterations, lr 0.01, input noise 1/30 (1/20 at sigma >= 50)"
    elif info.task == "super-resolve":
        if info.scale == 8:
            fit = FitConfig(num_iter=4000, lr=0.01, reg_noise_std=0.05)
        else:
            fit = FitConfig(num_iter=2000, lr=0.01, reg_noise_std=0.03)
        text = "paper super-resolution: skip net 128x5, x4: 2000 iterations / input noise 0.03, x8: 4000 / 0.05"
    else:
        fit = FitConfig(num_iter=3000, lr=0.01, reg_noise_std=0.03)
        text = "paper settings with the skip net 128x5, 3000 iterations, lr 0.01, input noise 0.03"
    return Preset("paper", "skip", PAPER_NET, fit, "fp32", text)


def _paper_pixels(info: TaskInfo) -> Preset:
    fit = FitConfig(num_iter=11000, lr=0.001, reg_noise_std=0.03)
    return Preset(
        "paper-pixels", "skip", PAPER_NET, fit, "fp32",
        "Table 1 pixel restoration: skip net 128x5, 11000 iterations, lr 0.001, input noise 0.03",
    )


def _paper_region(info: TaskInfo) -> Preset:
    net = SkipConfig(channels_skip=(0,) * 5, upsample="nearest")
    fit = FitConfig(
        num_iter=5000, lr=0.01, input_type="meshgrid", input_depth=2, reg_noise_std=0.03
    )
    return Preset(
        "paper-region", "hourglass", net, fit, "fp32",
        "large-hole inpainting (vase figure): hourglass 128x5, nearest upsampling, meshgrid input, 5000 iterations",
    )


def _paper_text(info: TaskInfo) -> Preset:
    net = SkipConfig(channels_skip=(128,) * 5, upsample="nearest")
    fit = FitConfig(num_iter=6000, lr=0.01, reg_noise_std=0.03)
    return Preset(
        "paper-text", "skip", net, fit, "fp32",
        "text inpainting (kate figure): skip net 128x5 with 128 skip channels, nearest upsampling, 6000 iterations",
    )


FAST_NET = SkipConfig(channels_down=(64,) * 5, channels_up=(64,) * 5, channels_skip=(4,) * 5)

#: Adam's learning rate of ``fast`` in denoising. The 64-channel network fits *sooner* with a smaller
#: step than the paper's 0.01: on the 256x256 F16 crop of issue #6 (sigma 25, 1500 iterations) it reached
#: 29.38 / 29.78 / 30.00 / 29.99 dB at iteration 1000 with lr 0.01 / 0.005 / 0.003 / 0.002 (0.02: 28.73,
#: 0.03: 28.22) and 30.56 / 30.81 / 30.82 at 1500 (0.01 / 0.003 / 0.002); on a 256 crop of kodim03 its best
#: was 0.14 dB higher than with 0.01. On 128x128 crops, where the fit peaks early, it cost 0.12 dB on the
#: mean of the 9 sigma-25 crops (29.50 against 29.62, automatic stop) for 14 % fewer iterations
#: (docs/benchmarks.md, "Learning rate").
FAST_DENOISE_LR = 0.003

#: The network of ``fast`` in denoising: the skip net with 48 channels a level. On the same F16 crop
#: (lr 0.003, one thread) 48 channels reached 30.54 dB at iteration 1310 (64: 1240, 32: 1900; 32 barely
#: moved with lr 0.006 or 0.01: 1900, 1870) and peaked at 30.88 (iteration 1790); alone on this CPU an
#: iteration at 256x256 took 0.22 s (64: 0.34, 32: 0.17), so 48 channels reach that quality in about
#: two thirds of the time of 64 and in about the time of 32 (a tie within this machine's noise), and peak
#: higher than 32 (30.66 within 2000 iterations) (docs/benchmarks.md, "Network width").
FAST_DENOISE_NET = SkipConfig(channels_down=(48,) * 5, channels_up=(48,) * 5, channels_skip=(4,) * 5)

#: The fixed iteration count of ``fast`` in denoising: the paper's 3000. With the default automatic stop it
#: is only the cap; the fits peak later on larger images (256x256 F16 crop: iteration 1790).
FAST_DENOISE_ITERS = 3000


def _fast(info: TaskInfo) -> Preset:
    base = _paper(info)
    if info.task == "denoise":
        fit = replace(base.fit, num_iter=FAST_DENOISE_ITERS, lr=FAST_DENOISE_LR, channels_last=True)
    elif info.task in ("super-resolve", "jpeg", "flash-no-flash"):
        fit = replace(base.fit, channels_last=True)
        if info.task == "jpeg":  # already a light network: keep the paper's
            return replace(base, name="fast", fit=fit, precision="auto",
                           summary="the paper's light JPEG network in bfloat16 and channels-last where supported")
    else:
        fit = FitConfig(num_iter=3000, lr=0.01, reg_noise_std=0.03, channels_last=True)
    return Preset(
        "fast", "skip", FAST_DENOISE_NET if info.task == "denoise" else FAST_NET, fit, "auto",
        "skip net 64x5 (48x5 in denoising), bfloat16 autocast and channels-last where supported; denoising "
        f"{FAST_DENOISE_ITERS} iterations at lr {FAST_DENOISE_LR}",
    )


PRESETS: dict[str, Callable[[TaskInfo], Preset]] = {
    "fast": _fast,
    "paper": _paper,
    "paper-pixels": _paper_pixels,
    "paper-region": _paper_region,
    "paper-text": _paper_text,
}

#: Presets that only make sense for one task.
TASK_ONLY = {"paper-pixels": "inpaint", "paper-region": "inpaint", "paper-text": "inpaint"}


def presets_for(task: str) -> list[str]:
    """The preset names a task accepts."""
    return [name for name in PRESETS if TASK_ONLY.get(name, task) == task]


def resolve_preset(name: str, info: TaskInfo) -> Preset:
    """The preset ``name`` for a task, or a :class:`ConfigError` naming the choices."""
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; expected one of {', '.join(presets_for(info.task))}")
    if TASK_ONLY.get(name, info.task) != info.task:
        raise ConfigError(f"preset {name!r} is for {TASK_ONLY[name]}, not {info.task}")
    return PRESETS[name](info)


def preset_table() -> str:
    """A plain-text table of every preset for every task (for ``--help`` and the README)."""
    rows = []
    for name in PRESETS:
        for task in TASKS:
            if TASK_ONLY.get(name, task) != task:
                continue
            p = resolve_preset(name, TaskInfo(task=task, sigma=25, scale=4))
            rows.append(
                f"{name:<13} {task:<14} {p.net:<10} {p.fit.num_iter:>6} {p.fit.lr:<6g} "
                f"{p.fit.reg_noise_std:<7.3g} {p.precision}"
            )
    head = f"{'preset':<13} {'task':<14} {'net':<10} {'iters':>6} {'lr':<6} {'noise':<7} precision"
    return "\n".join([head, *rows])
