"""Images per hour of a batch (issue #21): one after another, ``--jobs 2``, and Ray local with 2 workers.

16 photos of 256x256 (crops of scikit-image's sample photographs, Gaussian noise sigma 25, seed 0) are
restored with the same command three ways, each timed as the wall time of the whole command (start-up, Ray's
start and the workers' imports included):

- ``serial``: one file after another with ``--threads 2`` (the whole machine for each fit);
- ``jobs``: ``--jobs 2`` with ``--threads 1`` each;
- ``ray``: ``--ray`` (a local Ray started by the command) with ``--threads 1`` per task.

The fits are capped (``--iters``, ``--stop none``) so that the three runs finish in reasonable time; the
ratio between them, not the absolute figure, is the result. Results go to ``--json``.

    .venv/bin/python benchmarks/batch_throughput.py --iters 100 --json benchmarks/results/batch_throughput.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from skimage import data

from deepprior import io

PHOTOS = ["astronaut", "coffee", "chelsea", "rocket"]


def make_photos(folder: Path, count: int, side: int, seed: int) -> None:
    """``count`` noisy crops: four corners-and-centre style crops of each photo, noise sigma 25."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    i = 0
    while i < count:
        photo = getattr(data, PHOTOS[i % len(PHOTOS)])()
        h, w = photo.shape[:2]
        top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        crop = photo[top : top + side, left : left + side].astype(np.float64)
        noisy = np.clip(np.round(crop + rng.normal(0, 25, crop.shape)), 0, 255).astype(np.uint8)
        io.save_image(folder / f"photo{i:02d}.png", noisy)
        i += 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=16)
    ap.add_argument("--side", type=int, default=256)
    ap.add_argument("--iters", type=int, default=100)
    ap.add_argument("--ways", nargs="+", default=["serial", "jobs", "ray"])
    ap.add_argument("--json", type=Path, required=True)
    args = ap.parse_args()
    exe = str(Path(sys.executable).parent / "deepprior")
    common = ["--sigma", "25", "--iters", str(args.iters), "--stop", "none", "-q"]
    ways = {"serial": ["--threads", "2"], "jobs": ["--jobs", "2", "--threads", "1"],
            "ray": ["--ray", "--threads", "1"]}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        inp = Path(tmp) / "in"
        make_photos(inp, args.count, args.side, seed=0)
        for way in args.ways:
            out = Path(tmp) / way
            cmd = [exe, "denoise", str(inp), "-o", str(out), *common, *ways[way]]
            start = time.perf_counter()
            done = subprocess.run(cmd, capture_output=True, text=True,
                                  env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"})
            seconds = time.perf_counter() - start
            if done.returncode != 0:
                raise SystemExit(f"{way} failed: {done.stdout[-2000:]} {done.stderr[-2000:]}")
            restored = len(list(out.glob("*.png")))
            rows.append({"way": way, "args": ways[way], "seconds": round(seconds, 1), "images": restored,
                         "images_per_hour": round(restored * 3600 / seconds, 1)})
            print(f"{way}: {restored} images in {seconds:.0f} s = {rows[-1]['images_per_hour']:.0f} images/hour",
                  flush=True)
    meta = {"command": "benchmarks/batch_throughput.py " + " ".join(sys.argv[1:]), "common": common,
            "count": args.count, "side": args.side, "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(), "date": time.strftime("%Y-%m-%d %H:%M")}
    io.write_text_atomic(args.json, json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
