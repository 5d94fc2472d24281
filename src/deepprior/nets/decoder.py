"""The Deep Decoder: an under-parameterised image model of 1x1 convolutions and upsampling.

References:
    Heckel and Hand, "Deep Decoder: Concise Image Representations from Untrained Non-convolutional
    Networks", ICLR 2019 (arXiv:1810.03982). With k = 128 channels, 6 layers and 3 output channels the
    network has 6k^2 + 12k + 3k = 100,224 parameters.

"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import nn

from ..errors import ConfigError
from .common import UPSAMPLINGS, Prior, check_choice, upsample


@dataclass(frozen=True)
class DecoderConfig:
    """The Deep Decoder's knobs.

    Attributes:
        channels: k, the channels of every layer.
        layers: layers of 1x1 convolution; all but the last are followed by x2 upsampling, so the input
            is ``2^(layers - 1)`` times smaller than the image.
        upsample: ``bilinear`` (the reference), ``nearest`` or ``bicubic``.

    """

    channels: int = 128
    layers: int = 6
    upsample: str = "bilinear"

    @property
    def widest(self) -> int:
        """Channels of the widest full-resolution layer (the memory estimate's width)."""
        return int(self.channels)

    @property
    def scales(self) -> int:
        return self.layers - 1

    def with_scales(self, scales: int) -> DecoderConfig:
        return self if scales >= self.scales else replace(self, layers=scales + 1)

    def validate(self) -> None:
        if self.channels < 1 or self.layers < 1:
            raise ConfigError(f"the Deep Decoder needs channels >= 1 and layers >= 1, got {self}")
        check_choice("upsampling", self.upsample, UPSAMPLINGS)


class DeepDecoder(Prior):
    """Deep Decoder: per layer a 1x1 convolution (no bias), x2 upsampling (not after the last), ReLU and
    batch normalisation; then a 1x1 convolution to the image's channels and a sigmoid.

    Args:
        in_channels: must equal ``config.channels`` (the input is a k-channel random tensor).
        out_channels: channels of the image.
        config: the architecture.

    Example:
        >>> from deepprior.nets.common import count_parameters
        >>> count_parameters(DeepDecoder(128, 3))
        100224

    """

    def __init__(self, in_channels: int, out_channels: int, config: DecoderConfig | None = None) -> None:
        super().__init__()
        cfg = config or DecoderConfig()
        cfg.validate()
        if in_channels != cfg.channels:
            raise ConfigError(f"the Deep Decoder's input has k = {cfg.channels} channels, not {in_channels}")
        self.config = cfg
        layers: list[nn.Module] = []
        for i in range(cfg.layers):
            layers.append(nn.Conv2d(cfg.channels, cfg.channels, 1, bias=False))
            if i < cfg.layers - 1:
                layers.append(upsample(cfg.upsample))
            layers += [nn.ReLU(inplace=True), nn.BatchNorm2d(cfg.channels)]
        layers += [nn.Conv2d(cfg.channels, out_channels, 1, bias=False), nn.Sigmoid()]
        self.body = nn.Sequential(*layers)

    def input_size(self, height: int, width: int) -> tuple[int, int]:
        """Spatial size of the input for an image of ``height`` x ``width``."""
        f = 2**self.config.scales
        return max(1, height // f), max(1, width // f)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(z)
