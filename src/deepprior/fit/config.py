"""The fitting loop's settings: one frozen dataclass, mapped one to one by the CLI and the presets."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any

from ..errors import ConfigError

INPUT_TYPES = ("noise", "meshgrid")
PERTURBATIONS = ("fixed", "accumulate")
PRECISIONS = ("fp32", "bf16", "fp16")


@dataclass(frozen=True)
class FitConfig:
    """How one Deep Image Prior fit runs.

    Attributes:
        num_iter: the iteration cap (a stopping rule may end the fit sooner).
        lr: Adam's learning rate.
        input_depth: channels of the network input ``z``.
        input_type: ``noise`` (uniform on [0, ``input_scale``)) or ``meshgrid`` (2 channels of coordinates).
        input_scale: scale of the uniform input noise (0.1 in the paper).
        reg_noise_std: standard deviation of the fresh perturbation added to ``z`` every iteration.
        reg_noise_mode: ``fixed`` (perturb a fixed base ``z``, the paper's) or ``accumulate``
            (``z <- z + noise`` every iteration).
        ema: weight of the exponential average of outputs (``x_avg <- ema x_avg + (1 - ema) x_t``);
            0 returns the last output instead.
        guard: restore the last good weights when the fit to the data collapses.
        guard_drop_db: the collapse: PSNR against the input drops by more than this from one iteration
            to the next.
        log_every: history interval in iterations.
        precision: ``fp32``, ``bf16`` or ``fp16`` (autocast; the averaged image stays float32).
        channels_last: run the network in channels-last memory layout (faster with bf16 on CPU).
        compile: run the network through ``torch.compile`` (TorchInductor): a one-off compilation of
            one to a few minutes per image size, then faster iterations (measured in ``deepprior bench
            speed``); needs a C++ compiler on CPU.
        time_limit: seconds after which the fit stops and returns its current answer (None: no limit).

    """

    num_iter: int = 3000
    lr: float = 0.01
    input_depth: int = 32
    input_type: str = "noise"
    input_scale: float = 0.1
    reg_noise_std: float = 1.0 / 30.0
    reg_noise_mode: str = "fixed"
    ema: float = 0.99
    guard: bool = True
    guard_drop_db: float = 5.0
    log_every: int = 10
    precision: str = "fp32"
    channels_last: bool = False
    compile: bool = False
    time_limit: float | None = None

    def __post_init__(self) -> None:
        if isinstance(self.num_iter, bool) or not isinstance(self.num_iter, int) or self.num_iter < 0:
            raise ConfigError(f"iterations {self.num_iter!r} is invalid; expected a whole number >= 0")
        if not 0 < self.lr < math.inf:
            raise ConfigError(f"learning rate {self.lr} must be positive and finite")
        if self.input_depth < 1:
            raise ConfigError(f"input depth {self.input_depth} must be at least 1")
        if self.input_type not in INPUT_TYPES:
            raise ConfigError(f"unknown input type {self.input_type!r}; expected one of {', '.join(INPUT_TYPES)}")
        if self.input_type == "meshgrid" and self.input_depth != 2:
            raise ConfigError(f"a meshgrid input has depth 2, not {self.input_depth}")
        if self.reg_noise_std < 0:
            raise ConfigError(f"input noise {self.reg_noise_std} must be >= 0")
        if self.reg_noise_mode not in PERTURBATIONS:
            raise ConfigError(
                f"unknown input perturbation {self.reg_noise_mode!r}; expected one of {', '.join(PERTURBATIONS)}"
            )
        if not 0.0 <= self.ema < 1.0:
            raise ConfigError(f"output averaging {self.ema} is out of range; expected 0 <= ema < 1")
        if self.log_every < 1:
            raise ConfigError(f"log interval {self.log_every} must be at least 1")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"unknown precision {self.precision!r}; expected one of {', '.join(PRECISIONS)}")
        if self.time_limit is not None and not 0 < self.time_limit < math.inf:
            raise ConfigError(f"time limit {self.time_limit} must be positive and finite")

    def updated(self, **changes: Any) -> FitConfig:
        """A copy with some fields changed; None values leave a field as it is."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ConfigError(f"unknown fit setting(s): {', '.join(sorted(unknown))}")
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}
