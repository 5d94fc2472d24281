"""A residual network without downsampling, one of the comparison networks of the DIP paper's
inpainting figure.

References:
    He, Zhang, Ren and Sun, "Deep Residual Learning for Image Recognition", CVPR 2016;
    Ulyanov, Vedaldi and Lempitsky, "Deep Image Prior", CVPR 2018 (Fig. 8's ResNet comparison:
    8 blocks of 32 channels).

"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..errors import ConfigError
from .common import ACTIVATIONS, NORMS, PADDINGS, Prior, activation, check_choice, conv, norm


@dataclass(frozen=True)
class ResNetConfig:
    """Attributes:
    blocks: residual blocks.
    channels: channels of every block.
    act, norm, pad: as for the skip network.
    """

    blocks: int = 8
    channels: int = 32
    act: str = "leaky_relu"
    norm: str = "batch"
    pad: str = "reflection"

    @property
    def widest(self) -> int:
        """Channels of the widest full-resolution layer (the memory estimate's width)."""
        return int(self.channels)

    @property
    def scales(self) -> int:
        return 0

    def with_scales(self, scales: int) -> ResNetConfig:
        return self

    def validate(self) -> None:
        if self.blocks < 0 or self.channels < 1:
            raise ConfigError(f"ResNet needs blocks >= 0 and channels >= 1, got {self.blocks} and {self.channels}")
        check_choice("activation", self.act, ACTIVATIONS)
        check_choice("normalisation", self.norm, NORMS)
        check_choice("padding", self.pad, PADDINGS)


class _Block(nn.Module):
    def __init__(self, cfg: ResNetConfig) -> None:
        super().__init__()
        c = cfg.channels
        self.body = nn.Sequential(
            conv(c, c, 3, pad=cfg.pad), norm(cfg.norm, c), activation(cfg.act),
            conv(c, c, 3, pad=cfg.pad), norm(cfg.norm, c),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResNet(Prior):
    """Input convolution, ``blocks`` residual blocks at full resolution, output convolution, sigmoid.

    Example:
        >>> ResNet(32, 3)(torch.rand(1, 32, 9, 7)).shape
        torch.Size([1, 3, 9, 7])

    """

    def __init__(self, in_channels: int, out_channels: int, config: ResNetConfig | None = None) -> None:
        super().__init__()
        cfg = config or ResNetConfig()
        cfg.validate()
        self.config = cfg
        c = cfg.channels
        self.body = nn.Sequential(
            conv(in_channels, c, 3, pad=cfg.pad), activation(cfg.act),
            *[_Block(cfg) for _ in range(cfg.blocks)],
            conv(c, c, 3, pad=cfg.pad), norm(cfg.norm, c),
            conv(c, out_channels, 3, pad=cfg.pad), nn.Sigmoid(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(z)
