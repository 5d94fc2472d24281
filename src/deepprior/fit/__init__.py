"""The fitting loop, its settings, inputs and stopping rules."""

from __future__ import annotations

from .config import FitConfig
from .inputs import make_input
from .loop import Callback, FitResult, Fitter, StepState, psnr_from_mse
from .stopping import STOP_RULES, NoStop, StopRule, make_stop_rule, stop_names

__all__ = [
    "STOP_RULES",
    "Callback",
    "FitConfig",
    "FitResult",
    "Fitter",
    "NoStop",
    "StepState",
    "StopRule",
    "make_input",
    "make_stop_rule",
    "psnr_from_mse",
    "stop_names",
]
