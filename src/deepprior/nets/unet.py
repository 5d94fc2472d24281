"""A U-Net, one of the comparison networks of the DIP paper's inpainting figure.

References:
    Ronneberger, Fischer and Brox, "U-Net: Convolutional Networks for Biomedical Image Segmentation",
    MICCAI 2015; Ulyanov, Vedaldi and Lempitsky, "Deep Image Prior", CVPR 2018 (Fig. 8: a U-Net with
    a quarter of the original widths, max pooling and transposed-convolution upsampling).

"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import nn

from ..errors import ConfigError
from .common import ACTIVATIONS, NORMS, PADDINGS, Prior, activation, check_choice, conv, norm

UNET_UPSAMPLINGS = ("deconv", "nearest", "bilinear")


@dataclass(frozen=True)
class UNetConfig:
    """Attributes:
    channels: channels per level, finest first (one more level than there are poolings).
    upsample: ``deconv`` (transposed convolution), ``nearest`` or ``bilinear``.
    act, norm, pad: as for the skip network.
    """

    channels: tuple[int, ...] = (16, 32, 64, 128, 256)
    upsample: str = "deconv"
    act: str = "leaky_relu"
    norm: str = "batch"
    pad: str = "reflection"

    @property
    def widest(self) -> int:
        """Channels of the widest full-resolution layer (the memory estimate's width)."""
        return int(max(self.channels))

    @property
    def scales(self) -> int:
        return len(self.channels) - 1

    def with_scales(self, scales: int) -> UNetConfig:
        return self if scales >= self.scales else replace(self, channels=self.channels[: scales + 1])

    def validate(self) -> None:
        if len(self.channels) < 1 or min(self.channels) < 1:
            raise ConfigError(f"U-Net channels must be positive, one entry per level; got {self.channels}")
        check_choice("upsampling", self.upsample, UNET_UPSAMPLINGS)
        check_choice("activation", self.act, ACTIVATIONS)
        check_choice("normalisation", self.norm, NORMS)
        check_choice("padding", self.pad, PADDINGS)


def _double_conv(c_in: int, c_out: int, cfg: UNetConfig) -> nn.Module:
    return nn.Sequential(
        conv(c_in, c_out, 3, pad=cfg.pad), norm(cfg.norm, c_out), activation(cfg.act),
        conv(c_out, c_out, 3, pad=cfg.pad), norm(cfg.norm, c_out), activation(cfg.act),
    )


class UNet(Prior):
    """Encoder (double convolution, max pooling) and decoder (upsampling, concatenation, double
    convolution), then a 1x1 convolution and a sigmoid.

    Example:
        >>> UNet(32, 3)(torch.rand(1, 32, 32, 48)).shape
        torch.Size([1, 3, 32, 48])

    """

    def __init__(self, in_channels: int, out_channels: int, config: UNetConfig | None = None) -> None:
        super().__init__()
        cfg = config or UNetConfig()
        cfg.validate()
        self.config = cfg
        ch = cfg.channels
        self.down = nn.ModuleList()
        c_prev = in_channels
        for c in ch:
            self.down.append(_double_conv(c_prev, c, cfg))
            c_prev = c
        self.pool = nn.MaxPool2d(2)
        self.ups = nn.ModuleList()
        self.merge = nn.ModuleList()
        for i in reversed(range(len(ch) - 1)):
            if cfg.upsample == "deconv":
                self.ups.append(nn.ConvTranspose2d(ch[i + 1], ch[i], 2, stride=2))
            else:
                mode = cfg.upsample
                self.ups.append(nn.Sequential(
                    nn.Upsample(scale_factor=2, mode=mode, **({"align_corners": False} if mode != "nearest" else {})),
                    conv(ch[i + 1], ch[i], 3, pad=cfg.pad),
                ))
            self.merge.append(_double_conv(2 * ch[i], ch[i], cfg))
        self.head = nn.Sequential(nn.Conv2d(ch[0], out_channels, 1), nn.Sigmoid())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        skips = []
        x = z
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else self.pool(x))
            skips.append(x)
        x = skips.pop()
        for up, merge in zip(self.ups, self.merge, strict=True):
            skip = skips.pop()
            x = up(x)[..., : skip.shape[-2], : skip.shape[-1]]
            x = merge(torch.cat([skip, x], dim=1))
        return self.head(x)
