"""``mns-static`` and ``mns-adaptive``: stop once the residual has shrunk to the noise's own size.

Cost: one reduction over the image at each check.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

from ...errors import ConfigError
from ...physics.stats import clipped_gaussian_mse, estimate_sigma
from ..protocols import FitView, StepView
from .base import StopRule, with_overrides

MODES = ("static", "adaptive")


@dataclass(frozen=True)
class MethodNoiseConfig:
    """Settings of :class:`MethodNoise`.

    Attributes:
        threshold: the static threshold on the 0-255 scale; None: ``static_ratio`` times the noise's RMS.
        static_ratio: the static threshold over the noise level, the PG-DIP thesis' ratio (it used 24.45
            at sigma 25).
        hits: how many checks below the threshold stop the fit (the thesis: 25).
        check_every: iterations between checks. 10 (with 25 hits: about 250 iterations past the first
            crossing) landed closer to the best PSNR than checking every iteration (docs/benchmarks.md).
        pace_side: the image side (geometric mean of height and width) at which the checks after the first
            hit come every ``check_every`` iterations: 128, where the 25 hits' 250 iterations were measured
            first. Below it the pace scales with ``sqrt(side / pace_side)`` (125 iterations at 32x32, where
            250 overshot the peak; a wait proportional to the side, 50 iterations, stopped the blind runs
            at 32x32 0.4 dB lower on average, before their peak: docs/benchmarks.md, "Noise models").
        pace_growth: above ``pace_side`` the pace grows this many times for each doubling of the side:
            720 iterations of wait at 256x256. On 256x256 crops the peak came 420-1090 iterations after the
            first hit (sigma 25 and 50, 48 and 64 channels; the textured baboon: 420), and replaying these
            fits, a wait of 250 stopped 0.39 / 0.87 dB below the peak (sigma 25 / 50, 64 channels), 480
            0.11 / 0.24 dB, 720 0.03 / 0.02 dB (48 channels, sigma 25, three images: 480 0.23 dB, 720
            0.08 dB) (docs/benchmarks.md, "Stopping on 256x256 crops"). A replay underrates the online
            rule's haste: its threshold comes from the ground truth, the online one from the averaged
            output, which crossed 80-240 iterations sooner.
        pace_max: the pace grows at most this many times (reached from about 400x400 on: 1440 iterations of
            wait).

    """

    threshold: float | None = None
    static_ratio: float = 0.978
    hits: int = 25
    check_every: int = 10
    pace_side: int = 128
    pace_growth: float = 3.0
    pace_max: float = 6.0

    def __post_init__(self) -> None:
        if self.hits < 1 or self.check_every < 1 or self.pace_side <= 0:
            raise ConfigError(f"method-noise needs hits >= 1, check_every >= 1 and pace_side > 0; got {self.hits}, "
                              f"{self.check_every}, {self.pace_side}")

    def pace(self, side: float) -> int:
        """Iterations between checks after the first hit for an image of ``side`` (the geometric mean of
        height and width): ``check_every`` times ``sqrt(side / pace_side)`` up to ``pace_side``; above,
        ``pace_growth`` times more for each doubling of the side, at most ``pace_max`` times.

        Example:
            >>> [MethodNoiseConfig().pace(side) for side in (32, 128, 256, 1024)]
            [5, 10, 30, 60]

        """
        ratio = side / self.pace_side
        scale = math.sqrt(ratio) if side <= self.pace_side else min(self.pace_max, ratio ** math.log2(self.pace_growth))
        return max(1, round(self.check_every * scale))


class MethodNoise(StopRule):
    """Method-noise stopping: stop once the residual ``y - x_avg`` has shrunk to the noise's own size.

    Statistic: ``m_t`` = RMS over the measured pixels and channels of ``y - x_avg`` on the 0-255 scale,
    checked every ``check_every`` iterations. A check *hits* when ``m_t`` is below the threshold; hits
    need not be consecutive. The fit stops at the ``hits``-th hit and returns the averaged image then.

    The wait after the first hit scales with the image: small images are fitted in fewer iterations, and
    their peak comes sooner after the first hit; large ones later (:meth:`pace`, and the measurements
    behind it in :class:`MethodNoiseConfig`). Up to 128x128 the checks after the first hit come every
    ``round(check_every * sqrt(side / 128))`` iterations, so the 25 hits take 250 iterations at 128x128 and
    125 at 32x32. Above 128 the pace triples with each doubling of the side, up to 6 times: 720 iterations
    of wait at 256x256, 1440 from about 400x400 on.

    ``static``: the threshold is fixed (``threshold``, on the 0-255 scale; the PG-DIP thesis used 24.45
    at sigma 25). ``adaptive``: the threshold is the expected RMS of the noise after clipping to [0, 1],
    computed per pixel at each check from the current averaged image and the noise level, which comes
    from ``sigma`` (0-255 scale); when None, from the fit's data term if it knows its noise model and
    level (Poisson ``x / peak``, salt-and-pepper, speckle: :mod:`deepprior.fit.losses`), else from a
    wavelet estimate of a Gaussian sigma on the input (blind).

    Args:
        mode: ``static`` or ``adaptive``.
        sigma: Gaussian noise level on the 0-255 scale, if known.
        threshold: overrides ``config.threshold``: the static threshold on the 0-255 scale (default
            ``0.978 sigma``, the thesis' ratio).
        hits: overrides ``config.hits``: how many checks below the threshold stop the fit (the thesis: 25).
        check_every: overrides ``config.check_every``: iterations between checks.
        config: the rule's settings (default: :class:`MethodNoiseConfig`). An argument left at None keeps
            the config's value.

    """

    def __init__(
        self, mode: str = "adaptive", *, sigma: float | None = None, threshold: float | None = None,
        hits: int | None = None, check_every: int | None = None, config: MethodNoiseConfig | None = None,
    ) -> None:
        if mode not in MODES:
            raise ConfigError(f"method-noise mode {mode!r} is unknown; expected static or adaptive")
        self.config = with_overrides(config if config is not None else MethodNoiseConfig(), threshold=threshold,
                                     hits=hits, check_every=check_every)
        self.mode = mode
        self.name = f"mns-{mode}"
        self.sigma = sigma
        self.threshold = self.config.threshold
        self.hits = self.config.hits
        self.check_every = self.config.check_every

    @classmethod
    def for_fit(cls, mode: str = "adaptive", *, sigma: float | None = None,
                num_iter: int | None = None) -> MethodNoise:
        """The rule for the fit's noise level ``sigma`` (0-255 scale; None: from the data term or estimated)."""
        return cls(mode, sigma=sigma)

    def reset(self, fitter: FitView) -> None:
        self._fitter = fitter
        self.count = 0
        self._every = self.check_every
        self._phase = 0
        side = math.sqrt(fitter.y.shape[-2] * fitter.y.shape[-1])
        self._pace = self.config.pace(side)
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
            ratio = self.config.static_ratio
            if self.threshold is not None:
                self._static = self.threshold
            elif self._model is not None:
                self._static = ratio * self._rms(self._expected(fitter.y.clamp(0, 1)), fitter.weights)
            else:
                self._static = ratio * sigma * 255.0

    @staticmethod
    def pace(side: float, check_every: int | None = None, *, config: MethodNoiseConfig | None = None) -> int:
        """Iterations between checks after the first hit for an image of ``side`` (the geometric mean of
        height and width): ``check_every`` times ``sqrt(side / 128)`` up to 128 pixels; above, 3 times more
        for each doubling of the side (``(side / 128) ** log2(3)``), at most 6 times (from about 400 pixels).
        The numbers are ``config``'s (default :class:`MethodNoiseConfig`); ``check_every`` overrides its own.
        """
        c = config if config is not None else MethodNoiseConfig()
        return c.pace(side) if check_every is None else replace(c, check_every=check_every).pace(side)

    def _expected(self, x: torch.Tensor) -> torch.Tensor:
        e2 = self._model(x) if self._model is not None else None
        return e2 if e2 is not None else clipped_gaussian_mse(x, self.sigma01)

    @staticmethod
    def _rms(e2: torch.Tensor, w: torch.Tensor | None) -> float:
        n = float(w.sum()) if w is not None else float(e2.numel())
        return math.sqrt(float((e2 * w).sum() if w is not None else e2.sum()) / max(n, 1.0)) * 255.0

    def update(self, state: StepView) -> bool:
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
