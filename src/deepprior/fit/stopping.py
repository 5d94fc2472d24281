"""Stopping rules: one class per criterion behind one interface.

A rule sees every iteration's :class:`~deepprior.fit.loop.StepState` and answers whether to stop; it may
also name the iteration whose image the fit returns (for example the minimum of a statistic). ``--iters``
is always a cap: the loop ends there whatever the rule says. No rule sees the ground truth.

Costs per iteration, against a training step of the paper network (about 1 s at 256x256 here):
``wmv`` one subtraction and two reductions over the image plus a ring buffer of W images;
``mns-*`` one reduction over the image at each check.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import torch

from ..errors import ConfigError
from ..physics.stats import _normal_cdf as _normal_cdf
from ..physics.stats import _normal_pdf as _normal_pdf
from ..physics.stats import clipped_gaussian_mse as clipped_gaussian_mse
from ..physics.stats import estimate_sigma as estimate_sigma

if TYPE_CHECKING:  # pragma: no cover
    from .loop import Fitter, StepState


class StopRule:
    """Interface of a stopping rule.

    ``reset`` is called once before the first iteration, ``update`` after every iteration (returning True
    stops the fit), and ``chosen`` at the end: None means "return the current averaged image", otherwise
    an ``(iteration, image)`` pair chosen by the rule.
    """

    name: str = "none"
    #: whether ``chosen`` applies however the fit ended (cap, time limit), not only when the rule fired
    choose_at_end: bool = False

    def reset(self, fitter: Fitter) -> None:
        """Forget any state from an earlier fit."""

    def update(self, state: StepState) -> bool:
        return False

    def chosen(self) -> tuple[int, torch.Tensor] | None:
        return None

    def describe(self) -> dict[str, object]:
        """The rule's settings (and what it saw), for the report."""
        return {"name": self.name}


class NoStop(StopRule):
    """``none``: run exactly to the iteration cap and return the averaged image of the last iteration."""

    name = "none"


class WindowedVariance(StopRule):
    """``wmv``: windowed moving variance of the outputs (ES-WMV).

    Statistic: at iteration t, the mean squared deviation of the last ``window`` network outputs from
    their mean, ``VAR_t = 1/W sum_i ||x_i - mean||^2 / N`` (N: entries of an image), computed with
    running sums in float64 over a ring buffer. The rule tracks the minimum of ``VAR_t``; it stops when
    the minimum has not improved for ``patience`` iterations, and returns the *averaged* image saved at
    the iteration of minimum variance.

    Args:
        window: W, the number of outputs in the window (the paper: 100).
        patience: P, iterations without a new minimum before stopping (the paper: 1000).

    References:
        Wang, Li, Zhuang, Chen, Liang and Sun, "Early Stopping for Deep Image Prior", arXiv:2112.06074.

    """

    name = "wmv"

    def __init__(self, window: int = 100, patience: int = 1000) -> None:
        if window < 2 or patience < 1:
            raise ConfigError(f"wmv needs window >= 2 and patience >= 1, got {window} and {patience}")
        self.window = window
        self.patience = patience

    def reset(self, fitter: Fitter) -> None:
        self._buffer: torch.Tensor | None = None
        self._sum: torch.Tensor | None = None
        self._sq = 0.0
        self._count = 0
        self.best_var = math.inf
        self.best_iteration = 0
        self._best_image: torch.Tensor | None = None

    def update(self, state: StepState) -> bool:
        x = state.output.detach()
        if self._buffer is None or self._sum is None:
            self._buffer = torch.zeros((self.window, *x.shape[1:]), dtype=x.dtype, device=x.device)
            self._sum = torch.zeros(x.shape[1:], dtype=torch.float64, device=x.device)
        slot = self._count % self.window
        if self._count >= self.window:
            old = self._buffer[slot]
            self._sum -= old.double()
            self._sq -= float((old.double() ** 2).sum())
        self._buffer[slot] = x[0]
        self._sum += x[0].double()
        self._sq += float((x[0].double() ** 2).sum())
        self._count += 1
        if self._count < self.window:
            return False
        n = self._sum.numel()
        var = (self._sq - float((self._sum**2).sum()) / self.window) / (self.window * n)
        if var < self.best_var:
            self.best_var = var
            self.best_iteration = state.iteration
            self._best_image = state.average.detach().clone()
        return state.iteration - self.best_iteration >= self.patience

    def chosen(self) -> tuple[int, torch.Tensor] | None:
        if self._best_image is None:
            return None
        return self.best_iteration, self._best_image

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "window": self.window, "patience": self.patience,
                "best_iteration": self.best_iteration, "best_variance": self.best_var}


