from __future__ import annotations

import numpy as np
import pytest
import torch

from deepprior.errors import ConfigError
from deepprior.nets import NETWORKS, SkipConfig, SkipNet, build_net, count_parameters


def test_paper_network_parameter_count():
    assert count_parameters(SkipNet(32, 3)) == 2_217_831


def test_deep_decoder_parameter_count():
    # 6 k^2 + 12 k + k C for k = 128, C = 3 (Heckel and Hand's formula)
    assert count_parameters(build_net("decoder", in_channels=128, out_channels=3)) == 100_224


@pytest.mark.parametrize("name", list(NETWORKS))
def test_every_network_keeps_odd_sizes_through_the_api(name, rng):
    import deepprior

    img = rng.integers(0, 256, (37, 31, 3), dtype=np.uint8)
    r = deepprior.denoise(img, net=name, num_iter=2)
    assert r.image.pixels.shape == (37, 31, 3) and r.net == name


def test_hourglass_has_no_skip_branches():
    net = build_net("hourglass", in_channels=32, out_channels=3)
    assert all(level is None for level in _skips(net.body))
    assert count_parameters(net) < 2_217_831


def _skips(level):
    out = []
    while level is not None:
        out.append(level.skip)
        level = level.deeper
    return out


TINY = SkipConfig(channels_down=(8, 8, 8), channels_up=(8, 8, 8), channels_skip=(2, 2, 2))


@pytest.mark.parametrize("name", list(NETWORKS))
def test_registry_networks_shape_dtype_determinism(name):
    entry = NETWORKS[name]
    cfg = entry.tiny
    depth = cfg.channels if name == "decoder" else 4
    size = (40, 32)
    zsize = (10, 8) if name == "decoder" else size
    z = torch.rand(1, depth, *zsize)
    outs = []
    for _ in range(2):
        torch.manual_seed(0)
        net = build_net(name, in_channels=depth, out_channels=3, config=cfg)
        if hasattr(net, "input_size"):
            assert net.input_size(*size) == zsize
        outs.append(net(z).detach())
    assert outs[0].shape == (1, 3, 40, 32)
    assert outs[0].dtype == torch.float32
    assert torch.equal(outs[0], outs[1])
    assert float(outs[0].min()) >= 0 and float(outs[0].max()) <= 1


def test_odd_sizes_are_cropped_inside_the_network():
    net = SkipNet(4, 1, TINY)
    assert net(torch.rand(1, 4, 37, 31)).shape == (1, 1, 37, 31)


@pytest.mark.parametrize("upsample", ["nearest", "bilinear", "bicubic"])
@pytest.mark.parametrize("pad", ["reflection", "zero"])
def test_every_knob_builds(upsample, pad):
    cfg = SkipConfig(channels_down=(8, 16), channels_up=(8, 12), channels_skip=(0, 4), kernel_down=(3, 5),
                     kernel_up=1, kernel_skip=3, upsample=upsample, pad=pad, act="relu", norm="group",
                     sigmoid=False, need_1x1_up=False, bias=False)
    assert SkipNet(3, 3, cfg)(torch.rand(1, 3, 16, 16)).shape == (1, 3, 16, 16)


def test_with_scales_truncates_levels():
    cfg = SkipConfig().with_scales(3)
    assert cfg.scales == 3 and cfg.channels_skip == (4, 4, 4)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"channels_up": (8,)}, "one entry per level"),
        ({"kernel_down": 2}, "odd size"),
        ({"upsample": "cubic"}, "unknown upsampling"),
        ({"pad": "mirror"}, "unknown padding"),
        ({"act": "tanh"}, "unknown activation"),
    ],
)
def test_bad_configs_are_named(kwargs, message):
    cfg = SkipConfig(channels_down=(8, 8), channels_up=(8, 8), channels_skip=(2, 2))
    cfg = SkipConfig(**{**cfg.__dict__, **kwargs})
    with pytest.raises(ConfigError, match=message):
        SkipNet(3, 3, cfg)


def test_unknown_network_is_named():
    with pytest.raises(ConfigError, match="unknown network 'vgg'"):
        build_net("vgg", in_channels=3, out_channels=3)
