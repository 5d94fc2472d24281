from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from deepprior.errors import ConfigError, InputError
from deepprior.physics import (
    KERNELS,
    NOISES,
    Downsample,
    GaussianNoise,
    Identity,
    Mask,
    PoissonNoise,
    SaltPepperNoise,
    SpeckleNoise,
    downsample,
    lanczos_kernel,
    make_noise,
    random_mask,
)


def _operators():
    g = torch.Generator().manual_seed(1)
    ops = [("identity", Identity()), ("mask", Mask(random_mask(48, 40, drop=0.5, generator=g)))]
    for kernel in KERNELS:
        for factor in (2, 4, 8):
            ops.append((f"down-{kernel}-{factor}", Downsample(factor, kernel)))
    return ops


@pytest.mark.parametrize(("name", "op"), _operators(), ids=[n for n, _ in _operators()])
def test_adjoint_dot_product(name, op):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 48, 40, generator=g, dtype=torch.float64)
    op = op.double()
    y = torch.rand(op.output_shape(tuple(x.shape)), generator=g, dtype=torch.float64)
    lhs = (op(x) * y).sum()
    rhs = (x * op.adjoint(y, tuple(x.shape))).sum()
    assert torch.allclose(lhs, rhs, rtol=1e-10)
    assert op(x).shape == op.output_shape(tuple(x.shape))


@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("factor", [2, 4, 8])
def test_downsample_preserves_constants_and_shape(kernel, factor):
    op = Downsample(factor, kernel)
    x = torch.full((1, 3, 8 * factor, 5 * factor), 0.3)
    y = op(x)
    assert y.shape == (1, 3, 8, 5)
    assert torch.allclose(y, torch.full_like(y, 0.3), atol=1e-6)


def test_separable_downsample_equals_2d_convolution():
    taps = torch.from_numpy(lanczos_kernel(4)).float()
    x = torch.rand(1, 2, 32, 24)
    k2d = torch.outer(taps, taps)[None, None]
    pad = (taps.numel() - 4) // 2
    ref = F.conv2d(F.pad(x.reshape(2, 1, 32, 24), (pad,) * 4, mode="replicate"), k2d, stride=4).reshape(1, 2, 8, 6)
    assert torch.allclose(downsample(x, 4, taps), ref, atol=1e-6)
    assert torch.allclose(Downsample(4)(x), ref, atol=1e-6)


def test_lanczos_taps_golden():
    # Lanczos-2 at factor 2: 8 taps at +-0.25 ... +-1.75 low-res pixels; L(t) = sinc(t) sinc(t/2), normalised.
    t = np.array([-1.75, -1.25, -0.75, -0.25, 0.25, 0.75, 1.25, 1.75])
    w = np.sinc(t) * np.sinc(t / 2)
    np.testing.assert_allclose(lanczos_kernel(2), w / w.sum(), rtol=1e-12)
    assert lanczos_kernel(4).shape == (16,)
    assert lanczos_kernel(8, 3).shape == (48,)


def test_downsample_rejects_bad_factor_and_size():
    with pytest.raises(ConfigError, match="scale factor"):
        Downsample(0)
    with pytest.raises(ConfigError, match="kernel"):
        Downsample(2, "gauss")
    with pytest.raises(ConfigError, match="divide"):
        Downsample(4)(torch.rand(1, 1, 10, 12))


def test_mask_operator_and_errors():
    m = torch.zeros(5, 6)
    with pytest.raises(InputError, match="no pixel"):
        Mask(m)
    m[0, 0] = 1
    op = Mask(m)
    with pytest.raises(InputError, match="mask is 6x5 but the image is 4x4"):
        op(torch.rand(1, 3, 4, 4))
    assert "Mask(6x5" in repr(op)


