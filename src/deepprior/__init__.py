"""deepprior: restore images with untrained neural networks (the Deep Image Prior family).

The heavy parts (PyTorch, scikit-image) load on first use, so ``import deepprior`` stays light.

Example:
    >>> import deepprior
    >>> deepprior.__version__ != ""
    True

"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import ConfigError, DeepPriorError, InputError

if TYPE_CHECKING:  # pragma: no cover
    from .api import deblur, degrade, denoise, denoise_many, flash_no_flash, inpaint, jpeg, restore_with, super_resolve
    from .fit.loop import FitResult, Fitter
    from .restore import Problem, Restoration, Settings, restore
    from .tasks import TASKS

_LAZY = {
    "denoise": "deepprior.api",
    "denoise_many": "deepprior.api",
    "inpaint": "deepprior.api",
    "super_resolve": "deepprior.api",
    "jpeg": "deepprior.api",
    "flash_no_flash": "deepprior.api",
    "deblur": "deepprior.api",
    "degrade": "deepprior.api",
    "restore_with": "deepprior.api",
    "Restoration": "deepprior.restore",
    "Settings": "deepprior.restore",
    "Problem": "deepprior.restore",
    "restore": "deepprior.restore",
    "TASKS": "deepprior.tasks",
    "Fitter": "deepprior.fit.loop",
    "FitResult": "deepprior.fit.loop",
    "FitConfig": "deepprior.fit.config",
    "build_net": "deepprior.nets",
    "NETWORKS": "deepprior.nets",
}

__all__ = [
    "NETWORKS",
    "ConfigError",
    "DeepPriorError",
    "FitConfig",
    "FitResult",
    "Fitter",
    "InputError",
    "Problem",
    "Restoration",
    "Settings",
    "TASKS",
    "__version__",
    "build_net",
    "deblur",
    "degrade",
    "denoise",
    "denoise_many",
    "flash_no_flash",
    "inpaint",
    "jpeg",
    "restore",
    "restore_with",
    "super_resolve",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        # A task registered without a function of its own (registering it imported the registry already).
        registry = getattr(sys.modules.get("deepprior.tasks"), "TASKS", {})
        if any(task.api_name == name for task in registry.values()):
            return getattr(importlib.import_module("deepprior.api"), name)
        raise AttributeError(f"module 'deepprior' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
