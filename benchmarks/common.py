"""Helpers shared by the benchmark scripts (run as ``python benchmarks/NAME.py``, so importable as ``common``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: ``../shared/data`` beside the repository.
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def centre_crop(a: np.ndarray, size: int) -> np.ndarray:
    """The ``size x size`` centre of an image."""
    h, w = a.shape[:2]
    top, left = (h - size) // 2, (w - size) // 2
    return a[top : top + size, left : left + size]
