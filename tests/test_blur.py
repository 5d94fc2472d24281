from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from PIL import Image

from deepprior.errors import ConfigError, InputError
from deepprior.physics import (
    BLURS,
    Blur,
    BlurSpec,
    blur,
    blur_adjoint,
    box_blur_kernel,
    box_kernel,
    file_kernel,
    gaussian_kernel,
    motion_kernel,
    parse_blur,
)
from deepprior.physics.blur import BOUNDARIES

BOUNDARY_RULES = list(BOUNDARIES)  # reflect, replicate, circular, zero


def _centre_of_mass(k: np.ndarray) -> tuple[float, float]:
    rows, cols = np.mgrid[0 : k.shape[0], 0 : k.shape[1]]
    return float((rows * k).sum() / k.sum()), float((cols * k).sum() / k.sum())


def _asymmetric_kernel(h: int = 5, w: int = 7) -> np.ndarray:
    """A non-negative kernel with no symmetry at all (like a kernel read from a file)."""
    k = np.random.default_rng(3).random((h, w)) ** 2
    k[0, -1] += 2.0
    return k / k.sum()


def _write_png(path, array: np.ndarray, mode: str = "L") -> str:
    Image.fromarray(array.astype(np.uint8), mode=mode).save(path)
    return str(path)


# ---------------------------------------------------------------------------------------------- kernels


@pytest.mark.parametrize(
    "kernel",
    [
        gaussian_kernel(0.3),
        gaussian_kernel(1.6),
        gaussian_kernel(3.25),
        box_blur_kernel(1),
        box_blur_kernel(4),
        box_blur_kernel(9),
        motion_kernel(0.5, 0),
        motion_kernel(9, 0),
        motion_kernel(15, 30),
        motion_kernel(8, 90),
        motion_kernel(20, -135.0),
    ],
    ids=[
        "gauss0.3",
        "gauss1.6",
        "gauss3.25",
        "box1",
        "box4",
        "box9",
        "mot0.5",
        "mot9-0",
        "mot15-30",
        "mot8-90",
        "mot20-m135",
    ],
)
def test_kernels_sum_to_one_odd_and_centred(kernel):
    assert kernel.dtype == np.float64 and kernel.ndim == 2
    assert kernel.shape[0] == kernel.shape[1] and kernel.shape[0] % 2 == 1
    assert kernel.sum() == pytest.approx(1.0, abs=1e-12)
    assert (kernel >= 0).all()
    c = (kernel.shape[0] - 1) / 2
    assert _centre_of_mass(kernel) == pytest.approx((c, c), abs=1e-9)
    assert np.allclose(kernel, kernel[::-1, ::-1])  # all three families are point-symmetric


@pytest.mark.parametrize("sigma", [0.1, 0.25, 1.0, 1.6, 2.6, 50.0])
def test_gaussian_truncated_at_four_sigma(sigma):
    k = gaussian_kernel(sigma)
    radius = max(1, math.ceil(4 * sigma))
    assert k.shape == (2 * radius + 1, 2 * radius + 1)
    t = np.arange(-radius, radius + 1)
    g = np.exp(-(t[:, None] ** 2 + t[None, :] ** 2) / (2 * sigma**2))
    assert np.allclose(k, g / g.sum(), rtol=1e-12, atol=0)
    assert np.allclose(k, k.T)


def test_box_kernel_odd_and_even():
    assert np.allclose(box_blur_kernel(3), np.full((3, 3), 1 / 9))
    k = box_blur_kernel(4)
    assert k.shape == (5, 5)
    taps = np.array([0.5, 1, 1, 1, 0.5]) / 4
    assert np.allclose(k, np.outer(taps, taps))
    # the SR box filter of downsample.py is a different thing and keeps its name
    assert box_kernel(4).shape == (4,)


@pytest.mark.parametrize(("angle", "axis"), [(0, "row"), (180, "row"), (90, "col"), (-90, "col"), (270, "col")])
def test_motion_kernel_axis_aligned_is_one_line(angle, axis):
    k = motion_kernel(9, angle)
    c = k.shape[0] // 2
    line = k[c] if axis == "row" else k[:, c]
    assert line.sum() == pytest.approx(1.0)
    assert np.count_nonzero(k) == np.count_nonzero(line)
    # anti-aliased uniform segment of 9 pixels: full weights inside, partial at the ends
    assert np.count_nonzero(line) == 11
    assert np.allclose(line[2:-2], line[c])


