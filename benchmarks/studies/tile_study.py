"""Single tiles of the full-size tiled run (issue #20, lever 1): how a tile's fit behaves under other settings.

Each chosen tile of the paper's sigma-25 noisy image is cut exactly as the tiled run cuts it (``tile_grid``:
core size plus the overlap on each side), fitted alone with ``--sigma 25`` and the default stop, and scored
against the same cut of the ground truth (the truth only scores; ``oracle`` is the best PSNR the averaged
output reached before the stop). Variants change one setting at a time against the default (``fast``).

    .venv/bin/python benchmarks/studies/tile_study.py --images F16 baboon --tiles 0 5 --variants default lr0.01 \\
        --threads 1 --json benchmarks/results/tile_study.json
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import _path  # noqa: F401  (puts benchmarks/ on sys.path: common, docgen)
from common import DATA, paper_tiles, results_meta
from deepprior import api, io
from deepprior.fit.stopping.method_noise import MethodNoiseConfig

#: Settings each variant passes to ``api.denoise`` on top of the defaults.
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "lr0.01": {"lr": 0.01},
    "lr0.005": {"lr": 0.005},
    "fp32": {"precision": "fp32"},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--images", nargs="+", default=["F16", "baboon"])
    ap.add_argument("--tile", type=int, default=128)
    ap.add_argument("--overlap", type=int, default=16)
    ap.add_argument("--tiles", nargs="+", type=int, default=[0, 5])
    ap.add_argument("--variants", nargs="+", default=["default", "lr0.01"], choices=list(VARIANTS))
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--json", type=Path, required=True)
    args = ap.parse_args()
    rows = json.loads(args.json.read_text())["rows"] if args.json.exists() else []
    done = {(r["image"], r["tile"], r["variant"]) for r in rows}
    for name, index, region, noisy, gt in paper_tiles(args.data, args.images, args.tiles, args.tile, args.overlap):
        for variant in args.variants:
            if (name, index, variant) in done:
                continue
            start = time.perf_counter()
            r = api.denoise(noisy, sigma=25, reference=gt, threads=args.threads, **VARIANTS[variant])
            wall = time.perf_counter() - start
            scored = [h for h in r.fit.history if h.get("psnr") is not None]
            best = max(scored, key=lambda h: h["psnr"])
            rows.append({"image": name, "tile": index, "region": region, "variant": variant, "psnr": r.psnr,
                         "iterations": r.fit.iterations,
                         "stopped_at": r.fit.stopped_at, "seconds": round(r.fit.seconds, 1),
                         "wall": round(wall, 1), "oracle_psnr": best["psnr"],
                         "oracle_iteration": best["iteration"], "lr": r.config["fit"]["lr"],
                         "precision": r.precision,
                         "curve": [[h["iteration"], round(h["psnr"], 3)] for h in scored],
                         "stop_pace": MethodNoiseConfig().pace(math.sqrt(noisy.shape[0] * noisy.shape[1]))})
            print(f"{name} tile {index} {variant}: {r.psnr:.2f} dB at {r.fit.iterations} it "
                  f"({r.fit.seconds:.0f} s); oracle {best['psnr']:.2f} @ {best['iteration']}", flush=True)
            meta = results_meta(__file__, args)
            io.write_bytes_atomic(args.json, json.dumps({"meta": meta, "rows": rows}, indent=1).encode())


if __name__ == "__main__":
    main()
