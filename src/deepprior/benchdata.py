"""What a benchmark table is made of, below the tasks: the data folder, cases, crops and the scoring.

Every method in a table is scored by :func:`score` on the same crop; the ground truth is used only there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import io
from .errors import InputError
from .metrics import psnr, psnr_y, rgb_to_y, ssim


def find_data(data: str | Path | None) -> Path:
    """The data folder: ``data``, else ``$DEEPPRIOR_DATA``, else ``../shared/data`` when it exists."""
    candidates = [data, os.environ.get("DEEPPRIOR_DATA"), "../shared/data"]
    for c in candidates:
        if c is None:
            continue
        p = Path(c)
        if p.is_dir():
            return p
        if c is data:
            raise InputError(f"data folder {p} does not exist")
    raise InputError(
        "no benchmark data: pass --data DIR or set DEEPPRIOR_DATA to a folder holding dip-paper/ (the Deep Image "
        "Prior paper's evaluation images from its project page: denoising/, pixels50/, sr/)"
    )


@dataclass
class Case:
    """One image of a table: the corrupted input and what scoring needs."""

    name: str
    group: str
    task: str
    corrupted: np.ndarray
    reference: np.ndarray
    known: np.ndarray | None = None
    scale: int | None = None
    sigma: float | None = None
    published: dict[str, np.ndarray] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)  # what the task is told beyond the image (noise, level)
    #: pixels the input cannot tell apart (where a mask is read from the image: black in the input and in the
    #: ground truth, known or missing alike); where any, a second PSNR leaves them out (``psnr_unambiguous``)
    ambiguous: np.ndarray | None = None


def centre(a: np.ndarray, size: int | None, multiple: int = 1) -> np.ndarray:
    if size is None:
        h, w = a.shape[:2]
        return a[: h - h % multiple, : w - w % multiple]
    h, w = a.shape[:2]
    size = size - size % multiple
    if size > min(h, w):
        raise InputError(f"crop {size} is larger than the image ({w}x{h})")
    top, left = (h - size) // 2, (w - size) // 2
    return a[top : top + size, left : left + size]


def load(path: Path) -> np.ndarray:
    if not path.exists():
        raise InputError(f"benchmark file missing: {path}")
    return io.load_image(path).pixels


def limit_names(names: tuple[str, ...] | list[str], limit: int | None, only: tuple[str, ...] = ()) -> list[str]:
    """``only``: keep the names listed (by name or file stem), in the table's order; then the first ``limit``."""
    kept = [n for n in names if not only or n in only or Path(n).stem in only]
    return kept[:limit] if limit else kept


def score(case: Case, image: np.ndarray) -> dict[str, float]:
    """The table's metric for one output, on the 8-bit image as it would be saved."""
    x = io.quantize(np.clip(image, 0, 1), 8)
    if x.shape[2] != case.reference.shape[2]:
        x = x.mean(axis=2, keepdims=True)
    if case.task == "super-resolve":
        b = 4 if min(x.shape[:2]) > 16 else 0
        yx, yr = rgb_to_y(x), rgb_to_y(case.reference)
        if b:
            yx, yr = yx[b:-b, b:-b], yr[b:-b, b:-b]
        return {"psnr": psnr_y(x, case.reference, border=b), "ssim": ssim(yx[:, :, None], yr[:, :, None])}
    out = {"psnr": psnr(x, case.reference), "ssim": ssim(x, case.reference)}
    if case.ambiguous is not None and case.ambiguous.any():
        keep = ~case.ambiguous
        out["psnr_unambiguous"] = psnr(x[keep], case.reference[keep])
    return out
