"""``wmv``: stop when the windowed moving variance of the outputs stops falling (ES-WMV).

Cost per iteration: one subtraction and two reductions over the image, plus a ring buffer of W images.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

from ...errors import ConfigError
from ..protocols import FitView, StepView
from .base import StopRule, with_overrides


@dataclass(frozen=True)
class WMVConfig:
    """Settings of :class:`WindowedVariance`.

    Attributes:
        window: W, the number of outputs in the window (the paper: 100).
        patience: P, iterations without a new minimum before stopping (the paper: 1000).
        reference_budget: the iteration budget ``window`` and ``patience`` are meant for (the paper's 3000);
            :meth:`for_budget` scales both down in proportion for a shorter one.
        budget_min_window: the smallest window :meth:`for_budget` scales to.
        budget_min_patience: the smallest patience :meth:`for_budget` scales to.

    """

    window: int = 100
    patience: int = 1000
    reference_budget: int = 3000
    budget_min_window: int = 20
    budget_min_patience: int = 100

    def __post_init__(self) -> None:
        if self.window < 2 or self.patience < 1:
            raise ConfigError(f"wmv needs window >= 2 and patience >= 1, got {self.window} and {self.patience}")
        if self.reference_budget < 1:
            raise ConfigError(f"wmv needs reference_budget >= 1, got {self.reference_budget}")

    def for_budget(self, num_iter: int) -> WMVConfig:
        """These settings for a fit of ``num_iter`` iterations: window and patience in proportion to the
        budget when it is shorter than :attr:`reference_budget` (W = 100 and P = 1000 at 3000 iterations,
        W = 50 and P = 500 at 1500), at least :attr:`budget_min_window` and :attr:`budget_min_patience`.
        """
        ratio = min(1.0, num_iter / self.reference_budget)
        return replace(
            self,
            window=max(self.budget_min_window, round(self.window * ratio)),
            patience=max(self.budget_min_patience, round(self.patience * ratio)),
        )


class WindowedVariance(StopRule):
    """``wmv``: windowed moving variance of the outputs (ES-WMV).

    Statistic: at iteration t, the mean squared deviation of the last ``window`` network outputs from
    their mean, ``VAR_t = 1/W sum_i ||x_i - mean||^2 / N`` (N: entries of an image), computed with
    running sums in float64 over a ring buffer. The rule tracks the minimum of ``VAR_t``; it stops when
    the minimum has not improved for ``patience`` iterations, and returns the *averaged* image saved at
    the iteration of minimum variance.

    Args:
        window: W, overrides ``config.window`` (None: the config's).
        patience: P, overrides ``config.patience`` (None: the config's).
        config: the rule's settings (default: :class:`WMVConfig`, the paper's).

    References:
        Wang, Li, Zhuang, Chen, Liang and Sun, "Early Stopping for Deep Image Prior", arXiv:2112.06074.

    Example:
        >>> rule = WindowedVariance(config=WMVConfig().for_budget(1500))
        >>> rule.window, rule.patience
        (50, 500)

    """

    name = "wmv"

    def __init__(self, window: int | None = None, patience: int | None = None, *,
                 config: WMVConfig | None = None) -> None:
        self.config = with_overrides(config if config is not None else WMVConfig(), window=window, patience=patience)
        self.window = self.config.window
        self.patience = self.config.patience

    @classmethod
    def for_fit(cls, *, sigma: float | None = None, num_iter: int | None = None) -> WindowedVariance:
        """The paper's settings, scaled to the budget when it is known (:meth:`WMVConfig.for_budget`)."""
        return cls(config=WMVConfig().for_budget(num_iter)) if num_iter else cls()

    def reset(self, fitter: FitView) -> None:
        self._buffer: torch.Tensor | None = None
        self._sum: torch.Tensor | None = None
        self._sq = 0.0
        self._count = 0
        self.best_var = math.inf
        self.best_iteration = 0
        self._best_image: torch.Tensor | None = None

    def update(self, state: StepView) -> bool:
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
