"""How far the plan's time estimate lands from the actual time (issue #34).

For photos of several sizes (centre crops of scikit-image's astronaut and coffee, resized where larger, with
Gaussian noise of sigma 25 and seed 0), untiled and tiled by the default rule, the plan is made as the
command line makes it (a fresh speed cache: the probe runs), then the same restore is timed as a whole call.
The fits run a fixed number of iterations with no stopping rule, so the estimate's range collapses to one
figure and what is measured is the speed model (time per pixel and iteration, tiles side by side), not a
guess of where a rule stops.

    .venv/bin/python benchmarks/estimate_error.py --iters 60 --threads 2 \
        --json benchmarks/results/estimate_error.json
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from skimage import data, transform

from common import results_meta
from deepprior import io
from deepprior.restore.run import plan_restoration, restore
from deepprior.tasks import build_problem

#: (name, side of the square crop or (height, width) after resizing)
CASES: list[tuple[str, tuple[int, int]]] = [
    ("astronaut", (96, 96)), ("coffee", (200, 300)), ("astronaut", (256, 256)), ("coffee", (400, 600)),
    ("astronaut", (512, 512)),
]


def photo(name: str, shape: tuple[int, int]) -> np.ndarray:
    """A noisy photo of ``shape``: a centre crop of the largest square/rectangle, resized to ``shape``."""
    img = getattr(data, name)().astype(np.float32) / 255
    h, w = img.shape[:2]
    ratio = shape[1] / shape[0]
    ch, cw = (h, int(h * ratio)) if h * ratio <= w else (int(w / ratio), w)
    top, left = (h - ch) // 2, (w - cw) // 2
    crop = transform.resize(img[top : top + ch, left : left + cw], (*shape, 3), anti_aliasing=True)
    noisy = crop + np.random.default_rng(0).normal(0, 25 / 255, crop.shape)
    return np.clip(noisy, 0, 1).astype(np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iters", type=int, default=60, help="iterations per fit (no stopping rule)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path, required=True)
    args = ap.parse_args()
    rows: list[dict[str, Any]] = []
    os.environ["DEEPPRIOR_CACHE"] = tempfile.mkdtemp(prefix="deepprior-speed-")  # measured afresh
    for name, shape in CASES:
        noisy = photo(name, shape)
        problem = build_problem("denoise", [noisy], {"sigma": 25})
        settings = {"num_iter": args.iters, "stop": "none", "threads": args.threads, "device": "cpu"}
        load = os.getloadavg()[0]
        started = time.perf_counter()
        plan = plan_restoration(problem, None, **settings)
        plan_s = time.perf_counter() - started
        started = time.perf_counter()
        r = restore(problem, None, **settings)
        actual = time.perf_counter() - started
        estimate = plan.high
        rows.append({"image": name, "size": [shape[1], shape[0]], "tiles": plan.tiles, "workers": plan.workers,
                     "probe": plan.probe, "seconds_per_iteration": plan.seconds_per_iteration,
                     "estimate_s": estimate, "actual_s": round(actual, 2), "plan_s": round(plan_s, 2),
                     "actual_over_estimate": None if not estimate else round(actual / estimate, 3),
                     "iterations": r.fit.iterations, "load_1min_before": round(load, 2), "line": plan.line()})
        print(f"{name} {shape[1]}x{shape[0]}: estimated {estimate:.1f} s, took {actual:.1f} s "
              f"({rows[-1]['actual_over_estimate']}x), {plan.tiles} tiles", flush=True)
    doc = {"meta": results_meta(__file__, args), "rows": rows}
    io.write_bytes_atomic(args.json, json.dumps(doc, indent=1).encode())


if __name__ == "__main__":
    main()
