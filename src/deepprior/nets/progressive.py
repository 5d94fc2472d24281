"""Progressively grown Deep Image Prior (PG-DIP): the skip network fitted coarse to fine.

The fit starts with the innermost level alone, at 1/2^(n-1) of the output's size, and adds one outer
encoder/decoder level at a time (the bottleneck is the oldest part), each faded in smoothly, until the
full resolution. Coarse phases are cheap, so the network reaches a good fit in less time.

How ours works:

- Every level of the :class:`~deepprior.nets.skip.SkipNet` is kept; the active part at stage ``s`` is
  the innermost ``s`` levels. Its input is ``z`` average-pooled to that level's resolution through a
  1x1 "from input" convolution; its output passes through a 1x1 "to image" convolution and a sigmoid.
- While a level fades in over ``fade`` iterations, the output is ``a * new + (1 - a) * up(old)`` with
  ``a`` rising linearly from 0 to 1 (after Karras et al.'s progressive GANs).
- The output is always returned at full size (bilinear upsampling of a coarse one), so any operator
  (mask, downsampling) applies unchanged; the PG-DIP thesis instead downscaled the target and blended
  two target resolutions during a fade.
- At the start of each stage the fit gets a fresh Adam whose learning rate warms up over ``warmup``
  iterations on a half cosine; the input perturbation is scaled by ``10^-(stages left)``; output
  averaging starts once the full-resolution level has faded in.

Schedule (the thesis' defaults): stage 1 runs ``stabilise`` = 50 iterations; every later stage fades in
over 70 and stabilises for 50; the full-resolution stage runs until the fit stops.

References:
    Karras, Aila, Laine and Lehtinen, "Progressive Growing of GANs for Improved Quality, Stability, and
    Variation", ICLR 2018. The PG-DIP thesis code (METHODS.md: "Progressive growing") for the schedule.

"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from .common import Phase, Prior, activation, conv, norm
from .skip import SkipConfig, _Level


@dataclass(frozen=True)
class PGConfig:
    """The progressive network: a skip architecture and its growing schedule.

    Attributes:
        skip: the architecture at full size (its levels are grown one by one).
        fade: iterations over which a new level fades in.
        stabilise: iterations at each stage after its fade (before the full-resolution stage).
        warmup: iterations of the half-cosine learning-rate warm-up after each growth.

    """

    skip: SkipConfig = field(default_factory=lambda: SkipConfig(
        channels_down=(64,) * 5, channels_up=(64,) * 5, channels_skip=(4,) * 5))
    fade: int = 70
    stabilise: int = 50
    warmup: int = 70

    @property
    def widest(self) -> int:
        """Channels of the widest full-resolution layer (the memory estimate's width)."""
        return int(self.skip.widest)

    @property
    def scales(self) -> int:
        return self.skip.scales

    def with_scales(self, scales: int) -> PGConfig:
        return replace(self, skip=self.skip.with_scales(scales))

    def validate(self) -> None:
        self.skip.validate()
        if self.fade < 1 or self.stabilise < 0 or self.warmup < 0:
            raise ConfigError(f"growing schedule fade={self.fade}, stabilise={self.stabilise}, "
                              f"warmup={self.warmup} is invalid; expected fade >= 1, the others >= 0")

    def full_resolution_from(self) -> int:
        """The first iteration at which the network is wholly at full resolution (faded in)."""
        n = self.scales
        return 1 if n == 1 else self.stabilise + (n - 2) * (self.fade + self.stabilise) + self.fade + 1


class ProgressiveSkip(Prior):
    """The skip network grown coarse to fine (see the module docstring).

    Args:
        in_channels: channels of the input ``z``.
        out_channels: channels of the image.
        config: the architecture and schedule.

    Example:
        >>> net = ProgressiveSkip(4, 3, PGConfig(SkipConfig((8, 8), (8, 8), (2, 2)), fade=2, stabilise=1))
        >>> [net.schedule(i).stage for i in (1, 2, 3, 4)]
        [1, 2, 2, 2]
        >>> tuple(net(torch.rand(1, 4, 16, 16)).shape)
        (1, 3, 16, 16)

    """

    def __init__(self, in_channels: int, out_channels: int, config: PGConfig | None = None) -> None:
        super().__init__()
        cfg = config or PGConfig()
        cfg.validate()
        self.config = cfg
        sk = cfg.skip
        n = sk.scales
        deeper: nn.Module | None = None
        c_deeper = 0
        levels: list[_Level] = []
        for i in reversed(range(n)):
            c_in = in_channels if i == 0 else sk.channels_down[i - 1]
            level = _Level(sk, i, c_in, deeper, c_deeper)
            levels.insert(0, level)
            deeper, c_deeper = level, sk.channels_up[i]
        self.body = levels[0]  # registers every level (each holds the next inner one)
        self._levels = levels
        self.from_input = nn.ModuleList(
            [nn.Identity()] + [
                nn.Sequential(conv(in_channels, sk.channels_down[i - 1], 1, bias=sk.bias, pad=sk.pad),
                              norm(sk.norm, sk.channels_down[i - 1]), activation(sk.act))
                for i in range(1, n)
            ]
        )
        self.to_image = nn.ModuleList(
            [nn.Sequential(conv(sk.channels_up[i], out_channels, 1, bias=sk.bias, pad=sk.pad),
                           *( [nn.Sigmoid()] if sk.sigmoid else []))
             for i in range(n)]
        )
        self.stage = n  # fully grown unless a schedule says otherwise
        self.alpha = 1.0

    @property
    def scales(self) -> int:
        return self.config.scales

    def _path(self, z: torch.Tensor, j: int) -> torch.Tensor:
        """The network whose outermost level is ``j``, at that level's resolution."""
        x = z if j == 0 else self.from_input[j](F.avg_pool2d(z, 2**j))
        return self.to_image[j](self._levels[j](x))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        n = self.scales
        j = n - self.stage
        out = self._path(z, j)
        if self.alpha < 1.0 and j + 1 < n:
            old = F.interpolate(self._path(z, j + 1), size=out.shape[-2:], mode="bilinear", align_corners=False)
            out = self.alpha * out + (1.0 - self.alpha) * old
        if j > 0:
            out = F.interpolate(out, size=z.shape[-2:], mode="bilinear", align_corners=False)
        return out

    def schedule(self, iteration: int) -> Phase:
        """Set the stage for ``iteration`` (1-based) and say what the loop must do."""
        cfg = self.config
        n = cfg.scales
        if n == 1:
            self.stage, self.alpha = 1, 1.0
            return Phase(iteration == 1, 1.0, 1.0, True, 1, 1.0)
        # stage 1: [1, stabilise]; stage s >= 2 starts after stabilise + (s - 2) (fade + stabilise)
        start, stage = 1, 1
        while stage < n:
            length = cfg.stabilise if stage == 1 else cfg.fade + cfg.stabilise
            if iteration < start + length:
                break
            start += length
            stage += 1
        t = iteration - start  # iterations into this stage
        alpha = 1.0 if stage == 1 else min(1.0, (t + 1) / cfg.fade)
        self.stage, self.alpha = stage, alpha
        lr_scale = 1.0 if cfg.warmup == 0 or t >= cfg.warmup else 0.5 * (1 - math.cos(math.pi * (t + 1) / cfg.warmup))
        return Phase(
            new_phase=(t == 0),
            lr_scale=lr_scale,
            noise_scale=10.0 ** -(n - stage),
            average=iteration >= cfg.full_resolution_from(),
            stage=stage,
            alpha=alpha,
        )
