"""``holdout``: cross-validation on pixels the fit never sees.

Cost: one forward of the operator and a reduction at each check, plus one stored image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

from ...errors import ConfigError
from ..protocols import FitView, StepView
from ..seeding import generator_seed
from .base import StopRule, with_overrides


@dataclass(frozen=True)
class HoldOutConfig:
    """Settings of :class:`HoldOut`.

    The first six fields are the rule's own; the ``budget_*`` fields and ``default_budget`` say how
    :meth:`for_budget` (what :func:`~deepprior.fit.stopping.make_stop_rule` builds) sets patience, window
    and the projected-gain stop from the fit's iteration budget.

    Attributes:
        fraction: share of the measured pixels held out (at 5 % the change to the fit is small).
        patience: iterations without a new minimum before stopping.
        check_every: iterations between checks.
        seed: seeds the choice of pixels.
        projected: stop when the projected remaining gain of the whole-image error estimate is under this
            many dB (None: off).
        window: iterations over which the gain is measured for ``projected`` (rounded by the rule to a
            whole number of checks).
        stream: offsets the seed of the pixels' choice from the seeds the data and the fit use: seeded
            like the data's own corruption (``deepprior.degrade`` with the same seed draws its dropped
            pixels from ``torch.rand`` on a generator seeded alike), the held-out pixels would be exactly
            the missing ones.
        default_budget: the iteration budget :meth:`for_budget` assumes when the fit's is not known.
        budget_patience_divisor: :meth:`for_budget`'s patience is the budget over this (a fifth).
        budget_min_patience: the smallest patience :meth:`for_budget` sets.
        budget_window_divisor: :meth:`for_budget`'s window is the budget over this (a tenth).
        budget_min_window: the smallest window :meth:`for_budget` sets.
        budget_projected: the projected-gain stop (dB) :meth:`for_budget` switches on (``PROJECTED_DB``):
            noise-free data (pixel restoration; salt-and-pepper with its impulses left out of the fit)
            keeps improving, ever more slowly, and never passes its minimum. Chosen on the 11
            pixel-restoration crops (128x128, 50 % missing, fixed 3000-iteration runs): a replay of the rule
            on the ground-truth PSNR curve (a stand-in for the held-out curve; oracle, not a result) stopped
            at 66 % of the count, 0.43 dB under the run's peak (0.7 dB: 69 %, 0.36 dB; 1.0 dB: 63 %,
            0.50 dB). The online figures are in docs/benchmarks.md ("Automatic stopping").

    """

    fraction: float = 0.05
    patience: int = 300
    check_every: int = 10
    seed: int = 0
    projected: float | None = None
    window: int = 300
    stream: int = 0x5DEECE66D
    default_budget: int = 3000
    budget_patience_divisor: int = 5
    budget_min_patience: int = 100
    budget_window_divisor: int = 10
    budget_min_window: int = 20
    budget_projected: float = 0.8

    def __post_init__(self) -> None:
        fraction, patience, check_every, window = self.fraction, self.patience, self.check_every, self.window
        if not 0.0 < fraction < 0.5 or patience < 1 or check_every < 1 or window < check_every:
            raise ConfigError(f"holdout needs 0 < fraction < 0.5, patience >= 1, check_every >= 1 and window >= "
                              f"check_every; got {fraction}, {patience}, {check_every}, {window}")
        if self.projected is not None and not self.projected > 0:
            raise ConfigError(f"holdout: projected must be a positive number of dB; got {self.projected}")

    def for_budget(self, num_iter: int | None) -> HoldOutConfig:
        """These settings for a fit of ``num_iter`` iterations (None: :attr:`default_budget`): the minimum
        with a patience of a fifth of the budget, or diminishing returns over a tenth of it
        (:attr:`budget_projected` dB projected to the cap).
        """
        budget = num_iter or self.default_budget
        return replace(
            self,
            patience=max(self.budget_min_patience, round(budget / self.budget_patience_divisor)),
            projected=self.budget_projected,
            window=max(self.budget_min_window, round(budget / self.budget_window_divisor)),
        )


class HoldOut(StopRule):
    """``holdout``: cross-validation on pixels the fit never sees.

    At the start a seeded random ``fraction`` of the measured pixels (all channels of a pixel together)
    is removed from the fit's data term. Every ``check_every`` iterations the data term of the averaged
    output is computed on those held-out pixels: with noise independent from pixel to pixel its
    expectation is the noise's own part plus the error of the estimate there, so its minimum tracks the
    best iteration whatever the noise (Gaussian, Poisson, impulses with an L1 term) and with no noise at
    all (inpainting). The rule stops when the minimum has not improved for ``patience`` iterations and
    returns the averaged image at the minimum.

    Without noise (pixel restoration) the error keeps falling slowly to the end of the run, so the minimum
    alone never stops it. With ``projected`` set the rule also stops on diminishing returns, judged on an
    estimate of the whole image's squared error made without the ground truth: the error on the fitted
    pixels (the data term there) for the pixels the fit sees, the held-out error for all the others
    (missing and held out alike: the held-out pixels are a random sample of them, as far as the fit can
    tell). It stops when the gain of that estimate over the last ``window`` iterations, in dB (10 log10 of
    the ratio of its best value then and now; 20 log10 for the absolute-error data term, L1), extrapolated
    linearly to the fit's iteration cap, is under ``projected`` dB. On a concave curve the straight line
    over-estimates what is left, so the image returned is within about that much of the run's end. (The
    held-out error alone levels off well before the whole image does: the fitted pixels keep improving for
    the rest of the run, unless the fit returns them as measured, ``keep_known``, when the estimate is the
    held-out error alone, scored on the held-out pixels it returns as measured: with salt-and-pepper noise
    those that are not pure black or white, so that impulses no test can tell from the image do not weigh
    on it.)

    Unlike the other rules it changes the fit (the held-out pixels are not fitted); at 5 % that is small.

    Args:
        fraction: overrides ``config.fraction``: share of the measured pixels held out.
        patience: overrides ``config.patience``: iterations without a new minimum before stopping.
        check_every: overrides ``config.check_every``: iterations between checks.
        seed: overrides ``config.seed``: seeds the choice of pixels.
        projected: overrides ``config.projected``: stop when the projected remaining gain is under this many dB.
        window: overrides ``config.window``: iterations over which the gain is measured for ``projected``.
        config: the rule's settings (default: :class:`HoldOutConfig`). An argument left at None keeps the
            config's value.

    """

    name = "holdout"
    choose_at_end = True

    def __init__(
        self, fraction: float | None = None, patience: int | None = None, check_every: int | None = None,
        seed: int | None = None, projected: float | None = None, window: int | None = None, *,
        config: HoldOutConfig | None = None,
    ) -> None:
        self.config = c = with_overrides(
            config if config is not None else HoldOutConfig(), fraction=fraction, patience=patience,
            check_every=check_every, seed=seed, projected=projected, window=window,
        )
        self.fraction, self.patience, self.check_every, self.seed = c.fraction, c.patience, c.check_every, c.seed
        self.projected = c.projected
        self.window = c.check_every * max(1, round(c.window / c.check_every))  # a whole number of checks

    @classmethod
    def for_fit(cls, *, sigma: float | None = None, num_iter: int | None = None) -> HoldOut:
        """Patience, window and the projected-gain stop set from the budget (:meth:`HoldOutConfig.for_budget`)."""
        return cls(config=HoldOutConfig().for_budget(num_iter))

    def reset(self, fitter: FitView) -> None:
        self._fitter = fitter
        y = fitter.y
        base = fitter.weights if fitter.weights is not None else torch.ones_like(y)
        base = base.expand_as(y)
        # Held-out pixels are drawn among the measured ones, from a stream of their own (HoldOutConfig.stream).
        g = torch.Generator().manual_seed((self.config.stream + generator_seed(self.seed)) % 2**64)
        measured = (base.amax(dim=1)[0] > 0).flatten().nonzero().flatten().cpu()
        count = round(self.fraction * len(measured))
        chosen = measured[torch.randperm(len(measured), generator=g)[:count]]
        pick = torch.zeros(y.shape[-2] * y.shape[-1])
        pick[chosen] = 1.0
        pick = pick.view(1, 1, *y.shape[-2:]).to(y.device)
        self.held = base * pick
        fitter.weights = base * (1 - pick)
        keep = getattr(fitter, "keep", None)
        if keep is not None:  # scored only where the returned image is the measurement (see the docstring)
            self.held = self.held * keep
        if float(self.held.sum()) < 1:
            raise ConfigError("holdout: no measured pixel was held out (image too small)")
        region = getattr(fitter, "region", None)
        h, w = (region[2], region[3]) if region is not None else y.shape[-2:]
        total = float(y.shape[1] * h * w)
        # the share of the image's entries whose error the fitted-pixel data term gives: none when the fit
        # returns the measured entries as measured (keep_known: their error is the measurement's, nil)
        kept = keep is not None
        self._share_fitted = 0.0 if kept else min(1.0, float(fitter.weights.sum()) / total)
        self.best = math.inf
        self.best_iteration = 0
        self._best: torch.Tensor | None = None
        self.last = math.nan
        self.cap = fitter.config.num_iter
        self._bests: dict[int, float] = {}  # iteration -> best whole-image estimate so far, at each check
        self._best_estimate = math.inf
        self.projected_gain = math.nan

    def update(self, state: StepView) -> bool:
        if state.iteration % self.check_every:
            return False
        f = self._fitter
        with torch.no_grad():
            value = float(f.loss(f.operator(state.average), f.y, self.held))
        self.last = value
        if value < self.best:
            self.best, self.best_iteration = value, state.iteration
            self._best = state.average.detach().clone()
        if state.iteration - self.best_iteration >= self.patience:
            return True
        if self.projected is None:
            return False
        estimate = value  # whole-image error: the held-out error, plus the fitted pixels' where they count
        if self._share_fitted > 0:
            with torch.no_grad():
                fitted = float(f.loss(f.operator(state.average), f.y, f.weights))
            estimate = self._share_fitted * fitted + (1 - self._share_fitted) * value
        it = state.iteration
        self._best_estimate = min(self._best_estimate, estimate)
        self._bests[it] = self._best_estimate
        then = self._bests.pop(it - self.window, None)
        if then is None or not (self._best_estimate > 0 and math.isfinite(then)):
            return False
        # in dB of PSNR: 10 log10 of a ratio of squared errors, 20 log10 of one of absolute errors (L1)
        gain = (20 if f.loss.name == "l1" else 10) * math.log10(then / self._best_estimate)
        self.projected_gain = gain * max(0, self.cap - it) / self.window
        return self.projected_gain < self.projected

    def chosen(self) -> tuple[int, torch.Tensor] | None:
        return None if self._best is None else (self.best_iteration, self._best)

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "fraction": self.fraction, "patience": self.patience,
                "check_every": self.check_every, "best_iteration": self.best_iteration,
                "best_heldout_loss": self.best, "projected": self.projected, "window": self.window,
                "projected_gain": None if math.isnan(self.projected_gain) else round(self.projected_gain, 4)}
