"""The restoration layer: one problem type and one :func:`restore` for every task.

A task (:mod:`deepprior.tasks`) turns images and options into a :class:`Problem`; :func:`restore` resolves
the shared :class:`Settings`, pads, fits (in tiles when asked or when the image would not fit the memory
budget), crops, scores and reports. Nothing here imports a task, the API or the command line.
"""

from __future__ import annotations

from .problem import DEFAULTS, Problem, Settings
from .report import Restoration
from .run import restore

__all__ = ["DEFAULTS", "Problem", "Restoration", "Settings", "restore"]
