"""Noise models: random corruptions for ``degrade``, tests and benchmarks.

Every model is a small module ``noise(x, generator=...)`` on BCHW tensors in [0, 1]; every random draw
goes through the given ``torch.Generator`` so a seed reproduces the same corruption. Outputs are *not*
clipped here: :func:`deepprior.api.degrade` clips to [0, 1] before saving, as a camera would.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import torch
from torch import nn

from ..errors import ConfigError


def check_level(name: str, value: object, *, positive: bool = False, high: float | None = None) -> float:
    """A noise level as a float, or a :class:`ConfigError` naming it: a finite number >= 0 (> 0 when
    ``positive``), at most ``high`` when given. NaN, infinities, booleans and words are refused here, before
    they reach a random draw (``torch.poisson`` fails on a NaN rate, ``randn * nan`` fills the image with NaN).

    Example:
        >>> check_level("sigma", 25)
        25.0

    """
    low = "> 0" if positive else ">= 0"
    rule = f"a finite number {low}" + ("" if high is None else f" and <= {high:g}")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name} {value!r} is invalid; expected {rule}")
    v = float(value)
    if not math.isfinite(v) or v < 0 or (positive and v == 0) or (high is not None and v > high):
        raise ConfigError(f"{name} {value!r} is out of range; expected {rule}")
    return v


class NoiseModel(nn.Module):
    """Base class: ``forward(x, generator)`` returns a noisy copy of ``x``."""

    name: str = "noise"

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        raise NotImplementedError


class GaussianNoise(NoiseModel):
    """Additive white Gaussian noise: ``y = x + n``, ``n ~ N(0, sigma^2)``.

    Args:
        sigma: standard deviation on the [0, 1] scale (25/255 for the paper's "sigma 25").

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> y = GaussianNoise(0.1)(torch.zeros(1, 1, 256, 256), generator=g)
        >>> abs(float(y.std()) - 0.1) < 0.005
        True

    """

    name = "gaussian"

    def __init__(self, sigma: float) -> None:
        super().__init__()
        self.sigma = check_level("noise sigma", sigma)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        n = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
        return x + self.sigma * n

    def __repr__(self) -> str:
        return f"GaussianNoise(sigma={self.sigma:g} = {self.sigma * 255:g}/255)"


class PoissonNoise(NoiseModel):
    """Photon noise: ``y = Poisson(peak * x) / peak`` (the image's white level collects ``peak`` photons).

    Args:
        peak: photons at intensity 1; lower is noisier (30 is strong noise).

    """

    name = "poisson"

    def __init__(self, peak: float) -> None:
        super().__init__()
        self.peak = check_level("Poisson peak", peak, positive=True)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        rate = (x.clamp(min=0) * self.peak).double()
        return (torch.poisson(rate, generator=generator) / self.peak).to(x.dtype)

    def __repr__(self) -> str:
        return f"PoissonNoise(peak={self.peak:g})"


class SaltPepperNoise(NoiseModel):
    """Impulse noise: a fraction ``amount`` of pixels (all channels together) is replaced, half by 0, half by 1.

    The number of corrupted pixels per image is exactly ``round(amount * H * W)``.

    Args:
        amount: fraction of pixels corrupted, in [0, 1].

    """

    name = "salt-pepper"

    def __init__(self, amount: float) -> None:
        super().__init__()
        self.amount = check_level("salt-and-pepper amount", amount, high=1.0)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        b, c, h, w = x.shape
        n = round(self.amount * h * w)
        y = x.clone().reshape(b, c, h * w)
        for i in range(b):
            idx = torch.randperm(h * w, generator=generator)[:n].to(x.device)
            y[i, :, idx[: n // 2]] = 0.0
            y[i, :, idx[n // 2 :]] = 1.0
        return y.reshape(b, c, h, w)

    def __repr__(self) -> str:
        return f"SaltPepperNoise(amount={self.amount:g})"


class SpeckleNoise(NoiseModel):
    """Multiplicative noise: ``y = x + x n``, ``n ~ N(0, sigma^2)``.

    Args:
        sigma: standard deviation of ``n`` (on the [0, 1] scale, e.g. 0.2).

    """

    name = "speckle"

    def __init__(self, sigma: float) -> None:
        super().__init__()
        self.sigma = check_level("speckle sigma", sigma)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        n = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
        return x + x * self.sigma * n

    def __repr__(self) -> str:
        return f"SpeckleNoise(sigma={self.sigma:g})"


NOISES: dict[str, Callable[[float], NoiseModel]] = {
    "gaussian": GaussianNoise,
    "poisson": PoissonNoise,
    "salt-pepper": SaltPepperNoise,
    "speckle": SpeckleNoise,
}


def make_noise(name: str, level: float) -> NoiseModel:
    """Build a noise model by name (see :data:`NOISES`) with its level on that model's own scale."""
    if name not in NOISES:
        raise ConfigError(f"unknown noise {name!r}; expected one of {', '.join(NOISES)}")
    return NOISES[name](level)
