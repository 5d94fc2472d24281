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


def test_progressive_schedule_grows_coarse_to_fine():
    from deepprior.nets import PGConfig, ProgressiveSkip

    cfg = PGConfig(TINY, fade=4, stabilise=3, warmup=2)
    net = ProgressiveSkip(4, 3, cfg)
    phases = [net.schedule(i) for i in range(1, 25)]
    stages = [p.stage for p in phases]
    # stage 1 for 3 iterations, stage 2 for 4 + 3, then the last stage for good
    assert stages[:3] == [1, 1, 1] and stages[3:10] == [2] * 7 and set(stages[10:]) == {3}
    assert [i + 1 for i, p in enumerate(phases) if p.new_phase] == [1, 4, 11]
    assert [round(p.alpha, 2) for p in phases[3:8]] == [0.25, 0.5, 0.75, 1.0, 1.0]
    assert phases[3].lr_scale < 1 and phases[5].lr_scale == 1.0
    assert phases[0].noise_scale == 0.01 and phases[-1].noise_scale == 1.0
    first_avg = next(i + 1 for i, p in enumerate(phases) if p.average)
    assert first_avg == cfg.full_resolution_from() == 15  # 3 + 7 + 4 + 1


def test_progressive_stage_one_trains_only_the_innermost_level():
    from deepprior.nets import PGConfig, ProgressiveSkip

    torch.manual_seed(0)
    net = ProgressiveSkip(4, 3, PGConfig(TINY, fade=2, stabilise=2, warmup=0))
    net.schedule(1)
    z = torch.rand(1, 4, 32, 32)
    out = net(z)
    assert out.shape == (1, 3, 32, 32)
    seen = out.detach()
    coarse = torch.nn.functional.avg_pool2d(seen, 4)  # a bilinear upsampling of an 8x8 image
    again = torch.nn.functional.interpolate(coarse, size=(32, 32), mode="bilinear", align_corners=False)
    assert float((again - seen).abs().mean()) < float(seen.std()) * 0.5
    out.mean().backward()
    outer = net._levels[0]
    assert all(p.grad is None for p in outer.down.parameters())
    assert any(p.grad is not None for p in net._levels[2].parameters())


def test_progressive_fit_runs_every_stage_and_averages_only_at_full_size():
    from deepprior.fit import FitConfig, Fitter
    from deepprior.nets import PGConfig, ProgressiveSkip
    from deepprior.physics import Identity

    torch.manual_seed(0)
    cfg = PGConfig(TINY, fade=3, stabilise=2, warmup=2)
    net = ProgressiveSkip(4, 3, cfg)
    seen = []

    class Watch:
        def on_start(self, fitter):
            pass

        def on_step(self, state):
            # The optimiser itself, not its id(): a freed optimiser's id can be reused by the next one.
            seen.append((net.stage, state.fitter.optimizer, torch.equal(state.average, state.output)))

        def on_end(self, result):
            pass

    start = cfg.full_resolution_from()
    r = Fitter(net, Identity(), torch.rand(1, 3, 16, 16), config=FitConfig(num_iter=start + 3, input_depth=4),
               callbacks=[Watch()]).run()
    assert r.iterations == start + 3
    assert [s for s, _, _ in seen][:2] == [1, 1] and seen[-1][0] == 3
    assert len({id(opt) for _, opt, _ in seen}) == 3  # a fresh Adam per stage (all kept alive by `seen`)
    assert all(same for _, _, same in seen[: start - 1]) and not any(same for _, _, same in seen[start:])


def test_progressive_growth_is_not_mistaken_for_divergence():
    # Noise-free data (as in super-resolution) is fitted to a high PSNR at the coarse stage; the fresh
    # full-resolution level then drops the fit by far more than the guard's 5 dB while it fades in.
    # That is the schedule, not a divergence: restoring the weights there froze the new level untrained.
    from deepprior.fit import FitConfig, Fitter
    from deepprior.nets import PGConfig, ProgressiveSkip
    from deepprior.physics import Identity

    torch.manual_seed(0)
    cfg = PGConfig(SkipConfig((8, 8), (8, 8), (2, 2)), fade=20, stabilise=300, warmup=10)
    net = ProgressiveSkip(4, 3, cfg)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 16), torch.linspace(0, 1, 16), indexing="ij")
    y = (0.5 + 0.2 * torch.sin(3 * xx + 2 * yy)).expand(1, 3, 16, 16).contiguous()
    r = Fitter(net, Identity(), y, config=FitConfig(num_iter=cfg.full_resolution_from() + 200, input_depth=4,
                                                    lr=0.01, reg_noise_std=0.0)).run()
    assert r.guard_restores == 0
    assert r.history[-1]["psnr_input"] > 30


@pytest.mark.parametrize("name", list(NETWORKS))
def test_every_network_super_resolves_with_its_own_settings(name, rng):
    import deepprior

    img = rng.integers(0, 256, (19, 17, 3), dtype=np.uint8)
    r = deepprior.super_resolve(img, scale=4, net=name, num_iter=2)
    assert r.image.pixels.shape == (76, 68, 3) and r.net == name
    from deepprior.restore.problem import NetTweak
    from deepprior.tasks.superres import NET_TWEAKS

    tweak = NET_TWEAKS.get(name, NetTweak())  # the task's measured settings for this network
    if tweak.upscaled_input:  # the measurement upscaled is the input: 3 channels
        assert r.config["fit"]["input_depth"] == 3
    for key, value in tweak.config.items():
        assert r.config["net_config"][key] == value
    for key, value in tweak.fit.items():
        assert r.config["fit"][key] == value
