"""The Python API: one function per task, mirroring the command line one to one.

Each function reads its images, lets its task (:mod:`deepprior.tasks`) build the problem and hands it to
:func:`deepprior.restore.restore`, which pads (never crops), fits, crops back and scores against a
reference when one is given. The settings every task shares are :class:`Settings`: flat keywords, or one
object passed whole as ``settings=``.

Example:
    >>> import numpy as np, deepprior
    >>> r = deepprior.denoise(np.full((16, 16), 0.5), sigma=25, num_iter=2, net="skip", preset="fast")
    >>> r.image.pixels.shape, r.fit.iterations
    ((16, 16, 1), 2)

"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from typing_extensions import Unpack

from .io import ImageData, ImageSource
from .restore import Restoration, Settings
from .restore.callbacks import FrameRecorder, ProgressBar, RunEstimate, Snapshots, default_frames
from .restore.many import BATCH_SIZE
from .tasks import degrade_image, run_task, run_task_many
from .tasks.denoise import NOISES
from .tasks.inpaint import is_scattered
from .tasks.superres import SCALES

NOISE_CHOICES = NOISES


def denoise(image: ImageSource, *, sigma: float | None = None, noise: str | None = None, peak: float | None = None,
            amount: float | None = None, loss: str | None = None, keep_known: bool | None = None,
            settings: Settings | None = None, **options: Unpack[Settings]) -> Restoration:
    """Denoise an image (:mod:`deepprior.tasks.denoise`).

    Args:
        image: the noisy image (path, PIL image, array or :class:`~deepprior.io.ImageData`).
        sigma: the Gaussian noise level on the 0-255 scale, when known; with ``noise="speckle"``, the
            speckle's standard deviation on the [0, 1] scale.
        noise: ``gaussian``, ``poisson``, ``salt-pepper``, ``speckle`` or ``unknown`` (blind); default: from
            the level given (``sigma``, ``peak``, ``amount``), else ``unknown``.
        peak: Poisson peak (photons at intensity 1), when known.
        amount: salt-and-pepper fraction of pixels, when known.
        loss: override the data term (``mse``, ``l1``, ``poisson``, ``speckle``).
        keep_known: return the pixels the noise left untouched as given (default: on for salt-and-pepper).
        settings: the shared settings as one object (see :class:`Settings`); flat keywords override it.
        **options: the shared settings as keywords.

    Returns:
        A :class:`Restoration` (``.image``, ``.fit``, ``.psnr``, ``.report()``, ``.save(path)``).

    """
    task = {"sigma": sigma, "noise": noise, "peak": peak, "amount": amount, "loss": loss, "keep_known": keep_known}
    return run_task("denoise", (image,), task, settings, **options)


def denoise_many(images: Sequence[ImageSource], *, sigma: float | None = None, noise: str | None = None,
                 peak: float | None = None, amount: float | None = None, loss: str | None = None,
                 keep_known: bool | None = None, seeds: Sequence[int] | None = None,
                 references: Sequence[ImageSource | None] | None = None, batch_size: int | None = BATCH_SIZE,
                 settings: Settings | None = None, **options: Unpack[Settings]) -> list[Restoration]:
    """Denoise many images, fitting same-sized ones together: one network per image, one forward and backward
    for the batch (:mod:`deepprior.fit.batched`). Each result is the one :func:`denoise` gives that image
    alone with the same settings and seed (to rounding: the batched convolutions round differently), with
    its own stop; for tiny images (32x32) this is faster than one at a time (README, "Many tiny images").

    Args:
        images: the noisy images; those of one size (and settings) share a batch, others are fitted apart.
        sigma: as :func:`denoise`'s, for every image (likewise ``noise``, ``peak``, ``amount``, ``loss``,
            ``keep_known``; a blind fit estimates each image's noise on its own).
        noise: see ``sigma``.
        peak: see ``sigma``.
        amount: see ``sigma``.
        loss: see ``sigma``.
        keep_known: see ``sigma``.
        seeds: one seed per image (default: the ``seed`` setting for every image).
        references: one clean image (or None) per image, to score each result.
        batch_size: at most this many fits at once (None: all of a size).
        settings: the shared settings as one object; flat keywords override it. Settings that name one
            file (``output``, ``curves``, ``compare``, ``animation``, ``snapshots``) and ``tile`` are refused.
        **options: the shared settings as keywords.

    Returns:
        One :class:`Restoration` per image, in order; ``config["batch"]`` says how each was fitted.

    Example:
        >>> import numpy as np, deepprior
        >>> imgs = [np.full((16, 16), v) for v in (0.3, 0.6)]
        >>> rs = deepprior.denoise_many(imgs, sigma=25, num_iter=2, preset="fast")
        >>> [r.fit.iterations for r in rs], rs[0].config["batch"]
        ([2, 2], {'size': 2, 'batched': True})

    """
    task = {"sigma": sigma, "noise": noise, "peak": peak, "amount": amount, "loss": loss, "keep_known": keep_known}
    return run_task_many("denoise", [(image,) for image in images], task, settings, seeds=seeds,
                         references=references, batch_size=batch_size, **options)


def inpaint(image: ImageSource, *, mask: ImageSource | np.ndarray | None = None, keep_known: bool = True,
            settings: Settings | None = None, **options: Unpack[Settings]) -> Restoration:
    """Fill the missing pixels of an image (:mod:`deepprior.tasks.inpaint`).

    Args:
        image: the damaged image.
        mask: white = known, black = missing (grey >= 128 counts as known); without one, the image's
            transparent pixels are the missing ones and the output is opaque.
        keep_known: return the known pixels as given (default); False returns the network's image everywhere.
        settings: the shared settings as one object; flat keywords override it.
        **options: the shared settings as keywords.

    """
    return run_task("inpaint", (image,), {"mask": mask, "keep_known": keep_known}, settings, **options)


def super_resolve(image: ImageSource, *, scale: int, kernel: str = "lanczos2", settings: Settings | None = None,
                  **options: Unpack[Settings]) -> Restoration:
    """Enlarge an image by ``scale`` (2, 4 or 8) under the stated downsampling ``kernel``
    (:mod:`deepprior.tasks.superres`).

    Args:
        image: the low-resolution image.
        scale: 2, 4 or 8.
        kernel: ``lanczos2`` (the paper's), ``lanczos3``, ``bicubic`` or ``box``.
        settings: the shared settings as one object; flat keywords override it.
        **options: the shared settings as keywords.

    """
    return run_task("super-resolve", (image,), {"scale": scale, "kernel": kernel}, settings, **options)


def jpeg(image: ImageSource, *, settings: Settings | None = None, **options: Unpack[Settings]) -> Restoration:
    """Remove JPEG compression artifacts blindly (:mod:`deepprior.tasks.jpeg`).

    Args:
        image: the JPEG-compressed image.
        settings: the shared settings as one object; flat keywords override it.
        **options: the shared settings as keywords.

    """
    return run_task("jpeg", (image,), {}, settings, **options)


def flash_no_flash(flash: ImageSource, noflash: ImageSource, *, settings: Settings | None = None,
                   **options: Unpack[Settings]) -> Restoration:
    """Combine a flash image (detail) with a no-flash image (lighting) (:mod:`deepprior.tasks.flash`).

    Args:
        flash: the flash image (the network's input).
        noflash: the no-flash image (the target), same size.
        settings: the shared settings as one object; flat keywords override it (no tiling options).
        **options: the shared settings as keywords.

    """
    return run_task("flash-no-flash", (flash, noflash), {}, settings, **options)


def deblur(image: ImageSource, *, kernel: str, sigma: float | None = None, settings: Settings | None = None,
           **options: Unpack[Settings]) -> Restoration:
    """Remove a known blur (and noise) (:mod:`deepprior.tasks.deblur`).

    Args:
        image: the blurred image.
        kernel: ``gaussian:SIGMA``, ``box:N``, ``motion:LENGTH,ANGLE`` (degrees) or a PNG file of the kernel.
        sigma: the noise level on the 0-255 scale, when known.
        settings: the shared settings as one object; flat keywords override it.
        **options: the shared settings as keywords.

    """
    return run_task("deblur", (image,), {"kernel": kernel, "sigma": sigma}, settings, **options)


@dataclass
class Degradation:
    """The output of :func:`degrade`: the corrupted image, and the mask of kept pixels when ``drop`` is used."""

    image: ImageData
    mask: np.ndarray | None = None
    description: str = ""


def degrade(image: ImageSource, *, seed: int = 0, **options: Any) -> Degradation:
    """Corrupt a clean image with the project's own, seeded operators and noise models.

    Order: blur (``blur=SPEC``), downscale (``downscale=N``, antialiased bicubic), noise (``noise``,
    ``sigma``, ``peak``, ``amount``), clip to [0, 1], drop pixels (``drop=P``; missing pixels are 0). The
    options come from the tasks' stages; the result keeps the input's bit depth.

    Example:
        >>> d = degrade(np.full((16, 16, 3), 128, np.uint8), sigma=25, seed=0)
        >>> d.image.pixels.shape
        (16, 16, 3)

    """
    out, mask, description = degrade_image(image, seed=seed, **options)
    return Degradation(image=out, mask=mask, description=description)


def restore_with(task: str, *images: ImageSource, settings: Settings | None = None, **options: Any) -> Restoration:
    """Restore with any registered task by its name: its images in the order of ``Task.inputs``, its own
    options and the shared settings as keywords (what the functions above do for the built-in tasks).

    Example:
        >>> r = restore_with("jpeg", np.full((16, 16), 0.5), num_iter=2)
        >>> r.task, r.fit.iterations
        ('jpeg', 2)

    """
    from .tasks import TASKS

    spec = TASKS.get_task(task)
    if len(images) != len(spec.inputs):
        raise TypeError(f"{task} takes {len(spec.inputs)} image(s) ({', '.join(spec.inputs)}), got {len(images)}")
    own = {o.name for o in spec.options}
    values = {k: v for k, v in options.items() if k in own}
    common = {k: v for k, v in options.items() if k not in own}
    return run_task(task, images, values, settings, **common)


def task_function(task: str) -> Callable[..., Restoration]:
    """A function for a registered task that has none written here (a task added by one registry line):
    ``fn(*images, settings=None, **options)``, as :func:`restore_with`.
    """
    from .tasks import TASKS

    spec = TASKS.get_task(task)

    def fn(*images: ImageSource, settings: Settings | None = None, **options: Any) -> Restoration:
        return restore_with(task, *images, settings=settings, **options)

    fn.__name__ = fn.__qualname__ = spec.api_name
    fn.__doc__ = f"{spec.summary}\n\nImages: {', '.join(spec.inputs)}; options: " + (
        ", ".join(o.name for o in spec.options) or "none") + "; and the shared settings (see :class:`Settings`)."
    return fn


def __getattr__(name: str) -> Any:
    """A registered task's function by its API name, for tasks without one written here."""
    from .tasks import TASKS

    for spec in TASKS.values():
        if spec.api_name == name:
            return task_function(spec.name)
    raise AttributeError(f"module 'deepprior.api' has no attribute {name!r}")


__all__ = ["SCALES", "Degradation", "FrameRecorder", "ProgressBar", "Restoration", "RunEstimate", "Settings",
           "Snapshots", "deblur", "default_frames", "degrade", "denoise", "denoise_many", "flash_no_flash", "inpaint",
           "is_scattered", "jpeg", "restore_with", "super_resolve", "task_function"]
