"""The registry of untrained priors: one entry per ``--net`` choice.

The CLI's choices, ``deepprior nets``, the API and the tests all read :data:`NETWORKS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

from ..errors import ConfigError
from .common import count_parameters
from .skip import SkipConfig, SkipNet


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
    builder: Callable[[int, int, Any], nn.Module]
    reference: str = ""
    input_depth: int = 32


NETWORKS: dict[str, NetEntry] = {
    "skip": NetEntry(
        name="skip",
        summary="DIP encoder-decoder with skip connections (the paper's network)",
        config=SkipConfig(),
        builder=SkipNet,
        reference="Ulyanov et al., Deep Image Prior, CVPR 2018",
    ),
    "hourglass": NetEntry(
        name="hourglass",
        summary="the skip network without skip connections",
        config=SkipConfig(channels_skip=(0, 0, 0, 0, 0)),
        builder=SkipNet,
        reference="Ulyanov et al., Deep Image Prior, CVPR 2018",
    ),
}


def get_entry(name: str) -> NetEntry:
    """The registry entry for ``name``, or a :class:`ConfigError` listing the known names."""
    if name not in NETWORKS:
        raise ConfigError(f"unknown network {name!r}; expected one of {', '.join(NETWORKS)}")
    return NETWORKS[name]


def build_net(name: str, *, in_channels: int, out_channels: int, config: Any = None) -> nn.Module:
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


__all__ = ["NETWORKS", "NetEntry", "SkipConfig", "SkipNet", "build_net", "count_parameters", "get_entry"]