@pytest.mark.parametrize("angle", [0.0, 17.0, 30.0, 45.0, 60.0, 90.0, 123.0, 160.0])
def test_motion_kernel_principal_direction_matches_angle(angle):
    k = motion_kernel(15, angle)
    rows, cols = np.mgrid[0 : k.shape[0], 0 : k.shape[1]] - k.shape[0] // 2
    dx, dy = cols.astype(float), -rows.astype(float)  # y up, so counter-clockwise is positive
    cov = np.array([[(k * dx * dx).sum(), (k * dx * dy).sum()], [(k * dx * dy).sum(), (k * dy * dy).sum()]])
    vals, vecs = np.linalg.eigh(cov)
    v = vecs[:, np.argmax(vals)]
    found = math.degrees(math.atan2(v[1], v[0])) % 180.0
    diff = abs(found - angle % 180.0)
    assert min(diff, 180.0 - diff) < 1.0
    assert vals.max() > 10 * vals.min()  # a line, not a blob


def test_motion_kernel_length_sets_spread():
    # the variance along a uniform segment of length L is L^2 / 12 (plus the bilinear spread)
    k = motion_kernel(21, 0)
    c = k.shape[0] // 2
    t = np.arange(k.shape[1]) - c
    assert (k[c] * t**2).sum() == pytest.approx(21**2 / 12, rel=0.02)


# ---------------------------------------------------------------------------------------------- parsing


def test_parse_registered_syntaxes():
    assert set(BLURS) == {"gaussian", "box", "motion"}
    g = parse_blur("gaussian:1.6")
    assert g == BlurSpec("gaussian", (1.6,), "gaussian:1.6")
    assert np.array_equal(g.kernel(), gaussian_kernel(1.6))
    b = parse_blur(" box:9 ")
    assert (b.name, b.params, b.text) == ("box", (9.0,), "box:9")
    assert np.array_equal(b.kernel(), box_blur_kernel(9))
    m = parse_blur("motion:15, 30.50")
    assert (m.name, m.params, m.text) == ("motion", (15.0, 30.5), "motion:15,30.5")
    assert np.array_equal(m.kernel(), motion_kernel(15, 30.5))
    assert parse_blur(m.text) == m  # the canonical text parses to the same spec
    assert parse_blur("motion:7,-45").params == (7.0, -45.0)
    assert parse_blur("gaussian:50").kernel().shape == (401, 401)
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.name = "box"  # type: ignore[misc]


def test_parse_png_file(tmp_path):
    a = np.zeros((5, 7), dtype=np.uint8)
    a[2, 1:6] = 200
    a[1, 5] = 100
    path = _write_png(tmp_path / "psf.png", a)
    spec = parse_blur(path)
    assert (spec.name, spec.params, spec.text) == ("file", (), path)
    k = spec.kernel()
    assert k.shape == (5, 7) and k.dtype == np.float64
    assert k.sum() == pytest.approx(1.0)
    assert np.allclose(k, a / a.sum())


def test_file_kernel_colour_is_luminance_and_16_bit(tmp_path):
    rgb = np.zeros((3, 3, 3), dtype=np.uint8)
    rgb[1, 1] = (255, 0, 0)
    rgb[0, 0] = (0, 255, 0)
    k = file_kernel(_write_png(tmp_path / "rgb.png", rgb, mode="RGB"))
    assert k[1, 1] / k[0, 0] == pytest.approx(0.299 / 0.587)
    deep = np.array([[0, 1, 0], [1, 65535, 1], [0, 1, 0]], dtype=np.uint16)
    Image.fromarray(deep).save(tmp_path / "deep.png")
    k16 = file_kernel(tmp_path / "deep.png")
    assert np.allclose(k16, deep / deep.sum())


@pytest.mark.parametrize(
    "spec",
    [
        "gaussian:x",
        "gaussian:",
        "gaussian",
        "gaussian:1,2",
        "gaussian:nan",
        "gaussian:inf",
        "gaussian:-1",
        "gaussian:0",
        "gaussian:50.5",
        "box:0",
        "box:2.5",
        "box:-3",
        "box:202",
        "box:inf",
        "motion:5",
        "motion:0,30",
        "motion:-4,30",
        "motion:nan,30",
        "motion:5,nan",
        "motion:5,inf",
        "motion:250,0",
        "disk:3",
        "",
        "no_such_kernel.png",
    ],
)
def test_parse_rejects_bad_specs(spec):
    with pytest.raises(ConfigError) as info:
        parse_blur(spec)
    msg = str(info.value)
    assert repr(spec.strip()) in msg
    assert "expected" in msg and "\n" not in msg


def test_parse_rejects_unknown_name_with_the_full_syntax():
    with pytest.raises(ConfigError, match=r"blur 'disk:3' is invalid.*gaussian:SIGMA, box:N, motion:LENGTH,ANGLE"):
        parse_blur("disk:3")


def test_parse_names_the_bad_value():
    with pytest.raises(ConfigError, match=r"SIGMA nan is out of range; expected a finite SIGMA with 0 < SIGMA <= 50"):
        parse_blur("gaussian:nan")
    with pytest.raises(ConfigError, match=r"N 2\.5 is out of range; expected an integer N"):
        parse_blur("box:2.5")
    with pytest.raises(ConfigError, match=r"1 parameter\(s\) given; expected motion:LENGTH,ANGLE"):
        parse_blur("motion:5")