class MinLoss(StopRule):
    """``min-loss``: run to the cap and return the output of the iteration with the lowest data loss.

    The Deep Decoder's reference keeps the network of lowest training loss (its under-parameterisation,
    not early stopping, is what keeps the noise out). The loss is checked every iteration; the output
    kept is the averaged one (the plain output when averaging is off, as in the Deep Decoder preset).

    References:
        Heckel and Hand, "Deep Decoder: Concise Image Representations from Untrained Non-convolutional
        Networks", ICLR 2019.

    """

    name = "min-loss"
    choose_at_end = True

    def reset(self, fitter: Fitter) -> None:
        self.best_loss = math.inf
        self.best_iteration = 0
        self._best: torch.Tensor | None = None

    def update(self, state: StepState) -> bool:
        if math.isfinite(state.loss) and state.loss < self.best_loss and not state.restored:
            self.best_loss = state.loss
            self.best_iteration = state.iteration
            self._best = state.average.detach().clone()
        return False

    def chosen(self) -> tuple[int, torch.Tensor] | None:
        return None if self._best is None else (self.best_iteration, self._best)

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "best_iteration": self.best_iteration, "best_loss": self.best_loss}


_HOLDOUT_STREAM = 0x5DEECE66D  # offsets holdout's seed from the seeds the data and the fit use


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
    Cost: one forward of the operator and a reduction at each check, plus one stored image.

    Args:
        fraction: share of the measured pixels held out.
        patience: iterations without a new minimum before stopping.
        check_every: iterations between checks.
        seed: seeds the choice of pixels.
        projected: stop when the projected remaining held-out gain is under this many dB (None: off).
        window: iterations over which the gain is measured for ``projected``.

    """

    name = "holdout"
    choose_at_end = True

    def __init__(
        self, fraction: float = 0.05, patience: int = 300, check_every: int = 10, seed: int = 0,
        projected: float | None = None, window: int = 300,
    ) -> None:
        if not 0.0 < fraction < 0.5 or patience < 1 or check_every < 1 or window < check_every:
            raise ConfigError(f"holdout needs 0 < fraction < 0.5, patience >= 1, check_every >= 1 and window >= "
                              f"check_every; got {fraction}, {patience}, {check_every}, {window}")
        if projected is not None and not projected > 0:
            raise ConfigError(f"holdout: projected must be a positive number of dB; got {projected}")
        self.fraction, self.patience, self.check_every, self.seed = fraction, patience, check_every, seed
        self.projected = projected
        self.window = check_every * max(1, round(window / check_every))  # a whole number of checks

    def reset(self, fitter: Fitter) -> None:
        self._fitter = fitter
        y = fitter.y
        base = fitter.weights if fitter.weights is not None else torch.ones_like(y)
        base = base.expand_as(y)
        # Held-out pixels are drawn among the measured ones, from a stream of their own: seeded like the
        # data's own corruption (deepprior.degrade with the same seed draws its dropped pixels from
        # torch.rand on a generator seeded alike), they would be exactly the missing pixels.
        g = torch.Generator().manual_seed(_HOLDOUT_STREAM + self.seed)
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
        region = getattr(fitter, "_region", None)
        h, w = (region[2], region[3]) if region is not None else y.shape[-2:]
        total = float(y.shape[1] * h * w)
        # the share of the image's entries whose error the fitted-pixel data term gives: none when the fit
        # returns the measured entries as measured (keep_known: their error is the measurement's, nil)
        kept = getattr(fitter, "keep", None) is not None
        self._share_fitted = 0.0 if kept else min(1.0, float(fitter.weights.sum()) / total)
        self.best = math.inf
        self.best_iteration = 0
        self._best: torch.Tensor | None = None
        self.last = math.nan
        self.cap = fitter.config.num_iter
        self._bests: dict[int, float] = {}  # iteration -> best whole-image estimate so far, at each check
        self._best_estimate = math.inf
        self.projected_gain = math.nan

    def update(self, state: StepState) -> bool:
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
        gain = (20 if getattr(f.loss, "name", "") == "l1" else 10) * math.log10(then / self._best_estimate)
        self.projected_gain = gain * max(0, self.cap - it) / self.window
        return self.projected_gain < self.projected

    def chosen(self) -> tuple[int, torch.Tensor] | None:
        return None if self._best is None else (self.best_iteration, self._best)

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "fraction": self.fraction, "patience": self.patience,
                "check_every": self.check_every, "best_iteration": self.best_iteration,
                "best_heldout_loss": self.best, "projected": self.projected, "window": self.window,
                "projected_gain": None if math.isnan(self.projected_gain) else round(self.projected_gain, 4)}


class MethodNoise(StopRule):
    """Method-noise stopping: stop once the residual ``y - x_avg`` has shrunk to the noise's own size.

    Statistic: ``m_t`` = RMS over the measured pixels and channels of ``y - x_avg`` on the 0-255 scale,
    checked every ``check_every`` iterations. A check *hits* when ``m_t`` is below the threshold; hits
    need not be consecutive. The fit stops at the ``hits``-th hit and returns the averaged image then.

    The wait after the first hit scales with the image: small images are fitted in fewer iterations, and
    their peak comes sooner after the first hit; large ones later (:meth:`pace`). Up to 128x128 the checks
    after the first hit come every ``round(check_every * sqrt(side / 128))`` iterations, so the 25 hits take
    250 iterations at 128x128 (where it was measured first) and 125 at 32x32, where 250 overshot the peak
    (docs/benchmarks.md, "Noise models"; a wait proportional to the side, 50 iterations, stopped the blind
    runs at 32x32 0.4 dB lower on average, before their peak). Above 128 the pace triples with each doubling
    of the side, up to 6 times: 720 iterations of wait at 256x256, 1440 from about 400x400 on. On 256x256
    crops the peak came 420-1090 iterations after the first hit (sigma 25 and 50, 48 and 64 channels; the
    textured baboon: 420), and replaying these fits, a wait of 250 stopped 0.39 / 0.87 dB below the peak
    (sigma 25 / 50, 64 channels), 480 0.11 / 0.24 dB, 720 0.03 / 0.02 dB (48 channels, sigma 25, three
    images: 480 0.23 dB, 720 0.08 dB) (docs/benchmarks.md, "Stopping on 256x256 crops"). A replay underrates
    the online rule's haste: its threshold comes from the ground truth, the online one from the averaged
    output, which crossed 80-240 iterations sooner.

    ``static``: the threshold is fixed (``threshold``, on the 0-255 scale; the PG-DIP thesis used 24.45
    at sigma 25). ``adaptive``: the threshold is the expected RMS of the noise after clipping to [0, 1],
    computed per pixel at each check from the current averaged image and the noise level, which comes
    from ``sigma`` (0-255 scale); when None, from the fit's data term if it knows its noise model and
    level (Poisson ``x / peak``, salt-and-pepper, speckle: :mod:`deepprior.fit.losses`), else from a
    wavelet estimate of a Gaussian sigma on the input (blind).

    Args:
        mode: ``static`` or ``adaptive``.
        sigma: Gaussian noise level on the 0-255 scale, if known.
        threshold: the static threshold on the 0-255 scale (default ``0.978 sigma``, the thesis' ratio).
        hits: how many checks below the threshold stop the fit (the thesis: 25).
        check_every: iterations between checks. 10 (with 25 hits: about 250 iterations past the first
            crossing) landed closer to the best PSNR than checking every iteration (docs/benchmarks.md).

    """

    def __init__(
        self, mode: str = "adaptive", *, sigma: float | None = None, threshold: float | None = None,
        hits: int = 25, check_every: int = 10,
    ) -> None:
        if mode not in ("static", "adaptive"):
            raise ConfigError(f"method-noise mode {mode!r} is unknown; expected static or adaptive")
        self.mode = mode
        self.name = f"mns-{mode}"
        self.sigma = sigma
        self.threshold = threshold
        self.hits = hits
        self.check_every = check_every

    def reset(self, fitter: Fitter) -> None:
        self._fitter = fitter
        self.count = 0
        self._every = self.check_every
        self._phase = 0
        side = math.sqrt(fitter.y.shape[-2] * fitter.y.shape[-1])
        self._pace = self.pace(side, self.check_every)
        self.last_stat = math.nan
        self.last_threshold = math.nan
        # The expected residual: a given Gaussian sigma first, then the data term's own noise model
        # (Poisson, salt-and-pepper, speckle with their levels), else a Gaussian sigma estimated blind.
        self._model: Callable[[torch.Tensor], torch.Tensor | None] | None = None
        self.source = "sigma given"
        if self.sigma is None and fitter.loss.expected_residual(fitter.y[..., :1, :1]) is not None:
            self._model = fitter.loss.expected_residual
            self.source = f"{fitter.loss.name} noise model"
        elif self.sigma is None:
            self.source = "sigma estimated (wavelet MAD)"
        sigma = self.sigma / 255.0 if self.sigma is not None else (
            math.nan if self._model is not None else estimate_sigma(fitter.y))
        self.sigma01 = sigma
        if self.mode == "static":
            if self.threshold is not None:
                self._static = self.threshold
            elif self._model is not None:
                self._static = 0.978 * self._rms(self._expected(fitter.y.clamp(0, 1)), fitter.weights)
            else:
                self._static = 0.978 * sigma * 255.0

    @staticmethod
    def pace(side: float, check_every: int = 10) -> int:
        """Iterations between checks after the first hit for an image of ``side`` (the geometric mean of
        height and width): ``check_every`` times ``sqrt(side / 128)`` up to 128 pixels; above, 3 times more
        for each doubling of the side (``(side / 128) ** log2(3)``), at most 6 times (from about 400 pixels).
        """
        scale = math.sqrt(side / 128) if side <= 128 else min(6.0, (side / 128) ** math.log2(3))
        return max(1, round(check_every * scale))

    def _expected(self, x: torch.Tensor) -> torch.Tensor:
        e2 = self._model(x) if self._model is not None else None
        return e2 if e2 is not None else clipped_gaussian_mse(x, self.sigma01)

    @staticmethod
    def _rms(e2: torch.Tensor, w: torch.Tensor | None) -> float:
        n = float(w.sum()) if w is not None else float(e2.numel())
        return math.sqrt(float((e2 * w).sum() if w is not None else e2.sum()) / max(n, 1.0)) * 255.0

    def update(self, state: StepState) -> bool:
        if (state.iteration - self._phase) % self._every:
            return False
        f = self._fitter
        with torch.no_grad():
            est = f.operator(state.average)
            stat = self._rms((est - f.y) ** 2, f.weights)
            if self.mode == "static":
                thr = self._static
            else:
                thr = self._rms(self._expected(est), f.weights)
        self.last_stat, self.last_threshold = stat, thr
        if stat < thr:
            self.count += 1
            if self.count == 1:  # from the first hit on, checks come at the pace the image's size sets
                self._every, self._phase = self._pace, state.iteration
        return self.count >= self.hits

    def describe(self) -> dict[str, object]:
        sigma = None if math.isnan(self.sigma01) else round(self.sigma01 * 255.0, 3)
        return {"name": self.name, "sigma": sigma, "expected_residual": self.source, "hits": self.hits,
                "check_every": self.check_every, "checks_after_first_hit": getattr(self, "_every", None),
                "last_statistic": self.last_stat,
                "last_threshold": self.last_threshold}


STOP_RULES: dict[str, Callable[[], StopRule]] = {
    "auto": NoStop,  # resolved per task by make_stop_rule; see AUTO
    "none": NoStop,
    "wmv": WindowedVariance,
    "mns-static": lambda: MethodNoise("static"),
    "mns-adaptive": lambda: MethodNoise("adaptive"),
    "min-loss": MinLoss,
    "holdout": HoldOut,
}


#: ``holdout`` (as ``make_stop_rule`` builds it) also stops when the gain projected to the cap is under this
#: (dB): noise-free data (pixel restoration; salt-and-pepper with its impulses left out of the fit) keeps
#: improving, ever more slowly, and never passes its minimum. Chosen on the 11 pixel-restoration crops
#: (128x128, 50 % missing, fixed 3000-iteration runs): a replay of the rule on the ground-truth PSNR curve
#: (a stand-in for the held-out curve; oracle, not a result) stopped at 66 % of the count, 0.43 dB under
#: the run's peak (0.7 dB: 69 %, 0.36 dB; 1.0 dB: 63 %, 0.50 dB). The online figures are in
#: docs/benchmarks.md ("Automatic stopping").
PROJECTED_DB = 0.8

#: What ``auto`` means per task, from the measurements in docs/benchmarks.md ("Automatic stopping"): on
#: the 128x128 crops of the paper's 9 sigma-25 images, method-noise stopping (checks every 10 iterations,
#: 25 hits; replayed on the runs' histories) lands 0.16 dB (mean) below the best PSNR of a fixed
#: 1500-iteration run, after 63 % of its iterations, where the fixed count ends 1.27 dB below.
#: Tasks without a measured rule run to ``--iters``. Inpainting with a scattered mask (pixel restoration)
#: uses ``holdout`` with the projected-gain stop instead (chosen in ``api.inpaint``); salt-and-pepper
#: denoising with the impulse-skipping data term uses ``holdout`` (``losses``).
AUTO: dict[str, str] = {"denoise": "mns-adaptive", "inpaint": "none", "super-resolve": "none", "jpeg": "none",
                        "flash-no-flash": "none"}


def make_stop_rule(
    name: str, *, sigma: float | None = None, num_iter: int | None = None, task: str | None = None
) -> StopRule:
    """A fresh rule by name (see :data:`STOP_RULES`), fitted to the noise level and the iteration budget.

    ``auto`` picks the rule :data:`AUTO` names for the task. ``wmv``'s window and patience scale with the
    budget: W = 100 and P = 1000 at 3000 iterations (the paper's), proportionally smaller for shorter
    budgets (at least 20 and 100).
    """
    if name not in STOP_RULES:
        raise ConfigError(f"unknown stopping rule {name!r}; expected one of {', '.join(STOP_RULES)}")
    if name == "auto":
        name = AUTO.get(task or "", "none")
    if name == "wmv" and num_iter:
        ratio = min(1.0, num_iter / 3000)
        return WindowedVariance(window=max(20, round(100 * ratio)), patience=max(100, round(1000 * ratio)))
    if name.startswith("mns-"):
        return MethodNoise(name[4:], sigma=sigma)
    if name == "holdout":
        # the minimum with a patience of a fifth of the budget, or diminishing returns (see HoldOut)
        budget = num_iter or 3000
        return HoldOut(patience=max(100, round(budget / 5)), projected=PROJECTED_DB,
                       window=max(20, round(budget / 10)))
    return STOP_RULES[name]()
