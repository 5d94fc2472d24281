"""Image quality metrics on ``H x W x C`` arrays in [0, 1]: PSNR, SSIM, and the Y-channel PSNR of SR papers."""

from __future__ import annotations

import math

import numpy as np

from .errors import InputError

#: The smallest side SSIM is defined on: the Gaussian window (sigma 1.5, truncated at 3.5 sigma) is 11 pixels.
SSIM_MIN_SIDE = 11


def _check(x: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if x.ndim == 2:
        x = x[:, :, None]
    if ref.ndim == 2:
        ref = ref[:, :, None]
    if x.shape[:2] != ref.shape[:2]:
        raise InputError(
            f"reference is {ref.shape[1]}x{ref.shape[0]} but the image is {x.shape[1]}x{x.shape[0]}"
        )
    if x.shape[2] != ref.shape[2]:
        # A grey reference for an RGB result (or the reverse): compare in grey.
        x, ref = x.mean(axis=2, keepdims=True), ref.mean(axis=2, keepdims=True)
    return x, ref


def psnr(x: np.ndarray, ref: np.ndarray, *, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB over all pixels and channels.

    Example:
        >>> a = np.zeros((4, 4, 3)); b = np.full((4, 4, 3), 0.1)
        >>> round(psnr(a, b), 6)
        20.0

    """
    x, ref = _check(x, ref)
    mse = float(np.mean((x - ref) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(data_range**2 / mse)


def ssim(x: np.ndarray, ref: np.ndarray, *, data_range: float = 1.0) -> float:
    """Structural similarity (Wang et al. 2004; scikit-image's Gaussian-weighted variant), mean over channels."""
    from skimage.metrics import structural_similarity

    x, ref = _check(x, ref)
    if min(x.shape[:2]) < SSIM_MIN_SIDE:
        raise InputError(f"SSIM needs an image of at least {SSIM_MIN_SIDE}x{SSIM_MIN_SIDE} pixels, "
                         f"not {x.shape[1]}x{x.shape[0]}")
    return float(
        structural_similarity(
            x, ref, data_range=data_range, channel_axis=2, gaussian_weights=True, sigma=1.5,
            use_sample_covariance=False,
        )
    )


def rgb_to_y(x: np.ndarray) -> np.ndarray:
    """Luma of ITU-R BT.601 on the studio range: Y in [16, 235] / 255 for RGB in [0, 1].

    Example:
        >>> float(rgb_to_y(np.ones((1, 1, 3)))[0, 0]) * 255
        235.0

    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 3 and x.shape[2] == 1:  # grey: as if replicated into R = G = B
        return (16.0 + 219.0 * x[:, :, 0]) / 255.0
    return (16.0 + 65.481 * x[..., 0] + 128.553 * x[..., 1] + 24.966 * x[..., 2]) / 255.0


def psnr_y(x: np.ndarray, ref: np.ndarray, *, border: int = 0) -> float:
    """PSNR on the Y channel with ``border`` pixels cropped on every side (the SR papers' protocol)."""
    x, ref = _check(x, ref)
    yx, yr = rgb_to_y(x), rgb_to_y(ref)
    if border:
        yx, yr = yx[border:-border, border:-border], yr[border:-border, border:-border]
    return psnr(yx, yr)
