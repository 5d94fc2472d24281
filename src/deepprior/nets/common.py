"""Building blocks shared by the networks: padded convolutions, activations, normalisation, upsampling."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from torch import nn

from ..errors import ConfigError

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "leaky_relu": lambda: nn.LeakyReLU(0.2, inplace=True),
    "relu": lambda: nn.ReLU(inplace=True),
    "elu": lambda: nn.ELU(inplace=True),
    "silu": lambda: nn.SiLU(inplace=True),
}

NORMS: dict[str, Callable[[int], nn.Module]] = {
    "batch": nn.BatchNorm2d,
    "instance": lambda c: nn.InstanceNorm2d(c, affine=True),
    "group": lambda c: nn.GroupNorm(math.gcd(8, c), c),
    "none": lambda c: nn.Identity(),
}

PADDINGS = ("reflection", "zero")
UPSAMPLINGS = ("nearest", "bilinear", "bicubic")


def check_choice(kind: str, value: str, choices: object) -> None:
    """Raise a :class:`ConfigError` naming ``value`` when it is not among ``choices``."""
    names = list(choices)  # type: ignore[call-overload]
    if value not in names:
        raise ConfigError(f"unknown {kind} {value!r}; expected one of {', '.join(names)}")


def activation(name: str) -> nn.Module:
    check_choice("activation", name, ACTIVATIONS)
    return ACTIVATIONS[name]()


def norm(name: str, channels: int) -> nn.Module:
    check_choice("normalisation", name, NORMS)
    return NORMS[name](channels)


def conv(
    c_in: int, c_out: int, kernel: int, *, stride: int = 1, bias: bool = True, pad: str = "reflection"
) -> nn.Module:
    """A convolution that keeps the size (or halves it with ``stride=2``), padded by reflection or zeros."""
    check_choice("padding", pad, PADDINGS)
    p = (kernel - 1) // 2
    if pad == "reflection" and p > 0:
        return nn.Sequential(nn.ReflectionPad2d(p), nn.Conv2d(c_in, c_out, kernel, stride, 0, bias=bias))
    return nn.Conv2d(c_in, c_out, kernel, stride, p, bias=bias)


def upsample(mode: str) -> nn.Module:
    check_choice("upsampling", mode, UPSAMPLINGS)
    if mode == "nearest":
        return nn.Upsample(scale_factor=2, mode="nearest")
    return nn.Upsample(scale_factor=2, mode=mode, align_corners=False)


def count_parameters(net: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


class NetConfig(Protocol):
    """What every network's architecture offers (a frozen dataclass per network)."""

    @property
    def scales(self) -> int:
        """Levels of downsampling: the padded image's sides must divide by ``2 ** scales``."""
        ...

    @property
    def widest(self) -> int:
        """Channels of the widest full-resolution layer (for the memory estimate that picks tiling)."""
        ...

    def with_scales(self, scales: int) -> NetConfig:
        """The same network with fewer levels (for small images)."""
        ...


@dataclass(frozen=True)
class Phase:
    """What the fitting loop must do at one iteration of a growing network.

    Attributes:
        new_phase: a level was just added: start a fresh optimiser.
        lr_scale: multiplies the learning rate (warm-up).
        noise_scale: multiplies the input perturbation.
        average: whether output averaging runs (only once at full resolution).
        stage: active levels (1 = the innermost alone).
        alpha: fade-in weight of the newest level.

    """

    new_phase: bool
    lr_scale: float
    noise_scale: float
    average: bool
    stage: int
    alpha: float


class Prior(nn.Module):
    """The base of every registered network: what the fitting loop may ask of it besides ``forward``."""

    def input_size(self, height: int, width: int) -> tuple[int, int]:
        """The spatial size of the input ``z`` for an output of ``height`` x ``width`` (the same here)."""
        return height, width

    def schedule(self, iteration: int) -> Phase | None:
        """The growth phase at ``iteration`` (1-based) for a growing network; None for a fixed one."""
        return None
