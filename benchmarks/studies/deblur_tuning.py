"""Deblurring presets: the F16 crop of `deepprior bench deblur` (96x96, Gaussian blur 1.6, noise sigma 2,
seed 0) fitted by `fast` with a given learning rate and input perturbation, PSNR every 250 iterations.

    .venv/bin/python benchmarks/studies/deblur_tuning.py LR REG_NOISE ITERS IMAGES [--json FILE]

(oracle figures: PSNR against the ground truth along the run; they chose the preset, they are not results)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

import _path  # noqa: F401  (puts benchmarks/ on sys.path: common, docgen)
import deepprior
import deepprior.tasks.deblur as d
from common import DATA
from deepprior import io
from deepprior.benchdata import centre, load
from deepprior.physics import Blur, GaussianNoise
from deepprior.tasks.denoise import DENOISE_IMAGES


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("lr", type=float, help="learning rate")
    ap.add_argument("reg_noise", type=float, help="input perturbation (the preset's reg_noise_std)")
    ap.add_argument("iters", type=int)
    ap.add_argument("images", help="comma-separated names of the paper's sigma-25 set (F16,hill)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    base = d.PRESETS["fast"]
    d.PRESETS["fast"] = lambda info: replace(base(info), fit=replace(base(info).fit, reg_noise_std=args.reg_noise))
    out = {}
    for img in args.images.split(","):
        gt = centre(load(DATA / f"dip-paper/denoising/sigma25/{img}_GT.png"), 96)
        gen = torch.Generator().manual_seed(DENOISE_IMAGES.index(img))  # as the deblur table draws it
        blurred = Blur.from_spec("gaussian:1.6").A(io.to_tensor(gt))
        y = io.quantize(io.from_tensor(GaussianNoise(2 / 255)(blurred, generator=gen).clamp(0, 1)), 8)
        t = time.perf_counter()
        r = deepprior.deblur(y, kernel="gaussian:1.6", sigma=2, num_iter=args.iters, lr=args.lr, threads=1,
                             reference=gt, seed=0)
        assert r.psnr is not None  # scored: the reference was given
        curve = {h["iteration"]: round(h["psnr"], 2) for h in r.fit.history if h["iteration"] % 250 == 0}
        out[img] = {"final": round(r.psnr, 2), "curve": curve, "seconds": round(time.perf_counter() - t)}
        print(args.lr, args.reg_noise, img, out[img], flush=True)
    if args.json:
        args.json.write_text(json.dumps({"command": " ".join(sys.argv), "runs": out}, indent=1) + "\n")


if __name__ == "__main__":
    main()
