"""Many tiny images (CIFAR-10's 32x32): ``deepprior.denoise_many`` (one batch) against ``denoise`` one at a time.

64 crops of 32x32 from scikit-image's RGB photographs (astronaut, chelsea, coffee, rocket: 16 each, on a
4x4 grid over the middle of each), Gaussian noise sigma 25 (seed 0), the same settings both ways (preset
``fast`` in float32: bf16 autocast does not reach inside vmap, so bf16 fits are not batched; ``--stop auto``;
seed 0 for every image, as separate calls would use), an iteration cap kept short (``--iters``, 200 by
default) so that a run takes minutes. Both ways run in one process, one after the other (after a warm-up of
two iterations each way), with the same threads; each image's result is compared between the two ways
(iterations, stop point, pixels, PSNR against the clean crop). Writes JSON with the command, commit and
versions.

    PYTHONPATH=src .venv/bin/python benchmarks/batched_tiny.py --threads 1 \
        --out benchmarks/results/batched_tiny_32_t1.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

import deepprior

IMAGES = ("astronaut", "chelsea", "coffee", "rocket")


def crops(count: int, side: int = 32) -> list[np.ndarray]:
    """``count`` clean crops on [0, 1]: a 4x4 grid over the middle of each photograph, in turn."""
    from skimage import data

    out: list[np.ndarray] = []
    per = -(-count // len(IMAGES))
    grid = int(np.ceil(np.sqrt(per)))
    for name in IMAGES:
        img = getattr(data, name)().astype(np.float64) / 255.0
        h, w = img.shape[:2]
        top, left = h // 2 - grid * side // 2, w // 2 - grid * side // 2
        for k in range(per):
            r, c = divmod(k, grid)
            out.append(img[top + r * side : top + (r + 1) * side, left + c * side : left + (c + 1) * side])
    return out[:count]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((a.astype(np.float64) - b) ** 2)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=64)
    ap.add_argument("--iters", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--stop", default="auto")
    ap.add_argument("--precision", default="fp32", help="fp32: the batched path's (bf16 autocast is not batched)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    clean = crops(args.count)
    rng = np.random.default_rng(0)
    noisy = [np.clip(c + rng.normal(0, 25 / 255, c.shape), 0, 1) for c in clean]
    opts: dict[str, Any] = {"sigma": 25, "num_iter": args.iters, "preset": "fast", "stop": args.stop,
                            "threads": args.threads, "seed": 0, "precision": args.precision}
    warm = {**opts, "num_iter": 2}  # first calls (lazy imports, allocator): outside both timings
    deepprior.denoise(noisy[0], **warm)
    deepprior.denoise_many(noisy[:2], **warm)

    t = time.perf_counter()
    alone = [deepprior.denoise(img, **opts) for img in noisy]
    serial_s = time.perf_counter() - t
    t = time.perf_counter()
    many = deepprior.denoise_many(noisy, **opts)
    batched_s = time.perf_counter() - t

    rows: list[dict[str, Any]] = []
    for a, m, c in zip(alone, many, clean, strict=True):
        rows.append({
            "iterations": [a.fit.iterations, m.fit.iterations],
            "stopped_at": [a.fit.stopped_at, m.fit.stopped_at],
            "psnr": [round(psnr(a.image.pixels, c), 3), round(psnr(m.image.pixels, c), 3)],
            "max_diff_8bit": int(round(255 * float(np.abs(a.image.pixels - m.image.pixels).max()))),
        })
    n = len(noisy)
    result: dict[str, Any] = {
        "command": "PYTHONPATH=src .venv/bin/python benchmarks/batched_tiny.py " + shlex.join(sys.argv[1:]),
        "what": f"{n} crops of 32x32 ({', '.join(IMAGES)}), Gaussian sigma 25 seed 0; denoise one at a time, "
                "then denoise_many (one batch), same settings and threads, one process",
        "settings": opts,
        "precision": many[0].precision,
        "net": many[0].net,
        "batch": many[0].config["batch"],
        "seconds": {"one_at_a_time": round(serial_s, 2), "batched": round(batched_s, 2)},
        "images_per_hour": {"one_at_a_time": round(n * 3600 / serial_s, 1), "batched": round(n * 3600 / batched_s, 1)},
        "speedup": round(serial_s / batched_s, 3),
        "iterations_total": {"one_at_a_time": sum(r["iterations"][0] for r in rows),
                             "batched": sum(r["iterations"][1] for r in rows)},
        "same_stop": sum(r["stopped_at"][0] == r["stopped_at"][1] for r in rows),
        "mean_psnr": {"noisy": round(float(np.mean([psnr(x, c) for x, c in zip(noisy, clean, strict=True)])), 3),
                      "one_at_a_time": round(float(np.mean([r["psnr"][0] for r in rows])), 3),
                      "batched": round(float(np.mean([r["psnr"][1] for r in rows])), 3)},
        "max_diff_8bit": max(r["max_diff_8bit"] for r in rows),
        "per_image": rows,
        "threads": torch.get_num_threads(),
        "load_average_after": os.getloadavg(),
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()},
        "versions": {"deepprior": deepprior.__version__, "torch": torch.__version__,
                     "python": platform.python_version()},
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                 text=True).stdout.strip(),
    }
    text = json.dumps(result, indent=1, allow_nan=False)
    if args.out is not None:
        args.out.write_text(text + "\n")
    summary = {k: result[k] for k in ("seconds", "images_per_hour", "speedup", "iterations_total", "same_stop",
                                      "mean_psnr", "max_diff_8bit", "threads")}
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
