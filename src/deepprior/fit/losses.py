"""Data terms: how the fit compares ``A(x)`` with the measurement ``y``, chosen by the noise.

Each term is the negative log-likelihood (up to constants and scale) of one noise model, or a robust
stand-in when the noise is unknown, and knows the residual it expects once the fit is right: per entry,
``E[(y - x)^2 | x]``. The method-noise stopping rule compares the actual residual with that expectation,
so every noise model gets a stopping rule of its own (METHODS.md: "other noise models give their own
expected residual").

| noise        | data term                                   | expected residual ``E[(y - x)^2]``      |
|--------------|---------------------------------------------|-----------------------------------------|
| gaussian     | mean squared error                          | ``sigma^2``, less near 0 and 1 (clipped) |
| poisson      | Poisson negative log-likelihood             | ``x / peak`` (clipped to [0, 1])        |
| salt-pepper  | mean absolute error (L1, the median fit)    | ``amount (x^2 + (1 - x)^2) / 2``        |
| speckle      | MSE weighted by ``1 / x^2`` (reweighted)    | ``sigma^2 x^2`` (clipped to [0, 1])     |
| unknown      | L1 if impulses are found, else MSE          | the fitted level function / impulses    |
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ..errors import ConfigError


def _mean(values: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    if weights is None:
        return values.mean()
    return (values * weights).sum() / weights.sum().clamp(min=1)


class DataTerm:
    """Interface: ``term(pred, y, weights)`` is the loss; ``expected_residual(x)`` the noise's own size.

    Attributes:
        name: the term's name in reports and on the command line.
        is_mse: True when the loss *is* the mean squared error (the loop then reuses it for the
            divergence guard instead of computing the MSE again).

    """

    name = "data"
    is_mse = False
    #: the stopping rule that ``--stop auto`` picks for this term, when it needs its own
    auto_stop: str | None = None

    def __call__(self, pred: torch.Tensor, y: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError

    def expected_residual(self, x: torch.Tensor) -> torch.Tensor | None:
        """Per-entry ``E[(y - x)^2]`` under the noise model for a clean image ``x``; None if unknown."""
        return None

    def exact(self, y: torch.Tensor) -> torch.Tensor | None:
        """Weights 1 at the entries of ``y`` this noise model leaves untouched (the fit may return them as
        measured, the Fitter's ``keep_known``), 0 elsewhere; None when no entry is known to be exact.
        """
        return None

    def describe(self) -> dict[str, object]:
        return {"name": self.name}


class MSE(DataTerm):
    """Mean squared error: the Gaussian negative log-likelihood (the DIP paper's loss).

    Args:
        sigma: the noise's standard deviation on the [0, 1] scale, when known (for the stopping rule).

    """

    name = "mse"
    is_mse = True

    def __init__(self, sigma: float | None = None) -> None:
        self.sigma = sigma

    def __call__(self, pred: torch.Tensor, y: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        return _mean((pred - y) ** 2, weights)

    def expected_residual(self, x: torch.Tensor) -> torch.Tensor | None:
        if self.sigma is None:
            return None
        from .stopping import clipped_gaussian_mse

        return clipped_gaussian_mse(x, self.sigma)

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "sigma": self.sigma}


class L1(DataTerm):
    """Mean absolute error: the Laplace negative log-likelihood; its minimiser is the median, so isolated
    impulses pull the fit far less than under MSE.

    With ``skip_impulses`` the pixels that :func:`impulse_mask` flags in the measurement (pure black or
    white, far from their 3x3 median) are left out of the fit, as in switching median filters (detect,
    then restore only the detected pixels): the network then never sees most impulses, and denoising
    becomes pixel restoration of the flagged pixels, which does not overfit the way fitting the impulses
    does. The impulses the test misses are the ones close to their neighbours, so fitting them costs little.
    Salt-and-pepper noise leaves the other pixels as they were: every pixel that is not pure black or white
    is exact (:meth:`exact`), so the fit can return those as measured and its own image only at the pure
    ones, as a switching median filter does.

    Args:
        amount: fraction of pixels hit by salt-and-pepper impulses, when known (for the stopping rule).
        skip_impulses: leave the detected impulses out of the fit.

    """

    name = "l1"

    def __init__(self, amount: float | None = None, skip_impulses: bool = False) -> None:
        self.amount = amount
        self.skip_impulses = skip_impulses
        # Without the impulses the residual has no expected size to stop on: hold pixels out instead.
        self.auto_stop = "holdout" if skip_impulses else None
        self._mask: tuple[torch.Tensor, torch.Tensor] | None = None

    def keep(self, y: torch.Tensor) -> torch.Tensor:
        """Weights 1 where a pixel of ``y`` counts, 0 at detected impulses (cached for the fit's ``y``)."""
        if self._mask is None or self._mask[0] is not y:
            self._mask = (y, (~impulse_mask(y)).to(y.dtype).expand_as(y))
        return self._mask[1]

    def __call__(self, pred: torch.Tensor, y: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        if self.skip_impulses:
            keep = self.keep(y)
            weights = keep if weights is None else weights * keep
        return _mean((pred - y).abs(), weights)

    def exact(self, y: torch.Tensor) -> torch.Tensor | None:
        # Not the complement of the fit's mask: an impulse close to its neighbours' level escapes the jump
        # test (3 % of F16's pixels at amount 0.1, errors up to 0.25), cheap to fit under L1 but costly to
        # return as measured. Every pure black/white pixel is a candidate, so only the others are exact.
        if not self.skip_impulses:
            return None
        return (~extreme_mask(y)).to(y.dtype).expand_as(y)

    def expected_residual(self, x: torch.Tensor) -> torch.Tensor | None:
        if self.amount is None or self.skip_impulses:
            return None
        x = x.double().clamp(0, 1)
        return self.amount * (x * x + (1 - x) ** 2) / 2

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "amount": self.amount, "skip_impulses": self.skip_impulses}


class PoissonNLL(DataTerm):
    """Poisson negative log-likelihood ``x - y log x`` (per photon count, scaled by ``1 / peak``).

    The minimiser does not depend on the peak; the peak sets the expected residual ``x / peak``, less
    where clipping to [0, 1] cuts the noise (in the Gaussian approximation ``N(x, x / peak)``).

    Args:
        peak: photons at intensity 1, when known (for the stopping rule).
        eps: floor on ``x`` inside the logarithm.

    """

    name = "poisson"

    def __init__(self, peak: float | None = None, eps: float = 1e-3) -> None:
        self.peak = peak
        self.eps = eps

    def __call__(self, pred: torch.Tensor, y: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        x = pred.clamp(min=self.eps)
        return _mean(x - y.clamp(min=0) * torch.log(x), weights)

    def expected_residual(self, x: torch.Tensor) -> torch.Tensor | None:
        if self.peak is None:
            return None
        from .stopping import clipped_gaussian_mse

        x = x.double().clamp(0, 1)
        return clipped_gaussian_mse(x, (x / self.peak).sqrt())

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "peak": self.peak}


class SpeckleNLL(DataTerm):
    """Multiplicative Gaussian noise ``y = x (1 + n)``: squared error weighted by ``1 / x^2``.

    The weights come from the current output without a gradient through them (iteratively reweighted
    least squares) and are floored at ``floor`` so that black pixels do not dominate.

    Args:
        sigma: the standard deviation of ``n``, when known (for the stopping rule).
        floor: lower bound on ``x`` in the weights.

    """

    name = "speckle"

    def __init__(self, sigma: float | None = None, floor: float = 0.1) -> None:
        self.sigma = sigma
        self.floor = floor

    def __call__(self, pred: torch.Tensor, y: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        scale = pred.detach().clamp(min=self.floor) ** -2
        return _mean((pred - y) ** 2 * scale, weights) * self.floor**2

    def expected_residual(self, x: torch.Tensor) -> torch.Tensor | None:
        if self.sigma is None:
            return None
        from .stopping import clipped_gaussian_mse

        x = x.double().clamp(0, 1)
        return clipped_gaussian_mse(x, self.sigma * x)

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "sigma": self.sigma}


LOSSES: dict[str, Callable[..., DataTerm]] = {
    "mse": MSE,
    "l1": L1,
    "poisson": PoissonNLL,
    "speckle": SpeckleNLL,
}

#: The noise models ``denoise --noise`` accepts, and the data term each one maps to.
NOISE_LOSS: dict[str, str] = {
    "gaussian": "mse",
    "poisson": "poisson",
    "salt-pepper": "l1",
    "speckle": "speckle",
    "unknown": "mse",  # with a fitted noise-level function, or L1 when impulses are found (api._blind_term)
}

#: Above this fraction of isolated black/white pixels, the blind setting treats the noise as impulses
#: (clean photographs measured 0.0 %, salt-and-pepper at 0.1 measured 7.6-9.5 %: see detect_impulses).
IMPULSE_FRACTION = 0.005


def make_loss(name: str, *, skip_impulses: bool = False, **level: float | None) -> DataTerm:
    """A data term by name (see :data:`LOSSES`); ``level`` passes the noise level it understands and
    ``skip_impulses`` leaves detected impulses out of an ``l1`` fit (:class:`L1`).
    """
    if name not in LOSSES:
        raise ConfigError(f"unknown loss {name!r}; expected one of {', '.join(LOSSES)}")
    if name == "mse":
        return MSE(sigma=level.get("sigma"))
    if name == "l1":
        return L1(amount=level.get("amount"), skip_impulses=skip_impulses)
    if name == "poisson":
        return PoissonNLL(peak=level.get("peak"))
    return SpeckleNLL(sigma=level.get("speckle"))


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
    from .stopping import estimate_sigma

    return estimate_sigma(torch.log(y.detach().float().clamp(min=1 / 255)))


class LevelFunction(MSE):
    """Squared error for noise whose variance depends on the intensity: ``Var[y | x] = a + b x + c x^2``.

    One model covers Gaussian (``a``), Poisson (``b = 1 / peak``), Poisson-Gaussian (``a``, ``b``) and
    speckle (``c = sigma^2``) noise; the coefficients come from :func:`estimate_level_function` when the
    noise is unknown. With ``weighted`` (the default) each squared error is divided by the variance at the
    current output, the heteroscedastic Gaussian likelihood, reweighted every iteration without a gradient
    through the weights, as :class:`SpeckleNLL` does (``x`` floored at ``floor`` in the weights, scaled by
    the variance at mid-grey so the loss reads like an MSE); it reduces to MSE for a flat curve.
    Without it, plain MSE; either way the curve is the stopping rule's expected residual.

    References:
        Foi, Trimeche, Katkovnik and Egiazarian, "Practical Poissonian-Gaussian noise modeling and fitting
        for single-image raw-data", IEEE TIP 2008 (the noise-level function, fitted on flat blocks).

    """

    name = "mse"

    def __init__(self, coefficients: tuple[float, float, float], weighted: bool = True, floor: float = 0.1) -> None:
        super().__init__(sigma=None)
        self.coefficients = tuple(float(c) for c in coefficients)
        a, b, c = self.coefficients
        # a flat curve is plain MSE; otherwise the weights need a positive variance everywhere
        self.weighted = weighted and (b > 0 or c > 0) and a + b * floor + c * floor * floor > 0
        self.floor = floor
        self._mid = a + 0.5 * b + 0.25 * c  # the variance at mid-grey: scales the weighted loss
        if self.weighted:
            self.name, self.is_mse = "nlf-weighted", False

    def _variance(self, x: torch.Tensor) -> torch.Tensor:
        a, b, c = self.coefficients
        return a + b * x + c * x * x

    def __call__(self, pred: torch.Tensor, y: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        if not self.weighted:
            return super().__call__(pred, y, weights)
        scale = self._mid / self._variance(pred.detach().clamp(self.floor, 1.0))
        return _mean((pred - y) ** 2 * scale, weights)

    def expected_residual(self, x: torch.Tensor) -> torch.Tensor | None:
        from .stopping import clipped_gaussian_mse

        x = x.double().clamp(0, 1)
        return clipped_gaussian_mse(x, self._variance(x).clamp(min=0).sqrt())

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "noise_level_function": [round(v, 8) for v in self.coefficients]}


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


