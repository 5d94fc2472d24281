"""Classical baselines, scored by the same code as the Deep Image Prior in the same run.

Each baseline maps the corrupted input (``H x W x C`` float in [0, 1]) and what it needs (the mask, the
scale) to an estimate of the clean image, with no access to the ground truth. Parameters follow each
library's own estimate of the noise (``skimage.restoration.estimate_sigma``) rather than the true level.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Baseline = Callable[..., np.ndarray]


def _sigma(y: np.ndarray) -> float:
    from skimage.restoration import estimate_sigma

    return float(np.mean(estimate_sigma(y, channel_axis=-1, average_sigmas=False)))


def tv_chambolle(y: np.ndarray) -> np.ndarray:
    """Total-variation denoising (Chambolle 2004), weight from the estimated noise level."""
    from skimage.restoration import denoise_tv_chambolle

    return np.asarray(denoise_tv_chambolle(y, weight=max(0.02, 1.0 * _sigma(y)), channel_axis=-1))


def nl_means(y: np.ndarray) -> np.ndarray:
    """Non-local means (Buades et al. 2005) with its own noise estimate (scikit-image's fast mode)."""
    from skimage.restoration import denoise_nl_means

    s = _sigma(y)
    return np.asarray(
        denoise_nl_means(y, h=0.8 * s, sigma=s, patch_size=5, patch_distance=6, fast_mode=True, channel_axis=-1)
    )


def wavelet(y: np.ndarray) -> np.ndarray:
    """BayesShrink wavelet denoising (Chang et al. 2000), in YCbCr for colour images."""
    from skimage.restoration import denoise_wavelet

    return np.asarray(
        denoise_wavelet(y, method="BayesShrink", mode="soft", rescale_sigma=True, channel_axis=-1,
                        convert2ycbcr=y.shape[2] == 3)
    )


def bm3d_baseline(y: np.ndarray) -> np.ndarray:
    """BM3D / CBM3D (Dabov et al. 2007) from the optional ``bm3d`` package, with the estimated sigma."""
    import bm3d  # type: ignore[import-not-found]

    s = _sigma(y)
    if y.shape[2] == 3:
        return np.asarray(bm3d.bm3d_rgb(y, s))
    return np.asarray(bm3d.bm3d(y[:, :, 0], s))[:, :, None]


def biharmonic(y: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Biharmonic inpainting (Damelin and Hoang 2018) of the unknown pixels."""
    from skimage.restoration import inpaint_biharmonic

    return np.asarray(inpaint_biharmonic(y, ~known, channel_axis=-1))


def bicubic(lr: np.ndarray, scale: int) -> np.ndarray:
    """Bicubic upscaling (Pillow), the SR papers' baseline."""
    from PIL import Image

    h, w = lr.shape[:2]
    planes = []
    for c in range(lr.shape[2]):
        pil = Image.fromarray(lr[:, :, c].astype(np.float32), mode="F")
        planes.append(np.asarray(pil.resize((w * scale, h * scale), Image.Resampling.BICUBIC)))
    return np.stack(planes, axis=2)


def bm3d_available() -> bool:
    try:
        import bm3d  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return False
    return True


def denoising_baselines() -> dict[str, Baseline]:
    """The denoisers to run beside the DIP (BM3D only when the optional package is installed)."""
    out: dict[str, Baseline] = {"tv": tv_chambolle, "nlm": nl_means, "wavelet": wavelet}
    if bm3d_available():
        out["bm3d"] = bm3d_baseline
    return out


def _per_channel(y: np.ndarray, fn: Callable[[np.ndarray], np.ndarray], pad: int = 0) -> np.ndarray:
    """``fn`` on each channel of ``y``, which is first mirrored by ``pad`` pixels on every side (so that a
    deconvolution does not see the image's border as an edge), then cropped back and clipped to [0, 1].
    """
    out = []
    for c in range(y.shape[2]):
        plane = np.pad(y[:, :, c], pad, mode="symmetric") if pad else y[:, :, c]
        est = fn(plane)
        out.append(est[pad : pad + y.shape[0], pad : pad + y.shape[1]] if pad else est)
    return np.clip(np.stack(out, axis=2), 0, 1).astype(np.float32)


#: The Wiener balances searched by :func:`wiener_oracle` (a log grid).
WIENER_BALANCES = tuple(float(b) for b in np.logspace(-4, 0, 17))


def wiener_oracle(y: np.ndarray, psf: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """scikit-image's Wiener deconvolution (``skimage.restoration.wiener``, per channel) with its balance
    chosen on the ground truth among :data:`WIENER_BALANCES`: an **oracle** baseline (the best a user could
    get with perfect tuning), labelled so in every table. The image is mirrored by the kernel's side first
    (the FFT would otherwise wrap the opposite border in).
    """
    from skimage.restoration import wiener

    from .metrics import psnr

    best, best_psnr = y, -np.inf
    for balance in WIENER_BALANCES:

        def restore(c: np.ndarray, b: float = balance) -> np.ndarray:
            return np.asarray(wiener(c, psf, b, clip=False))

        est = _per_channel(y, restore, pad=max(psf.shape))
        value = psnr(est, reference)
        if value > best_psnr:
            best, best_psnr = est, value
    return best


def richardson_lucy(y: np.ndarray, psf: np.ndarray, num_iter: int = 30) -> np.ndarray:
    """scikit-image's Richardson-Lucy deconvolution, per channel, a fixed 30 iterations (not tuned), on the
    image mirrored by the kernel's side (its convolutions pad with zeros).

    References:
        Richardson, JOSA 1972; Lucy, The Astronomical Journal 1974.

    """
    from skimage.restoration import richardson_lucy as rl

    return _per_channel(y, lambda c: rl(c, psf, num_iter=num_iter, clip=True), pad=max(psf.shape))
