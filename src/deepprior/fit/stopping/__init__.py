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

#: What ``auto`` means per task, from the measurements in docs/benchmarks.md ("Automatic stopping"): on
#: the 128x128 crops of the paper's 9 sigma-25 images, method-noise stopping (checks every 10 iterations,
#: 25 hits; replayed on the runs' histories) lands 0.16 dB (mean) below the best PSNR of a fixed
#: 1500-iteration run, after 63 % of its iterations, where the fixed count ends 1.27 dB below.
#: Tasks without a measured rule run to ``--iters``. Inpainting with a scattered mask (pixel restoration)
#: uses ``holdout`` with the projected-gain stop instead (chosen in ``api.inpaint``); salt-and-pepper
#: denoising with the impulse-skipping data term uses ``holdout`` (``losses``).
AUTO: dict[str, str] = {"denoise": "mns-adaptive", "inpaint": "none", "super-resolve": "none", "jpeg": "none",
                        "flash-no-flash": "none"}


def stop_names() -> list[str]:
    """Every name :func:`make_stop_rule` accepts: ``auto`` (resolved per task by :data:`AUTO`), then the rules.

    Example:
        >>> stop_names()
        ['auto', 'none', 'wmv', 'mns-static', 'mns-adaptive', 'min-loss', 'holdout']

    """
    return ["auto", *STOP_RULES]


def make_stop_rule(
    name: str, *, sigma: float | None = None, num_iter: int | None = None, task: str | None = None
) -> StopRule:
    """A fresh rule by name (see :data:`STOP_RULES`), fitted to the noise level and the iteration budget.

    ``auto`` picks the rule :data:`AUTO` names for the task. ``wmv``'s window and patience scale with the
    budget: W = 100 and P = 1000 at 3000 iterations (the paper's), proportionally smaller for shorter
    budgets (at least 20 and 100: :meth:`WMVConfig.for_budget`). ``holdout``'s patience and window are a
    fifth and a tenth of the budget, with the projected-gain stop on (:meth:`HoldOutConfig.for_budget`).
    """
    if name != "auto" and name not in STOP_RULES:
        raise ConfigError(f"unknown stopping rule {name!r}; expected one of {', '.join(stop_names())}")
    if name == "auto":
        name = AUTO.get(task or "", "none")
    return STOP_RULES[name](sigma=sigma, num_iter=num_iter)


__all__ = [
    "AUTO",
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
    "clipped_gaussian_mse",
    "estimate_sigma",
    "make_stop_rule",
    "stop_names",
]
