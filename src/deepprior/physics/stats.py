"""Noise statistics: pure functions of an image (BCHW tensors in [0, 1]) or of a noise level.

They read the measurement only, never a network or a fit: the noise's level (Gaussian, Poisson, speckle,
salt-and-pepper), its noise-level function ``Var[y | x] = a + b x + c x^2``, where the impulses are, and
the squared error that clipping to [0, 1] leaves of Gaussian noise. The data terms
(:mod:`deepprior.fit.losses`) and the stopping rules (:mod:`deepprior.fit.stopping`) build on them.
"""

from __future__ import annotations

import math

import torch

from ..errors import ConfigError

#: Above this fraction of isolated black/white pixels, the blind setting treats the noise as impulses
#: (clean photographs measured 0.0 %, salt-and-pepper at 0.1 measured 7.6-9.5 %: see detect_impulses).
IMPULSE_FRACTION = 0.005


def _normal_cdf(t: torch.Tensor) -> torch.Tensor:
    return 0.5 * (1.0 + torch.erf(t / math.sqrt(2.0)))


def _normal_pdf(t: torch.Tensor) -> torch.Tensor:
    return torch.exp(-0.5 * t * t) / math.sqrt(2.0 * math.pi)


def clipped_gaussian_mse(x: torch.Tensor, sigma: float | torch.Tensor) -> torch.Tensor:
    """Per-pixel ``E[(clip(x + n, 0, 1) - x)^2]`` for ``n ~ N(0, sigma^2)``: the noise left after clipping.

    Near black and white, clipping removes part of the noise, so the residual a perfect estimate leaves
    is smaller than ``sigma^2`` there. ``sigma`` may be a tensor (a per-pixel level, for signal-dependent
    noise in its Gaussian approximation).

    Example:
        >>> round(float(clipped_gaussian_mse(torch.tensor([0.5]), 0.01)) / 0.01**2, 4)
        1.0

    """
    x = x.double().clamp(0, 1)
    s = sigma.double().clamp(min=1e-12) if isinstance(sigma, torch.Tensor) else max(float(sigma), 1e-12)
    a, b = -x / s, (1 - x) / s
    middle = s * s * ((_normal_cdf(b) - _normal_cdf(a)) - (b * _normal_pdf(b) - a * _normal_pdf(a)))
    return x * x * _normal_cdf(a) + (1 - x) ** 2 * _normal_cdf(-b) + middle


def estimate_sigma(y: torch.Tensor) -> float:
    """Gaussian noise level of an image on the [0, 1] scale: a wavelet median-absolute-deviation estimate.

    References:
        Donoho and Johnstone, "Ideal spatial adaptation by wavelet shrinkage", Biometrika 1994.

    """
    import warnings

    from skimage.restoration import estimate_sigma as _estimate

    arr = y.detach().float().cpu()[0].permute(1, 2, 0).numpy()
    with warnings.catch_warnings():  # a flat image has no non-zero detail coefficient: numpy warns, gives NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        value = float(_estimate(arr, channel_axis=-1, average_sigmas=True))
    return value if math.isfinite(value) else 0.0


def estimate_poisson_peak(y: torch.Tensor, block: int = 8) -> float:
    """Estimate the Poisson peak of a noisy image in [0, 1] from its noise-level function.

    For Poisson noise ``Var[y | x] = x / peak``. In every ``block x block`` block the variance of a
    high-pass residual (``y`` minus its 3x3 mean, scaled by 9/8) measures the local noise variance
    where the image is smooth; ``peak`` is the median of ``mean / variance`` over the flattest 70 % of
    the blocks (texture inflates the variance) whose mean lies in [0.05, 0.7] (clipping at white
    deflates it). On 256x256 crops of three scikit-image photographs it read 11.4-11.6 at peak 10,
    29.3-31.8 at 30 and 82-97 at 100.
    """
    mean, var = _blocks(y, block)
    keep = (mean > 0.05) & (mean < 0.7) & (var > 0)
    if int(keep.sum()) < 4:
        raise ConfigError("cannot estimate the Poisson peak: too few usable blocks; give --peak")
    ratio = (mean[keep] / var[keep]).sort(descending=True).values
    return float(ratio[: max(1, int(ratio.numel() * 0.7))].median())


