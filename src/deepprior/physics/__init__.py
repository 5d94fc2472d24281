"""Forward operators (one module per family), noise models, and noise statistics of an image (:mod:`.stats`)."""

from __future__ import annotations

from .base import Operator
from .blur import (
    BLURS,
    Blur,
    BlurSpec,
    blur,
    blur_adjoint,
    box_blur_kernel,
    file_kernel,
    gaussian_kernel,
    motion_kernel,
    parse_blur,
)
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
    "BLURS",
    "KERNELS",
    "NOISES",
    "Blur",
    "BlurSpec",
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
    "blur",
    "blur_adjoint",
    "box_blur_kernel",
    "box_kernel",
    "downsample",
    "file_kernel",
    "gaussian_kernel",
    "lanczos_kernel",
    "make_noise",
    "motion_kernel",
    "parse_blur",
    "random_mask",
]
