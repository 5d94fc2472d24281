"""The registry of untrained priors: one entry per ``--net`` choice.

The CLI's choices, ``deepprior nets``, the API and the tests all read :data:`NETWORKS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from .common import NetConfig, Prior, count_parameters
from .decoder import DecoderConfig, DeepDecoder
from .progressive import PGConfig, ProgressiveSkip
from .resnet import ResNet, ResNetConfig
from .skip import SkipConfig, SkipNet
from .unet import UNet, UNetConfig


@dataclass(frozen=True)
class NetEntry:
    """A registered network.

    Attributes:
        name: the ``--net`` name.
        summary: one line for ``deepprior nets``.
        config: the default architecture (a frozen dataclass with ``scales`` and ``with_scales``).
        builder: ``builder(in_channels, out_channels, config) -> nn.Module``.
        reference: the paper it comes from.

    """

    name: str
    summary: str
    config: Any
    builder: Callable[[int, int, Any], Prior]
    reference: str = ""
    input_depth: int = 32
    tiny: Any = None  # a small architecture of the same family, for tests
    fit_overrides: dict[str, Any] = field(default_factory=dict)  # fit settings this network's reference uses
    auto_stop: str | None = None  # what ``--stop auto`` means with this network (None: the task's rule)
    takes_image_input: bool = True  # whether an image (flash, upscaled measurement) may be its input


NETWORKS: dict[str, NetEntry] = {
    "skip": NetEntry(
        name="skip",
        summary="DIP encoder-decoder with skip connections (the paper's network)",
        config=SkipConfig(),
        builder=SkipNet,
        reference="Ulyanov et al., Deep Image Prior, CVPR 2018",
        tiny=SkipConfig(channels_down=(8, 8, 8), channels_up=(8, 8, 8), channels_skip=(2, 2, 2)),
    ),
    "hourglass": NetEntry(
        name="hourglass",
        summary="the skip network without skip connections",
        config=SkipConfig(channels_skip=(0, 0, 0, 0, 0)),
        builder=SkipNet,
        reference="Ulyanov et al., Deep Image Prior, CVPR 2018",
        tiny=SkipConfig(channels_down=(8, 8, 8), channels_up=(8, 8, 8), channels_skip=(0, 0, 0)),
    ),
    "unet": NetEntry(
        name="unet",
        summary="U-Net, max pooling and transposed convolutions (the DIP paper's comparison)",
        config=UNetConfig(),
        builder=UNet,
        reference="Ronneberger et al., MICCAI 2015; compared in Ulyanov et al., CVPR 2018",
        tiny=UNetConfig(channels=(8, 8, 8)),
    ),
    "resnet": NetEntry(
        name="resnet",
        summary="ResNet, 8 residual blocks of 32 channels at full resolution",
        config=ResNetConfig(),
        builder=ResNet,
        reference="He et al., CVPR 2016; compared in Ulyanov et al., CVPR 2018",
        tiny=ResNetConfig(blocks=2, channels=8),
    ),
    "pg": NetEntry(
        name="pg",
        summary="progressively grown skip net 64x5: fitted coarse (1/16) to fine, levels faded in",
        config=PGConfig(),
        builder=ProgressiveSkip,
        reference="Karras et al., ICLR 2018 (progressive growing); the PG-DIP thesis (schedule)",
        tiny=PGConfig(SkipConfig(channels_down=(8, 8, 8), channels_up=(8, 8, 8), channels_skip=(2, 2, 2)),
                      fade=3, stabilise=2, warmup=2),
    ),
    "decoder": NetEntry(
        name="decoder",
        summary="Deep Decoder: 1x1 convolutions and upsampling, k = 128, under-parameterised",
        config=DecoderConfig(),
        builder=DeepDecoder,
        reference="Heckel and Hand, Deep Decoder, ICLR 2019",
        input_depth=128,
        tiny=DecoderConfig(channels=8, layers=3),
        # The reference fits without input perturbation or output averaging.
        fit_overrides={"input_depth": 128, "reg_noise_std": 0.0, "ema": 0.0},
        auto_stop="min-loss",  # the reference keeps the network of lowest training loss
        takes_image_input=False,  # its input is a coarse k-channel tensor
    ),
}


def get_entry(name: str) -> NetEntry:
    """The registry entry for ``name``, or a :class:`ConfigError` listing the known names."""
    if name not in NETWORKS:
        raise ConfigError(f"unknown network {name!r}; expected one of {', '.join(NETWORKS)}")
    return NETWORKS[name]


def build_net(name: str, *, in_channels: int, out_channels: int, config: Any = None) -> Prior:
    """Build a registered network.

    Args:
        name: a key of :data:`NETWORKS`.
        in_channels: channels of the network input.
        out_channels: channels of the image (1 or 3).
        config: an architecture of the entry's config type; the entry's default when None.

    Example:
        >>> count_parameters(build_net("skip", in_channels=32, out_channels=3))
        2217831

    """
    entry = get_entry(name)
    return entry.builder(in_channels, out_channels, config if config is not None else entry.config)


__all__ = [
    "NETWORKS",
    "NetConfig",
    "Prior",
    "DecoderConfig",
    "DeepDecoder",
    "NetEntry",
    "PGConfig",
    "ProgressiveSkip",
    "ResNet",
    "ResNetConfig",
    "SkipConfig",
    "SkipNet",
    "UNet",
    "UNetConfig",
    "build_net",
    "count_parameters",
    "get_entry",
]
