"""Sample data for the plugin's menu (*File > Open Sample > deepprior*): made here from scikit-image's bundled
astronaut photo, with a fixed seed, so nothing is downloaded.
"""

from __future__ import annotations

from typing import Any

import numpy as np

LayerData = list[tuple[Any, dict[str, Any], str]]


def _astronaut(size: int = 128) -> np.ndarray:
    from skimage import data

    photo = data.astronaut()
    return photo[:size * 2:2, 100:100 + size * 2:2]  # the face, a quarter of the size: a fit of a minute or two


def noisy_photo() -> LayerData:
    """A 128x128 colour photo with Gaussian noise of sigma 25 (seed 0): restore it with *denoise*, sigma 25."""
    clean = _astronaut().astype(np.float64)
    noisy = np.clip(clean + np.random.default_rng(0).normal(0.0, 25.0, clean.shape), 0, 255).round()
    return [(noisy.astype(np.uint8), {"name": "noisy photo (sigma 25)", "rgb": True}, "image")]


def masked_photo() -> LayerData:
    """A 128x128 photo with two holes and scribbles painted out, and the Labels layer that marks them
    (painted = missing): restore it with *inpaint*, the Labels layer as the mask.
    """
    clean = _astronaut()
    missing = np.zeros(clean.shape[:2], np.uint8)
    missing[30:44, 20:60] = 1
    missing[80:92, 70:110] = 1
    for row in (60, 61, 100, 101):
        missing[row, 5:123] = 1
    damaged = clean.copy()
    damaged[missing > 0] = 0
    return [(damaged, {"name": "photo with holes", "rgb": True}, "image"),
            (missing, {"name": "holes (painted = missing)", "opacity": 0.5}, "labels")]


__all__ = ["masked_photo", "noisy_photo"]
