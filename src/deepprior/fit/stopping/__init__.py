"""Stopping rules: one class per criterion behind one interface, one module per rule.

A rule sees every iteration's state (:class:`~deepprior.fit.protocols.StepView`, which the loop's
:class:`~deepprior.fit.loop.StepState` offers) and answers whether to stop; it may also name the iteration
whose image the fit returns (for example the minimum of a statistic). ``--iters`` is always a cap: the loop
ends there whatever the rule says. No rule sees the ground truth. Each rule keeps its numbers in a frozen
config dataclass (:class:`WMVConfig`, :class:`MinLossConfig`, :class:`HoldOutConfig`,
:class:`MethodNoiseConfig`) passed as ``config=``.

Costs per iteration, against a training step of the paper network (about 1 s at 256x256 here):
``wmv`` one subtraction and two reductions over the image plus a ring buffer of W images;
``mns-*`` one reduction over the image at each check.
"""

from __future__ import annotations

from functools import partial

from ...errors import ConfigError

# The noise statistics the rules use live in deepprior.physics.stats; these names stay importable from here.
from ...physics.stats import _normal_cdf as _normal_cdf
from ...physics.stats import _normal_pdf as _normal_pdf
from ...physics.stats import clipped_gaussian_mse as clipped_gaussian_mse
from ...physics.stats import estimate_sigma as estimate_sigma
from .base import NoStop, StopBuilder, StopRule
from .holdout import HoldOut, HoldOutConfig
from .method_noise import MethodNoise, MethodNoiseConfig
from .min_loss import MinLoss, MinLossConfig
from .wmv import WindowedVariance, WMVConfig

#: The rules by name: each builds a fresh rule for a fit from the noise level (``sigma``, 0-255 scale) and
#: the iteration budget (``num_iter``), both keyword-only and optional (:meth:`StopRule.for_fit`).
STOP_RULES: dict[str, StopBuilder] = {
    "none": NoStop.for_fit,
    "wmv": WindowedVariance.for_fit,
    "mns-static": partial(MethodNoise.for_fit, "static"),
    "mns-adaptive": partial(MethodNoise.for_fit, "adaptive"),
    "min-loss": MinLoss.for_fit,
    "holdout": HoldOut.for_fit,
}

#: ``holdout`` (as ``make_stop_rule`` builds it) also stops when the gain projected to the cap is under this
#: (dB); the measurements behind it are in :attr:`HoldOutConfig.budget_projected`.
PROJECTED_DB = HoldOutConfig().budget_projected

def stop_names() -> list[str]:
    """Every name ``--stop`` accepts: ``auto`` (resolved by the task: ``Problem.auto_stop``), then the rules.

    Example:
        >>> stop_names()
        ['auto', 'none', 'wmv', 'mns-static', 'mns-adaptive', 'min-loss', 'holdout']

    """
    return ["auto", *STOP_RULES]


def check_stop_name(name: str) -> str:
    """``name`` if ``--stop`` accepts it, else a :class:`ConfigError` naming it and the choices."""
    if name not in stop_names():
        raise ConfigError(f"unknown stopping rule {name!r}; expected one of {', '.join(stop_names())}")
    return name


def make_stop_rule(name: str, *, sigma: float | None = None, num_iter: int | None = None) -> StopRule:
    """A fresh rule by name (see :data:`STOP_RULES`), fitted to the noise level and the iteration budget.

    ``auto`` is not a rule: each task decides what it means (``Problem.auto_stop``, chosen from the
    measurements in docs/benchmarks.md), before a rule is built. ``wmv``'s window and patience scale with the
    budget: W = 100 and P = 1000 at 3000 iterations (the paper's), proportionally smaller for shorter
    budgets (at least 20 and 100: :meth:`WMVConfig.for_budget`). ``holdout``'s patience and window are a
    fifth and a tenth of the budget, with the projected-gain stop on (:meth:`HoldOutConfig.for_budget`).
    """
    check_stop_name(name)
    if name == "auto":
        raise ConfigError("stopping rule 'auto' is resolved by the task; name a rule: "
                          f"{', '.join(STOP_RULES)}")
    return STOP_RULES[name](sigma=sigma, num_iter=num_iter)


__all__ = [
    "PROJECTED_DB",
    "STOP_RULES",
    "HoldOut",
    "HoldOutConfig",
    "MethodNoise",
    "MethodNoiseConfig",
    "MinLoss",
    "MinLossConfig",
    "NoStop",
    "StopBuilder",
    "StopRule",
    "WMVConfig",
    "WindowedVariance",
    "check_stop_name",
    "clipped_gaussian_mse",
    "estimate_sigma",
    "make_stop_rule",
    "stop_names",
]
