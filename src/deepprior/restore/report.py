"""The result of a restoration and its report."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import io
from .._version import __version__
from ..fit.loop import FitResult
from ..io import ImageData


@dataclass
class Restoration:
    """The result of a restoration.

    Attributes:
        image: the restored image (alpha carried through, at the input's bit depth), ready to save.
        fit: the fitting loop's result (history, iterations, stop point, ...).
        task: ``denoise``, ``inpaint`` or ``super-resolve``.
        preset: the preset's name.
        net: the network's name.
        device: the device it ran on.
        precision: ``fp32``, ``bf16`` or ``fp16``.
        threads: PyTorch's intra-op threads.
        seed: the seed.
        psnr: PSNR against the reference of the image as saved (8/16-bit), or None.
        ssim: SSIM likewise, or None.
        input_psnr: PSNR of the corrupted input against the reference (denoising and inpainting), or None.
        config: every resolved setting.
        output: the ``output`` setting: where :meth:`save` writes when given no path (checked before the fit).

    """

    image: ImageData
    fit: FitResult
    task: str
    preset: str
    net: str
    device: str
    precision: str
    threads: int
    seed: int
    psnr: float | None = None
    ssim: float | None = None
    input_psnr: float | None = None
    config: dict[str, Any] = field(default_factory=dict)
    output: Path | None = None

    def report(self) -> dict[str, Any]:
        """The report (``--report``): strict JSON (non-finite numbers as None).

        Its keys are described on the docs' Report page, and :func:`report_schema` gives them as a JSON Schema.
        """
        return strict_json({
            "task": self.task,
            "preset": self.preset,
            "net": self.net,
            "iterations": self.fit.iterations,
            "stopped_at": self.fit.stopped_at,
            "stop_reason": self.fit.stop_reason,
            "seconds": round(self.fit.seconds, 3),
            "device": self.device,
            "precision": self.precision,
            "threads": self.threads,
            "seed": self.seed,
            "psnr": None if self.psnr is None else round(self.psnr, 4),
            "ssim": None if self.ssim is None else round(self.ssim, 5),
            "input_psnr": None if self.input_psnr is None else round(self.input_psnr, 4),
            "guard_restores": self.fit.guard_restores,
            "config": self.config,
            "version": __version__,
            "history": self.fit.history,
        })

    def save(self, path: str | Path | None = None) -> Path:
        """Write the image atomically, to ``path`` or else to the ``output`` setting."""
        target = path if path is not None else self.output
        if target is None:
            raise TypeError("save() needs a path (no output= setting was given)")
        return io.save_image(target, self.image)


def strict_json(value: Any) -> Any:
    """``value`` with every non-finite float (NaN, infinities) replaced by None and tuples made lists, so that
    ``json.dumps(..., allow_nan=False)`` accepts it: strict parsers reject ``NaN`` and ``Infinity``.

    Example:
        >>> strict_json({"psnr": float("inf"), "history": [(1, float("nan"))]})
        {'psnr': None, 'history': [[1, None]]}

    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    return value


def report_schema() -> dict[str, Any]:
    """The report's JSON Schema (``report_schema.json``, shipped with the package): the README's table as a
    machine-checkable contract. A batch report (several inputs) is a list of such objects.
    """
    from importlib import resources

    return dict(json.loads(resources.files(__package__).joinpath("report_schema.json").read_text()))
