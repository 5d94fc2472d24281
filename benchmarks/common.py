"""Helpers shared by the benchmark scripts (run as ``python benchmarks/NAME.py``, so importable as ``common``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

#: ``../shared/data`` beside the repository.
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def centre_crop(a: np.ndarray, size: int) -> np.ndarray:
    """The ``size x size`` centre of an image."""
    h, w = a.shape[:2]
    top, left = (h - size) // 2, (w - size) // 2
    return a[top : top + size, left : left + size]


def paper_s_per_iter(noisy: np.ndarray, threads: int | None) -> float:
    """Seconds per iteration of the paper's denoising configuration in float32 on this image: 10 iterations
    timed after 3 of warm-up (the reference time of issue #6's ratios)."""
    from deepprior import api

    common = {"sigma": 25, "preset": "paper", "precision": "fp32", "stop": "none", "threads": threads, "tile": 0}
    short = api.denoise(noisy, num_iter=3, **common).fit.seconds
    long = api.denoise(noisy, num_iter=13, **common).fit.seconds
    return (long - short) / 10


def save_curve_run(runs: dict, key: str, label: str, result: Any, extra: dict, script: str, args: Any,
                   out: Path) -> None:
    """Record one `--stop none` fit of a curve study (its final and best PSNR, seconds, history) under
    ``runs[key]``, print a line and rewrite the study's JSON atomically with the metadata and arguments."""
    from deepprior import io
    from deepprior.bench.harness import BenchConfig, metadata

    best = max(result.fit.history, key=lambda h: h["psnr"])
    runs[key] = {**extra, "final_psnr": result.psnr, "seconds": result.fit.seconds,
                 "best": {"iteration": best["iteration"], "psnr": best["psnr"]}, "history": result.fit.history}
    print(f"{label}: final {result.psnr:.2f} dB, best {best['psnr']:.2f} at {best['iteration']}, "
          f"{result.fit.seconds:.0f} s", flush=True)
    doc = {"meta": {**metadata(BenchConfig(table="denoise")), "command": script,
                    "args": {k: str(v) for k, v in vars(args).items()}}, "runs": runs}
    io.write_bytes_atomic(out, json.dumps(doc, indent=1).encode())


def reference_crop(data: Path, image: str = "F16") -> tuple[np.ndarray, np.ndarray]:
    """Issue #6's reference crop: x and y from 128 to 384 of the paper's sigma-25 noisy image and its
    ground truth, as (noisy, gt)."""
    from deepprior import io

    root = data / "dip-paper/denoising/sigma25"
    return tuple(io.load_image(root / f"{image}_{kind}.png").pixels[128:384, 128:384]  # type: ignore[return-value]
                 for kind in ("noisy", "GT"))
