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


def paper_s_per_iter(noisy: np.ndarray, threads: int | None) -> float:
    """Seconds per iteration of the paper's denoising configuration in float32 on this image: 10 iterations
    timed after 3 of warm-up (the reference time of issue #6's ratios)."""
    from deepprior import api

    common = {"sigma": 25, "preset": "paper", "precision": "fp32", "stop": "none", "threads": threads}
    short = api.denoise(noisy, num_iter=3, **common).fit.seconds
    long = api.denoise(noisy, num_iter=13, **common).fit.seconds
    return (long - short) / 10