def test_parse_rejects_bad_png_files(tmp_path):
    black = _write_png(tmp_path / "black.png", np.zeros((5, 5)))
    with pytest.raises(InputError, match=r"black\.png' is all zero"):
        parse_blur(black)
    even = _write_png(tmp_path / "even.png", np.full((4, 5), 9))
    with pytest.raises(InputError, match=r"even\.png' is 5x4; expected odd sides"):
        parse_blur(even)
    (tmp_path / "junk.png").write_bytes(b"not an image")
    with pytest.raises(InputError, match=r"junk\.png' cannot be read"):
        parse_blur(str(tmp_path / "junk.png"))
    big = _write_png(tmp_path / "big.png", np.ones((403, 3)))
    with pytest.raises(InputError, match=r"big\.png' is 3x403; expected sides of at most 401"):
        parse_blur(big)


def test_negative_file_kernel_is_refused(tmp_path):
    a = np.ones((3, 3), dtype=np.float32)
    a[0, 0] = -0.5
    Image.fromarray(a, mode="F").save(tmp_path / "neg.tif")
    with pytest.raises(InputError, match=r"neg\.tif' has negative values"):
        file_kernel(tmp_path / "neg.tif")


@pytest.mark.parametrize(
    ("call", "bad"),
    [
        (lambda: gaussian_kernel(float("nan")), "nan"),
        (lambda: gaussian_kernel(0), "0"),
        (lambda: box_blur_kernel(0), "0"),
        (lambda: box_blur_kernel(3.5), "3.5"),  # type: ignore[arg-type]
        (lambda: motion_kernel(float("inf"), 0), "inf"),
        (lambda: motion_kernel(5, float("nan")), "nan"),
    ],
)
def test_builders_validate(call, bad):
    with pytest.raises(ConfigError, match=bad):
        call()


# ---------------------------------------------------------------------------------------------- convolution


@pytest.mark.parametrize("boundary", BOUNDARY_RULES)
def test_blur_keeps_shape_and_constants(boundary):
    x = torch.full((2, 3, 37, 31), 0.375, dtype=torch.float64)
    for k in (gaussian_kernel(2.0), motion_kernel(11, 30), _asymmetric_kernel()):
        y = blur(x, k, boundary)
        assert y.shape == x.shape and y.dtype == x.dtype
        if boundary != "zero":
            assert torch.allclose(y, x, atol=1e-12)
        else:  # zero padding darkens the border but not the interior
            assert torch.allclose(y[..., 8:-8, 8:-8], x[..., 8:-8, 8:-8], atol=1e-12)
            assert float(y[0, 0, 0, 0]) < 0.375


def test_delta_gives_the_kernel_not_its_flip():
    k = _asymmetric_kernel(5, 7)
    x = torch.zeros(1, 1, 15, 17, dtype=torch.float64)
    x[0, 0, 7, 8] = 1.0
    y = blur(x, k, "zero")[0, 0]
    assert torch.allclose(y[5:10, 5:12], torch.from_numpy(k))
    assert float(y.sum()) == pytest.approx(1.0)
    op = Blur(k, boundary="zero").double()  # the buffer is float32: equal to float32 rounding
    assert torch.allclose(op(x)[0, 0, 5:10, 5:12], torch.from_numpy(k), rtol=1e-6, atol=1e-9)