def estimate_impulse_amount(y: torch.Tensor) -> float:
    """Fraction of pixels that are pure black or pure white in every channel: the salt-and-pepper amount
    (an over-estimate by the image's own saturated pixels).
    """
    x = y.detach().float()
    lo = (x <= 0.5 / 255).all(dim=-3)
    hi = (x >= 1 - 0.5 / 255).all(dim=-3)
    return float((lo | hi).float().mean())


def estimate_speckle_sigma(y: torch.Tensor) -> float:
    """Speckle level: ``log y = log x + log(1 + n) ~ log x + n`` for small ``n``, so a Gaussian noise
    estimate (wavelet MAD) of ``log y`` on the well-exposed pixels is the speckle's sigma.
    """
    return estimate_sigma(torch.log(y.detach().float().clamp(min=1 / 255)))


def _blocks(y: torch.Tensor, block: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per ``block x block`` block and channel: the local mean and the variance of a high-pass residual."""
    x = y.detach().double().cpu()
    if x.dim() == 3:
        x = x.unsqueeze(0)
    local = torch.nn.functional.avg_pool2d(torch.nn.functional.pad(x, (1, 1, 1, 1), mode="replicate"), 3, 1)
    resid = (x - local) * math.sqrt(9.0 / 8.0)
    h, w = (x.shape[-2] // block) * block, (x.shape[-1] // block) * block
    if h == 0 or w == 0:
        raise ConfigError(f"image too small to estimate its noise (under {block}x{block} pixels)")
    r = resid[..., :h, :w].unfold(-2, block, block).unfold(-2, block, block)
    m = local[..., :h, :w].unfold(-2, block, block).unfold(-2, block, block)
    return m.mean(dim=(-1, -2)).flatten(), (r**2).mean(dim=(-1, -2)).flatten()


def _detail_blocks(y: torch.Tensor, block: int) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Per ``block x block`` block and channel: the local mean, the mean square of the finest diagonal Haar
    wavelet coefficients (``HH = (a - b - c + d) / 2`` over each 2x2 cell, whose variance is the noise's
    for independent noise) and how many coefficients each block holds (the chi-square's degrees of freedom).

    The diagonal detail lets far less of the image's own edges and texture through than a residual from a
    local mean: on 256x256 crops of five of the paper's images with Gaussian sigma 25 the fitted curve read
    25.0-26.6 at mid-grey against 25.1-27.5 with a 3x3-mean residual (the wavelet MAD: 23.9-25.1).
    """
    x = y.detach().double().cpu()
    if x.dim() == 3:
        x = x.unsqueeze(0)
    h2, w2 = (x.shape[-2] // 2) * 2, (x.shape[-1] // 2) * 2
    x = x[..., :h2, :w2]
    a, b, c, d = x[..., 0::2, 0::2], x[..., 0::2, 1::2], x[..., 1::2, 0::2], x[..., 1::2, 1::2]
    detail, local = (a - b - c + d) / 2, (a + b + c + d) / 4
    k = max(1, block // 2)
    h, w = (detail.shape[-2] // k) * k, (detail.shape[-1] // k) * k
    if h == 0 or w == 0:
        raise ConfigError(f"image too small to estimate its noise (under {block}x{block} pixels)")
    r = detail[..., :h, :w].unfold(-2, k, k).unfold(-2, k, k)
    m = local[..., :h, :w].unfold(-2, k, k).unfold(-2, k, k)
    return m.mean(dim=(-1, -2)).flatten(), (r**2).mean(dim=(-1, -2)).flatten(), k * k


def estimate_level_function(y: torch.Tensor, block: int | None = None, bins: int = 8,
                            quantile: float = 0.3) -> tuple[float, float, float]:
    """Fit the noise-level function ``Var[y | x] = a + b x + c x^2`` (non-negative a, b, c) of an image.

    Blocks are binned by their mean intensity in [0.03, 0.7] (clipping at white bends the curve above);
    in each bin with enough blocks the ``quantile`` of the blocks' mean squares of the diagonal wavelet detail
    (:func:`_detail_blocks`) stands for the flat blocks (texture only adds), divided by that quantile of a
    chi-square with ``(block / 2)^2`` degrees of freedom over its mean (with 4x4 blocks, which hold too few
    coefficients, the variance of the residual from a 3x3 mean and ``block^2 - 1`` degrees of freedom): the
    bias of a low quantile of pure-noise blocks. A non-negative least-squares fit of the three coefficients
    follows. On 128x128 crops of five of the paper's images (the project's seeded
    Gaussian 25, Poisson 30 and speckle 0.2) the fitted curve read within 3.1 grey levels of the true standard
    deviation at intensities 0.2, 0.5 and 0.8 (within 2.6 on 256x256 crops, where the residual from a 3x3
    mean read up to 3.3 high for Gaussian noise).

    ``block`` defaults to 8 on images at least 64 pixels on their short side and 4 below: a 32x32 image
    has only 16 blocks of 8x8 per channel, too few to spread over the bins, and the curve came out flat
    (speckle 0.2 read 8-36 grey levels at every intensity instead of 10-41); with 4x4 blocks it reads
    within 2-6 grey levels on four of five of the paper's images (baboon's texture reads up to 9 high).
    """
    from scipy.optimize import nnls
    from scipy.stats import chi2

    if block is None:
        block = 8 if min(y.shape[-2:]) >= 64 else 4

    if block >= 8:
        mean, var, dof = _detail_blocks(y, block)
    else:  # 2x2 coefficients a block are too few: the 3x3-mean residual (read better at 32x32)
        (mean, var), dof = _blocks(y, block), block * block - 1
    top = 0.7
    keep = (mean > 0.03) & (mean < top)
    mean, var = mean[keep], var[keep]
    if mean.numel() < 16:
        raise ConfigError("cannot estimate the noise: too few well-exposed blocks; name the noise and its level")
    bias = float(chi2.ppf(quantile, dof) / dof)
    edges = torch.linspace(0.03, top, bins + 1, dtype=torch.float64)
    xs, vs, ws = [], [], []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        sel = (mean >= lo) & (mean < hi)
        n = int(sel.sum())
        if n >= 8:
            xs.append(float(mean[sel].median()))
            vs.append(float(torch.quantile(var[sel], quantile)) / bias)
            ws.append(math.sqrt(n))
    if not xs:
        raise ConfigError("cannot estimate the noise: too few well-exposed blocks; name the noise and its level")
    if len(xs) < 3:  # not enough spread in intensity for a curve: a constant level
        return (float(sum(v * w for v, w in zip(vs, ws, strict=True)) / sum(ws)), 0.0, 0.0)
    import numpy as np

    design = np.array([[1.0, x, x * x] for x in xs]) * np.array(ws)[:, None]
    coef, _ = nnls(design, np.array(vs) * np.array(ws))
    return float(coef[0]), float(coef[1]), float(coef[2])


def impulse_mask(y: torch.Tensor, jump: float = 0.25) -> torch.Tensor:
    """Pixels that look like salt-and-pepper impulses, shape ``(..., 1, H, W)``: pure black or white in
    every channel *and* far (by more than ``jump``) from the median of their 3x3 neighbourhood. Saturated
    regions of a natural image are not isolated, so they do not count.
    """
    x = y.detach().float()
    if x.dim() == 3:
        x = x.unsqueeze(0)
    grey = x.mean(dim=-3, keepdim=True)
    padded = torch.nn.functional.pad(grey, (1, 1, 1, 1), mode="replicate")
    med = padded.unfold(-2, 3, 1).unfold(-2, 3, 1).reshape(*grey.shape, 9).median(dim=-1).values
    mask = extreme_mask(x) & ((grey - med).abs() > jump)
    return mask if y.dim() == 4 else mask.squeeze(0)


def extreme_mask(y: torch.Tensor) -> torch.Tensor:
    """Pixels pure black or pure white in every channel (within half a level of 8 bits), shape
    ``(..., 1, H, W)``: every salt-and-pepper impulse, and the saturated pixels of the image itself.
    """
    x = y.detach()
    return (x <= 0.5 / 255).all(dim=-3, keepdim=True) | (x >= 1 - 0.5 / 255).all(dim=-3, keepdim=True)


def detect_impulses(y: torch.Tensor, jump: float = 0.25) -> float:
    """Fraction of pixels that look like salt-and-pepper impulses (see :func:`impulse_mask`)."""
    return float(impulse_mask(y, jump).float().mean())
