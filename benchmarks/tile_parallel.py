"""Tiles side by side against tiles one after another on the same cores (issue #29, item 2).

One noisy photo (scikit-image's astronaut, a centre crop, Gaussian sigma 25 with seed 0) is denoised in
tiles with a fixed iteration count and no stopping rule, so every way does the same arithmetic:

- ``serial-1``: one tile at a time, one thread;
- ``serial-N``: one tile at a time, N threads (what a tiled run did before this round);
- ``workers-N``: N tiles at a time, in worker processes of one thread each (the default now).

The three run in turn in this one process (the same machine state); the wall time of each whole call is
recorded with the 1-minute load average, and whether the images are equal (``workers-N`` must equal
``serial-1`` bit for bit: each worker runs one thread).

    .venv/bin/python benchmarks/tile_parallel.py --size 400 --iters 40 --threads 2 \
        --json benchmarks/results/tile_parallel.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from skimage import data

from deepprior import api, io
from deepprior.bench.harness import BenchConfig, metadata


def in_process(fn: Callable[..., Any], items: list[tuple[Any, ...]]) -> Iterator[Any]:
    """A tile map that fits the tiles one after another in this process, at its thread count."""
    return (fn(*args) for args in items)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=400, help="side of the centre crop")
    ap.add_argument("--iters", type=int, default=40, help="iterations per tile (no stopping rule)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tile", type=int, default=128)
    ap.add_argument("--overlap", type=int, default=16)
    ap.add_argument("--json", type=Path, required=True)
    args = ap.parse_args()
    photo = data.astronaut().astype(np.float32) / 255
    top, left = (photo.shape[0] - args.size) // 2, (photo.shape[1] - args.size) // 2
    clean = photo[top : top + args.size, left : left + args.size]
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 25 / 255, clean.shape), 0, 1).astype(np.float32)
    common = {"sigma": 25, "num_iter": args.iters, "stop": "none", "tile": args.tile, "overlap": args.overlap,
              "device": "cpu"}
    ways: dict[str, dict[str, Any]] = {
        "serial-1": {"threads": 1},
        f"serial-{args.threads}": {"threads": args.threads, "tile_map": in_process},
        f"workers-{args.threads}": {"threads": args.threads},
    }
    rows, images = [], {}
    for name, extra in ways.items():
        load = os.getloadavg()[0]
        started = time.perf_counter()
        r = api.denoise(noisy, reference=clean, **common, **extra)
        wall = time.perf_counter() - started
        images[name] = r.image.pixels
        rows.append({"way": name, "wall_s": round(wall, 2), "tiles": len(r.config["tiling"]["tiles"]),
                     "workers": r.config["tiling"]["workers"], "threads": r.threads, "psnr": r.psnr,
                     "load_1min_before": round(load, 2)})
        print(f"{name}: {wall:.1f} s ({rows[-1]['tiles']} tiles, load {load:.2f})", flush=True)
    base = rows[0]["wall_s"]
    for row in rows:
        row["speedup_over_serial_1"] = round(base / row["wall_s"], 3)
    same = bool(np.array_equal(images["serial-1"], images[f"workers-{args.threads}"]))
    print(f"workers-{args.threads} equals serial-1 bit for bit: {same}; "
          f"workers over serial-{args.threads}: {rows[1]['wall_s'] / rows[2]['wall_s']:.2f}x")
    meta = {**metadata(BenchConfig(table="denoise")), "command": "benchmarks/tile_parallel.py",
            "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}}
    doc = {"meta": meta, "rows": rows, "workers_equal_serial_1": same}
    io.write_bytes_atomic(args.json, json.dumps(doc, indent=1).encode())


if __name__ == "__main__":
    main()