def test_random_mask_fraction_and_seed():
    a = random_mask(200, 100, drop=0.3, generator=torch.Generator().manual_seed(3))
    b = random_mask(200, 100, drop=0.3, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert abs(float(1 - a.mean()) - 0.3) < 0.02
    with pytest.raises(InputError):
        random_mask(4, 4, drop=1.0)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_gaussian_noise_statistics_and_seed():
    x = torch.full((1, 3, 128, 128), 0.5)
    y = GaussianNoise(25 / 255)(x, generator=_gen())
    assert abs(float((y - x).std()) - 25 / 255) < 0.002
    assert abs(float((y - x).mean())) < 0.002
    assert torch.equal(y, GaussianNoise(25 / 255)(x, generator=_gen()))
    assert not torch.equal(y, GaussianNoise(25 / 255)(x, generator=_gen(1)))


def test_poisson_noise_statistics():
    x = torch.full((1, 1, 200, 200), 0.4)
    peak = 30.0
    y = PoissonNoise(peak)(x, generator=_gen())
    counts = y * peak
    assert torch.allclose(counts, counts.round(), atol=1e-4)  # whole photon counts
    assert abs(float(y.mean()) - 0.4) < 0.01
    assert abs(float(y.var()) - 0.4 / peak) < 0.1 * 0.4 / peak


def test_salt_pepper_exact_count_all_channels():
    x = torch.full((2, 3, 40, 50), 0.5)
    y = SaltPepperNoise(0.1)(x, generator=_gen())
    for i in range(2):
        changed = (y[i] != 0.5).any(dim=0)
        assert int(changed.sum()) == 200
        same = (y[i] == y[i, :1]).all()  # all channels of a pixel together
        assert bool(same)
        assert int((y[i, 0] == 0).sum()) == 100 and int((y[i, 0] == 1).sum()) == 100


def test_speckle_is_multiplicative():
    x = torch.cat([torch.full((1, 1, 100, 100), 0.2), torch.full((1, 1, 100, 100), 0.8)], dim=1)
    y = SpeckleNoise(0.2)(x, generator=_gen())
    d = y - x
    assert abs(float(d[:, 0].std()) - 0.04) < 0.004
    assert abs(float(d[:, 1].std()) - 0.16) < 0.016
    assert float(SpeckleNoise(0.2)(torch.zeros(1, 1, 8, 8), generator=_gen()).abs().max()) == 0.0


@pytest.mark.parametrize("name", list(NOISES))
def test_noise_registry_shapes_and_determinism(name):
    level = {"gaussian": 0.1, "poisson": 30, "salt-pepper": 0.1, "speckle": 0.2}[name]
    model = make_noise(name, level)
    x = torch.rand(1, 3, 37, 31, generator=_gen(5))
    a, b = model(x, generator=_gen(2)), model(x, generator=_gen(2))
    assert a.shape == x.shape and a.dtype == x.dtype and torch.equal(a, b)


def test_noise_bad_levels():
    with pytest.raises(ConfigError, match="unknown noise"):
        make_noise("pink", 1)
    for name, level in (("gaussian", -1), ("poisson", 0), ("salt-pepper", 1.5), ("speckle", -0.1)):
        with pytest.raises(ConfigError):
            make_noise(name, level)


@pytest.mark.parametrize("name", list(NOISES))
@pytest.mark.parametrize("level", [float("nan"), float("inf"), "2", True, [2], None])
def test_noise_refuses_levels_that_are_not_finite_numbers(name, level):
    # found by the fuzz suite: degrade(peak=nan) reached torch.poisson and failed there with a raw RuntimeError
    with pytest.raises(ConfigError, match="invalid|out of range"):
        make_noise(name, level)


def test_degrade_and_denoise_refuse_non_finite_levels():
    import deepprior

    img = np.full((16, 16), 128, np.uint8)
    for kw in ({"peak": float("nan")}, {"sigma": float("inf")}, {"amount": "0.1"}, {"noise": "speckle", "sigma": [1]}):
        with pytest.raises(ConfigError):
            deepprior.degrade(img, **kw)
        with pytest.raises(ConfigError):
            deepprior.denoise(img, num_iter=1, **kw)
    with pytest.raises(ConfigError):
        deepprior.deblur(img, kernel="box:3", sigma=[2], num_iter=1)
