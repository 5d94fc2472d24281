"""Quality and time of each preset on the same crops of the DIP paper's noisy images (sigma 25).

Runs each preset as a user would (its own iteration count as the cap, the given ``--stop`` rule), on centre
crops of the paper's own noisy inputs, and scores against the ground truth (used only to score). Rows
accumulate in the JSON file; a row already there is not run again.

    python benchmarks/presets_crop.py --crop 128 --images F16 --presets fast paper --threads 1 \
        --json benchmarks/results/presets_crop128.json
    python benchmarks/presets_crop.py --crop 128 --images F16 hill --presets fast paper --threads 1 \
        --stop mns-adaptive --json benchmarks/results/presets_crop128.json
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import torch

import deepprior
import deepprior.metrics
from common import centre_crop, results_meta
from deepprior import io


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("DEEPPRIOR_DATA", "../shared/data")))
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--images", nargs="+", default=["F16", "kodim03"])
    ap.add_argument("--presets", nargs="+", default=["fast", "paper"])
    ap.add_argument("--iters", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--stop", default="none")
    ap.add_argument("--json", type=Path, required=True)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    folder = args.data / "dip-paper" / "denoising" / "sigma25"
    rows = []
    if args.json.exists():  # resume: keep the rows already measured
        rows = [r for r in json.loads(args.json.read_text())["rows"]]
    for name in args.images:
        noisy = centre_crop(io.load_image(folder / f"{name}_noisy.png").pixels, args.crop)
        gt = centre_crop(io.load_image(folder / f"{name}_GT.png").pixels, args.crop)
        published = centre_crop(io.load_image(folder / f"{name}_deep_prior.png").pixels, args.crop)
        for preset in args.presets:
            if any(r["image"] == name and r["preset"] == preset and r["crop"] == args.crop
                   and r.get("stop_requested", "none") == args.stop for r in rows):
                continue
            r = deepprior.denoise(noisy, sigma=25, preset=preset, num_iter=args.iters, seed=args.seed,
                                  reference=gt, stop=args.stop)
            # scored: the reference was given
            assert r.psnr is not None and r.ssim is not None and r.input_psnr is not None
            row = {
                "image": name, "crop": args.crop, "preset": preset, "iterations": r.fit.iterations,
                "stop": "fixed count (none)" if r.fit.stop_reason == "max_iter" else r.fit.stop_reason,
                "psnr": round(r.psnr, 3), "ssim": round(r.ssim, 4),
                "input_psnr": round(r.input_psnr, 3),
                "published_dip_psnr_same_crop": round(deepprior.metrics.psnr(published, gt), 3),
                "seconds": round(r.fit.seconds, 1), "s_per_iter": round(r.fit.seconds / max(1, r.fit.iterations), 4),
                "precision": r.precision, "device": r.device, "threads": r.threads, "seed": args.seed,
                "stop_requested": args.stop,
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
            meta = results_meta(__file__, args)
            args.json.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
