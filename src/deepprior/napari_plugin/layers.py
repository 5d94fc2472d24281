"""napari layers as a task's images and masks, and the restored images back as a layer's data (no Qt here).

An image layer holds one picture (``H x W``, or ``H x W x C`` when napari shows it as RGB) or a stack of them
(``N x H x W``, ``N x H x W x C``), restored one by one. Integer data is scaled as the command line reads files:
8-bit by 255, 16-bit by 65535, other integers by 255 when they fit 0..255, else by 65535; float data in [0, 1]
is taken as it is, and other float data
is scaled from the layer's own minimum and maximum (a microscope's or a telescope's counts) and scaled back
after, so the noise levels a task takes (``--sigma`` on the 0-255 scale) refer to that range.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InputError


@dataclass(frozen=True)
class Intensity:
    """How a layer's values map to [0, 1] (``(value - low) / (high - low)``) and back, in its own type."""

    dtype: np.dtype
    low: float
    high: float

    def to_unit(self, data: np.ndarray) -> np.ndarray:
        unit = (np.asarray(data, np.float64) - self.low) / (self.high - self.low)
        return np.clip(unit, 0.0, 1.0).astype(np.float32)

    def from_unit(self, unit: np.ndarray) -> np.ndarray:
        values = np.asarray(unit, np.float64) * (self.high - self.low) + self.low
        if np.issubdtype(self.dtype, np.integer):
            info = np.iinfo(self.dtype)
            return np.clip(np.rint(values), info.min, info.max).astype(self.dtype)
        return values.astype(self.dtype)


def intensity_of(data: np.ndarray) -> Intensity:
    """The scale of a layer's data (see the module's docstring); refuses what no image scale fits."""
    a = np.asarray(data)
    if a.dtype == np.bool_:
        return Intensity(np.dtype(np.uint8), 0.0, 1.0)
    if np.issubdtype(a.dtype, np.integer):
        if a.size and a.min() < 0:
            raise InputError(f"the layer holds negative integers ({a.min()}); expected 0..255 or 0..65535")
        if a.dtype == np.uint8:
            return Intensity(a.dtype, 0.0, 255.0)
        if a.dtype == np.uint16:
            return Intensity(a.dtype, 0.0, 65535.0)
        top = 255.0 if a.size and a.max() <= 255 else 65535.0  # other integers: as the command line reads them
        if a.size and a.max() > 65535:
            raise InputError(f"the layer's values reach {a.max()}; expected at most 65535 for integer data")
        return Intensity(a.dtype, 0.0, top)
    if np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            raise InputError("the layer holds NaN or infinite values")
        low, high = float(a.min()), float(a.max())
        if low >= 0.0 and high <= 1.0:
            return Intensity(a.dtype, 0.0, 1.0)
        if high <= low:
            raise InputError(f"the layer is constant ({low:g}): nothing to restore")
        return Intensity(a.dtype, low, high)
    raise InputError(f"the layer's data has type {a.dtype}; expected integers or floats")


@dataclass(frozen=True)
class LayerImages:
    """A layer's pictures as the task reads them: ``H x W x C`` floats in [0, 1], one per slice of a stack."""

    frames: tuple[np.ndarray, ...]
    stacked: bool
    rgb: bool
    intensity: Intensity

    @property
    def height(self) -> int:
        return int(self.frames[0].shape[0])

    @property
    def width(self) -> int:
        return int(self.frames[0].shape[1])


def images_of(data: np.ndarray, *, rgb: bool) -> LayerImages:
    """A layer's data (a NumPy or array-like of 2 to 4 dimensions) as its pictures; ``rgb``: napari's flag."""
    a = np.asarray(data)
    colour = 1 if rgb else 0
    if a.ndim == 2 + colour:
        stacked, frames = False, [a]
    elif a.ndim == 3 + colour:
        stacked, frames = True, list(a)
    else:
        shape = "N x H x W x C" if rgb else "N x H x W"
        raise InputError(f"the layer has {a.ndim} dimensions {a.shape}; deepprior takes one picture or a stack "
                         f"of them ({shape}): choose one slice of the others first")
    if rgb and a.shape[-1] not in (3, 4):
        raise InputError(f"the layer's colour axis has {a.shape[-1]} channels; expected 3 (RGB) or 4 (RGBA)")
    scale = intensity_of(a)
    unit = []
    for frame in frames:
        f = scale.to_unit(frame)
        unit.append(f if rgb else f[:, :, None])  # RGBA: the alpha is carried (inpaint: its holes)
    return LayerImages(tuple(unit), stacked, rgb, scale)


def layer_data(frames: Sequence[np.ndarray], like: LayerImages) -> np.ndarray:
    """Restored pictures (``H x W x C`` in [0, 1]) as a layer's data in the input's type, scale and shape (RGB
    pictures stay RGB; an RGBA layer's restored pictures come back without the alpha).
    """
    out = [like.intensity.from_unit(f if like.rgb else f[:, :, 0]) for f in frames]
    return np.stack(out) if like.stacked else out[0]


def known_from_missing(missing: np.ndarray, like: LayerImages) -> list[np.ndarray]:
    """Each picture's known pixels from a painted mask (``H x W``, or ``N x H x W`` for a stack; painted =
    missing), as the inpainting task's boolean masks.
    """
    m = np.asarray(missing).astype(bool)
    count = len(like.frames)
    if m.shape == (like.height, like.width):
        masks = [~m] * count
    elif like.stacked and m.shape == (count, like.height, like.width):
        masks = [~frame for frame in m]
    else:
        raise InputError(f"the mask layer is {m.shape}; the image is {like.height} x {like.width}"
                         + (f" ({count} slices)" if like.stacked else ""))
    return masks


def missing_of_labels(data: np.ndarray) -> np.ndarray:
    """A Labels layer as a mask: every painted pixel (any label above 0) is missing."""
    return np.asarray(data) > 0


__all__ = ["Intensity", "LayerImages", "images_of", "intensity_of", "known_from_missing", "layer_data",
           "missing_of_labels"]
