"""The result layer's bookkeeping, without Qt: what a restore in progress writes where, where its pictures lie,
and what lets a stopped stack continue (the same inputs and settings).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .layers import LayerImages


@dataclass(frozen=True)
class Running:
    """The restore in progress: where its result goes and what the result layer records.

    Attributes:
        name: the result layer's name.
        like: the restored layer's pictures (their scale, shape and type, for the result).
        source: the restored layer.
        done: the slices a previous Restore with the same inputs and settings finished.
        signature: what those inputs and settings were (names, shapes, a hash of the data and the mask).

    """

    name: str
    like: LayerImages
    source: Any
    done: tuple[int, ...]
    signature: dict[str, Any]

    @property
    def count(self) -> int:
        return len(self.like.frames)



def placement(scale: Sequence[float], translate: Sequence[float], factor: float, *,
              stack: bool) -> tuple[list[float], list[float]]:
    """The scale and translate that lay a result over the restored layer (``scale``, ``translate``): its pixels
    ``factor`` times the input's (a super-resolved result has smaller ones: ``1 / scale``); napari places pixel
    centres, hence the half-pixel shift. ``stack``: the layer's leading axis is kept, else only the picture's.
    """
    out_scale, out_translate = [float(v) for v in scale], [float(v) for v in translate]
    for axis in (-2, -1):
        size = scale[axis] * factor
        out_translate[axis] = translate[axis] + (size - scale[axis]) / 2
        out_scale[axis] = size
    return (out_scale, out_translate) if stack else (out_scale[-2:], out_translate[-2:])


def mask_of(known: list[np.ndarray] | None, index: int) -> Callable[[str], np.ndarray | None]:
    """What a mask field's value (the layer's name) stands for in slice ``index``: its known pixels."""
    return lambda _name: None if known is None else known[index]


def digest(arrays: list[np.ndarray]) -> str:
    """A short hash of the arrays' shapes and bytes: a result layer continues only the same inputs."""
    h = hashlib.sha1(usedforsecurity=False)
    for a in arrays:
        c = np.ascontiguousarray(a)
        h.update(f"{c.shape}{c.dtype}".encode())
        h.update(c.tobytes())
    return h.hexdigest()[:16]



__all__ = ["Running", "digest", "mask_of", "placement"]
