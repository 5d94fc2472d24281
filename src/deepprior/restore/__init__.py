"""The restoration layer: one problem type and one :func:`restore` for every task.

A task (:mod:`deepprior.tasks`) turns images and options into a :class:`Problem`; :func:`restore` resolves
the shared settings (parsed once into a typed :class:`RunSettings`), pads, fits (in tiles when asked, by the
task's rule, or when the image would not fit the memory budget), crops, scores and reports. Nothing here
imports a task, the API or the command line.
"""

from __future__ import annotations

from .checks import parse_settings
from .problem import Problem, Settings
from .report import Restoration
from .run import restore
from .settings import DEFAULTS, RunSettings

__all__ = ["DEFAULTS", "Problem", "Restoration", "RunSettings", "Settings", "parse_settings", "restore"]
