"""The Deep Image Prior encoder-decoder with skip connections, and the hourglass (no skips).

References:
    Ulyanov, Vedaldi and Lempitsky, "Deep Image Prior", CVPR 2018 / IJCV 2020 (supplementary material:
    the architectures). With 5 levels of 128 channels down and up, 4 skip channels, 3x3 convolutions,
    bilinear upsampling and reflection padding, the network has 2,217,831 parameters for 32 input and
    3 output channels.

"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import nn

from ..errors import ConfigError
from .common import ACTIVATIONS, NORMS, PADDINGS, UPSAMPLINGS, Prior, activation, check_choice, conv, norm, upsample


def _levels(value: int | tuple[int, ...], n: int, what: str) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * n
    if len(value) != n:
        raise ConfigError(f"{what} has {len(value)} entries but the network has {n} levels")
    return tuple(value)


@dataclass(frozen=True)
class SkipConfig:
    """Every knob of the skip network, per level (level 0 is the finest).

    Attributes:
        channels_down: channels of each level's encoder convolutions.
        channels_up: channels of each level's decoder convolutions.
        channels_skip: channels of each level's skip branch (0 removes it: the hourglass).
        kernel_down: kernel size of the encoder convolutions (per level or one for all).
        kernel_up: kernel size of the decoder's first convolution (per level or one for all).
        kernel_skip: kernel size of the skip branch (per level or one for all).
        upsample: ``nearest``, ``bilinear`` or ``bicubic``.
        pad: ``reflection`` or ``zero``.
        act: ``leaky_relu`` (0.2), ``relu``, ``elu`` or ``silu``.
        norm: ``batch``, ``instance``, ``group`` or ``none``.
        bias: whether the convolutions have a bias.
        sigmoid: whether the output passes through a sigmoid (keeps it in [0, 1]).
        need_1x1_up: whether each decoder level ends with a 1x1 convolution.

    """

    channels_down: tuple[int, ...] = (128, 128, 128, 128, 128)
    channels_up: tuple[int, ...] = (128, 128, 128, 128, 128)
    channels_skip: tuple[int, ...] = (4, 4, 4, 4, 4)
    kernel_down: int | tuple[int, ...] = 3
    kernel_up: int | tuple[int, ...] = 3
    kernel_skip: int | tuple[int, ...] = 1
    upsample: str = "bilinear"
    pad: str = "reflection"
    act: str = "leaky_relu"
    norm: str = "batch"
    bias: bool = True
    sigmoid: bool = True
    need_1x1_up: bool = True

    @property
    def widest(self) -> int:
        """Channels of the widest full-resolution layer (the memory estimate's width)."""
        return int(max(self.channels_down))

    @property
    def scales(self) -> int:
        return len(self.channels_down)

    def validate(self) -> None:
        n = self.scales
        if n < 1:
            raise ConfigError("the skip network needs at least one level")
        if len(self.channels_up) != n or len(self.channels_skip) != n:
            raise ConfigError(
                f"channels_down, channels_up and channels_skip must have one entry per level; got "
                f"{len(self.channels_down)}, {len(self.channels_up)} and {len(self.channels_skip)}"
            )
        for name in ("kernel_down", "kernel_up", "kernel_skip"):
            for k in _levels(getattr(self, name), n, name):
                if k < 1 or k % 2 == 0:
                    raise ConfigError(f"{name} {k} is invalid; expected an odd size >= 1")
        if min(self.channels_down) < 1 or min(self.channels_up) < 1 or min(self.channels_skip) < 0:
            raise ConfigError("channel counts must be positive (skip channels may be 0)")
        check_choice("upsampling", self.upsample, UPSAMPLINGS)
        check_choice("padding", self.pad, PADDINGS)
        check_choice("activation", self.act, ACTIVATIONS)
        check_choice("normalisation", self.norm, NORMS)

    def with_scales(self, scales: int) -> SkipConfig:
        """The same network with only its ``scales`` finest levels (for small images)."""
        if scales >= self.scales:
            return self

        def cut(v: int | tuple[int, ...]) -> int | tuple[int, ...]:
            return v if isinstance(v, int) else tuple(v[:scales])

        return replace(
            self,
            channels_down=self.channels_down[:scales],
            channels_up=self.channels_up[:scales],
            channels_skip=self.channels_skip[:scales],
            kernel_down=cut(self.kernel_down),
            kernel_up=cut(self.kernel_up),
            kernel_skip=cut(self.kernel_skip),
        )


class _Level(nn.Module):
    """One level: skip branch, downsampling encoder, the deeper levels, upsampling, and the merge."""

    def __init__(
        self, cfg: SkipConfig, i: int, c_in: int, deeper: nn.Module | None, c_deeper: int
    ) -> None:
        super().__init__()
        n = cfg.scales
        kd, ku, ks = (_levels(getattr(cfg, k), n, k)[i] for k in ("kernel_down", "kernel_up", "kernel_skip"))
        c_down, c_up, c_skip = cfg.channels_down[i], cfg.channels_up[i], cfg.channels_skip[i]
        self.skip: nn.Module | None = None
        if c_skip > 0:
            self.skip = nn.Sequential(
                conv(c_in, c_skip, ks, bias=cfg.bias, pad=cfg.pad), norm(cfg.norm, c_skip), activation(cfg.act)
            )
        self.down = nn.Sequential(
            conv(c_in, c_down, kd, stride=2, bias=cfg.bias, pad=cfg.pad),
            norm(cfg.norm, c_down),
            activation(cfg.act),
            conv(c_down, c_down, kd, bias=cfg.bias, pad=cfg.pad),
            norm(cfg.norm, c_down),
            activation(cfg.act),
        )
        self.deeper = deeper
        self.up = upsample(cfg.upsample)
        c_merge = c_skip + (c_deeper if deeper is not None else c_down)
        layers: list[nn.Module] = [
            norm(cfg.norm, c_merge),
            conv(c_merge, c_up, ku, bias=cfg.bias, pad=cfg.pad),
            norm(cfg.norm, c_up),
            activation(cfg.act),
        ]
        if cfg.need_1x1_up:
            layers += [conv(c_up, c_up, 1, bias=cfg.bias, pad=cfg.pad), norm(cfg.norm, c_up), activation(cfg.act)]
        self.merge = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d = self.down(x)
        if self.deeper is not None:
            d = self.deeper(d)
        d = self.up(d)
        if d.shape[-2:] != x.shape[-2:]:
            # Odd sizes: the stride-2 branch rounds up; crop it back to the level's size.
            d = d[..., : x.shape[-2], : x.shape[-1]]
        if self.skip is not None:
            d = torch.cat([self.skip(x), d], dim=1)
        return self.merge(d)


class SkipNet(Prior):
    """The Deep Image Prior's encoder-decoder ("skip") network.

    Args:
        in_channels: channels of the network input ``z`` (32 in the paper).
        out_channels: channels of the image (1 grey, 3 RGB).
        config: the architecture; :class:`SkipConfig` defaults are the paper's denoising network.

    Shape:
        ``(B, in_channels, H, W) -> (B, out_channels, H, W)``; best with sides divisible by ``2^scales``.

    References:
        Ulyanov, Vedaldi and Lempitsky, "Deep Image Prior", CVPR 2018.

    Example:
        >>> from deepprior.nets.common import count_parameters
        >>> count_parameters(SkipNet(32, 3))
        2217831

    """

    def __init__(self, in_channels: int, out_channels: int, config: SkipConfig | None = None) -> None:
        super().__init__()
        cfg = config or SkipConfig()
        cfg.validate()
        self.config = cfg
        n = cfg.scales
        deeper: nn.Module | None = None
        c_deeper = 0
        # Build from the deepest level outwards: each level wraps the ones below it.
        for i in reversed(range(n)):
            c_in = in_channels if i == 0 else cfg.channels_down[i - 1]
            level = _Level(cfg, i, c_in, deeper, c_deeper)
            deeper, c_deeper = level, cfg.channels_up[i]
        if deeper is None:  # unreachable: validate() demands one level or more
            raise ConfigError("the skip network needs at least one level")
        self.body = deeper
        head: list[nn.Module] = [conv(cfg.channels_up[0], out_channels, 1, bias=cfg.bias, pad=cfg.pad)]
        if cfg.sigmoid:
            head.append(nn.Sigmoid())
        self.head = nn.Sequential(*head)

    @property
    def scales(self) -> int:
        return self.config.scales

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(z))