def test_circular_blur_matches_fft_convolution():
    k = _asymmetric_kernel(5, 7)
    x = torch.rand(1, 2, 19, 23, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    big = np.zeros((19, 23))
    big[:5, :7] = k
    big = np.roll(big, (-2, -3), axis=(0, 1))  # kernel centre to (0, 0)
    ref = np.real(np.fft.ifft2(np.fft.fft2(x.numpy()) * np.fft.fft2(big)))
    assert np.allclose(blur(x, k, "circular").numpy(), ref, atol=1e-12)


def test_reflect_matches_padding_by_hand():
    k = _asymmetric_kernel(3, 5)
    x = torch.rand(1, 1, 9, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    for mode in ("reflect", "replicate"):
        xp = torch.nn.functional.pad(x, (2, 2, 1, 1), mode=mode)
        ref = torch.nn.functional.conv2d(xp, torch.from_numpy(k).flip(0, 1)[None, None])
        assert torch.allclose(blur(x, k, mode), ref, atol=1e-14)


def test_blur_accepts_tensor_kernels_and_batches_channels_independently():
    k = torch.from_numpy(_asymmetric_kernel())
    x = torch.rand(2, 3, 12, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    y = blur(x, k)
    for b in range(2):
        for c in range(3):
            assert torch.allclose(y[b : b + 1, c : c + 1], blur(x[b : b + 1, c : c + 1], k))


def test_blur_rejects_bad_arguments():
    x = torch.rand(1, 1, 8, 8)
    with pytest.raises(ConfigError, match="'mirror'"):
        blur(x, gaussian_kernel(1.0), "mirror")
    with pytest.raises(ConfigError, match=r"\(4, 4\)"):
        blur(x, np.ones((4, 4)) / 16)
    with pytest.raises(InputError, match=r"\(8, 8\)"):
        blur(x[0, 0], gaussian_kernel(1.0))
    with pytest.raises(ConfigError, match="'mirror'"):
        Blur(gaussian_kernel(1.0), boundary="mirror")
    with pytest.raises(ConfigError, match="403x3"):
        Blur(np.ones((3, 403)))
    with pytest.raises(ConfigError, match=r"\(3, 4\)"):
        Blur(np.ones((3, 4)))


# ---------------------------------------------------------------------------------------------- operator


@pytest.mark.parametrize("boundary", BOUNDARY_RULES)
def test_operator_equals_pure_function(boundary):
    k = motion_kernel(9, 30)
    op = Blur(k, boundary=boundary)
    x = torch.rand(1, 3, 37, 31, generator=torch.Generator().manual_seed(4))
    assert op.kernel.dtype == torch.float32
    assert torch.equal(op(x), blur(x, torch.from_numpy(k).float(), boundary))
    assert torch.equal(op.A_adjoint(x), blur_adjoint(x, torch.from_numpy(k).float(), boundary))
    assert op.output_shape((1, 3, 37, 31)) == (1, 3, 37, 31)
    assert op.measured(x) is None
    assert op.padded(3, 5) is op and op.cropped(0, 0, 10, 10) is op
    assert op.linear


def _kernels():
    return {
        "motion": motion_kernel(13, 27),
        "file-like": _asymmetric_kernel(5, 7),
        "tall": _asymmetric_kernel(9, 3),
        "gaussian": gaussian_kernel(1.6),
    }


@pytest.mark.parametrize("boundary", BOUNDARY_RULES)
@pytest.mark.parametrize("name", list(_kernels()))
@pytest.mark.parametrize("size", [(37, 31), (4, 6)], ids=["37x31", "tiny"])
def test_adjoint_dot_product(boundary, name, size):
    op = Blur(_kernels()[name], boundary=boundary).double()
    g = torch.Generator().manual_seed(5)
    x = torch.rand(1, 3, *size, generator=g, dtype=torch.float64)
    y = torch.rand(1, 3, *size, generator=g, dtype=torch.float64)
    lhs = float((op.A(x) * y).sum())
    rhs = float((x * op.A_adjoint(y)).sum())
    assert rhs == pytest.approx(lhs, rel=1e-10)
    # the same as the autograd adjoint of the base class
    auto = super(Blur, op).adjoint(y, tuple(x.shape))
    assert torch.allclose(op.adjoint(y, tuple(x.shape)), auto, rtol=1e-12, atol=1e-12)


def test_tiny_image_falls_back_to_replicate():
    op = Blur.from_spec("gaussian:3")  # 25 x 25, radius 12
    x = torch.rand(1, 3, 5, 40, generator=torch.Generator().manual_seed(6))
    y = op(x)
    assert y.shape == x.shape and torch.isfinite(y).all()
    assert torch.allclose(y, Blur(op.kernel, boundary="replicate")(x))
    assert torch.allclose(op(torch.full((1, 1, 3, 3), 0.5)), torch.full((1, 1, 3, 3), 0.5))
    big = torch.rand(1, 1, 30, 30, generator=torch.Generator().manual_seed(7))
    assert not torch.allclose(op(big), Blur(op.kernel, boundary="replicate")(big))  # reflect when it can


def test_from_spec_and_repr(tmp_path):
    op = Blur.from_spec("gaussian:1.6")
    assert repr(op) == "Blur(gaussian:1.6, 15x15, reflect)"
    assert repr(Blur.from_spec(parse_blur("motion:9,90"), boundary="circular")) == "Blur(motion:9,90, 11x11, circular)"
    assert repr(Blur(_asymmetric_kernel(5, 7), boundary="zero")) == "Blur(7x5, zero)"
    path = _write_png(tmp_path / "k.png", np.arange(15).reshape(3, 5) + 1)
    assert repr(Blur.from_spec(path)) == f"Blur({path}, 5x3, reflect)"
    assert float(op.kernel.sum()) == pytest.approx(1.0, abs=1e-6)


def test_gradient_flows_and_kernel_follows_module():
    op = Blur.from_spec("motion:7,45")
    x = torch.rand(1, 3, 16, 16, requires_grad=True)
    op(x).square().sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert op.double().kernel.dtype == torch.float64
    assert "kernel" in dict(op.named_buffers())
