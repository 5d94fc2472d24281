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

from collections.abc import Callable

import torch

from ..errors import ConfigError

# The noise statistics live in deepprior.physics.stats; these names stay importable from here.
from ..physics.stats import IMPULSE_FRACTION as IMPULSE_FRACTION
from ..physics.stats import _blocks as _blocks
from ..physics.stats import _detail_blocks as _detail_blocks
from ..physics.stats import clipped_gaussian_mse
from ..physics.stats import detect_impulses as detect_impulses
from ..physics.stats import estimate_impulse_amount as estimate_impulse_amount
from ..physics.stats import estimate_level_function as estimate_level_function
from ..physics.stats import estimate_poisson_peak as estimate_poisson_peak
from ..physics.stats import estimate_speckle_sigma as estimate_speckle_sigma
from ..physics.stats import extreme_mask as extreme_mask
from ..physics.stats import impulse_mask as impulse_mask


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
        x = x.double().clamp(0, 1)
        return clipped_gaussian_mse(x, self._variance(x).clamp(min=0).sqrt())

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "noise_level_function": [round(v, 8) for v in self.coefficients]}
