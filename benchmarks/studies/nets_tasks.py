"""Every network on every task, on the same crops: PSNR after a fixed count, and seconds per iteration.

Crops: 128x128 centre crops of the DIP paper's sigma-25 ground truths. Tasks: denoising the paper's own
sigma-25 noisy crop; inpainting with 50 % of the pixels dropped (seeded); super-resolution x4 from the
crop shrunk by Pillow's antialiased bicubic (the operator: Lanczos-2). Each network runs with the
default preset (its own reference settings where they differ: the Deep Decoder without perturbation and
averaging), ``--iters 600 --stop none``, seed 0. The baseline column is the corrupted input (denoising,
inpainting) or bicubic upscaling (super-resolution), scored the same way (RGB PSNR).

    .venv/bin/python benchmarks/studies/nets_tasks.py --threads 1 --json benchmarks/results/nets_tasks_crop128.json \
        --markdown benchmarks/results/nets_tasks_crop128.md
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import _path  # noqa: F401  (puts benchmarks/ on sys.path: common, docgen)
from common import DATA, centre_crop, markdown_table, results_meta
from deepprior import api, io
from deepprior.baselines import bicubic
from deepprior.metrics import psnr
from deepprior.nets import NETWORKS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--images", nargs="+", default=["kodim03"])
    ap.add_argument("--nets", nargs="+", default=list(NETWORKS))
    ap.add_argument("--tasks", nargs="+", default=["denoise", "inpaint", "super-resolve"])
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--iters", type=int, default=600)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--json", type=Path, required=True)
    ap.add_argument("--markdown", type=Path)
    args = ap.parse_args()
    rows = json.loads(args.json.read_text())["rows"] if args.json.exists() else []
    done = {(r["image"], r["task"], r["net"]) for r in rows}
    root = args.data / "dip-paper/denoising/sigma25"
    for name in args.images:
        gt = centre_crop(io.load_image(root / f"{name}_GT.png").pixels, args.crop)
        noisy = centre_crop(io.load_image(root / f"{name}_noisy.png").pixels, args.crop)
        dropped = api.degrade(gt, drop=0.5, seed=0)
        small = api.degrade(gt, downscale=4, seed=0).image
        for task in args.tasks:
            for net in args.nets:
                if (name, task, net) in done:
                    continue
                common = {"net": net, "num_iter": args.iters, "stop": "none", "reference": gt,
                          "threads": args.threads}
                if task == "denoise":
                    r = api.denoise(noisy, sigma=25, **common)
                    base = ("noisy input", psnr(noisy, gt))
                elif task == "inpaint":
                    r = api.inpaint(dropped.image, mask=dropped.mask, **common)
                    base = ("input (missing = 0)", psnr(dropped.image.pixels, gt))
                else:
                    r = api.super_resolve(small, scale=4, **common)
                    base = ("bicubic", psnr(bicubic(small.pixels, 4).clip(0, 1), gt))
                row = {"image": name, "task": task, "net": net, "psnr": r.psnr, "baseline": base[0],
                       "baseline_psnr": base[1], "iterations": r.fit.iterations, "stopped_at": r.fit.stopped_at,
                       "stop": r.config["stop"]["name"], "seconds": round(r.fit.seconds, 1),
                       "s_per_iter": round(r.fit.seconds / max(1, r.fit.iterations), 4),
                       "precision": r.precision, "preset": r.preset}
                rows.append(row)
                print(f"{name} {task:13s} {net:9s} {r.psnr:6.2f} dB ({base[0]} {base[1]:.2f}) "
                      f"{row['s_per_iter']:.3f} s/it", flush=True)
                meta = results_meta(__file__, args, table="folder")
                io.write_bytes_atomic(args.json, json.dumps({"meta": meta, "rows": rows}, indent=1).encode())
    if args.markdown:
        io.write_bytes_atomic(args.markdown, to_markdown(rows).encode())


def to_markdown(rows: list[dict]) -> str:
    body = [[r["image"], r["task"], r["net"], f"{r['psnr']:.2f}", f"{r['baseline']} {r['baseline_psnr']:.2f}",
             f"{r['psnr'] - r['baseline_psnr']:+.2f}", f"{r['s_per_iter']:.3f}", f"{r['stop']} (at {r['stopped_at']})"]
            for r in rows]
    return markdown_table(["image", "task", "net", "PSNR", "baseline", "gain", "s / iteration", "stop"], body) + "\n"


if __name__ == "__main__":
    main()
