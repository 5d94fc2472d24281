"""Forward operators (one module per family), noise models, and noise statistics of an image (:mod:`.stats`)."""

from __future__ import annotations

from .base import Operator
from .downsample import KERNELS, Downsample, bicubic_kernel, box_kernel, downsample, lanczos_kernel
from .identity import Identity
from .mask import Mask, random_mask
from .noise import (
    NOISES,
    GaussianNoise,
    NoiseModel,
    PoissonNoise,
    SaltPepperNoise,
    SpeckleNoise,
    make_noise,
)

__all__ = [
    "KERNELS",
    "NOISES",
    "Downsample",
    "GaussianNoise",
    "Identity",
    "Mask",
    "NoiseModel",
    "Operator",
    "PoissonNoise",
    "SaltPepperNoise",
    "SpeckleNoise",
    "bicubic_kernel",
    "box_kernel",
    "downsample",
    "lanczos_kernel",
    "make_noise",
    "random_mask",
]
