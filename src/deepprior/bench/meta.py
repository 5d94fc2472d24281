"""What every benchmark result carries: the code, the libraries and the machine it ran on, and its settings."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

from .._version import __version__


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def run_metadata(config: dict[str, Any]) -> dict[str, Any]:
    """Commit (and whether the tree was dirty), versions, machine, threads, the run's ``config`` and the date."""
    import torch

    return {
        "deepprior": __version__,
        "commit": _git("rev-parse", "--short", "HEAD"),
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in config.items()},
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
