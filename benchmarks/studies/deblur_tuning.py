"""Deblurring presets: the F16 crop of `deepprior bench deblur` (96x96, Gaussian blur 1.6, noise sigma 2,
seed 0) fitted by `fast` with a given learning rate and input perturbation, PSNR every 250 iterations.

    .venv/bin/python benchmarks/studies/deblur_tuning.py LR REG_NOISE ITERS IMAGES [--json FILE]

(oracle figures: PSNR against the ground truth along the run; they chose the preset, they are not results)
"""
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

import deepprior
import deepprior.tasks.deblur as d
from deepprior import io
from deepprior.benchdata import centre, load
from deepprior.physics import Blur, GaussianNoise
from deepprior.tasks.denoise import DENOISE_IMAGES

lr, reg, iters, name = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
json_path = sys.argv[sys.argv.index("--json") + 1] if "--json" in sys.argv else None
base = d.PRESETS["fast"]
d.PRESETS["fast"] = lambda info: replace(base(info), fit=replace(base(info).fit, reg_noise_std=reg))
out = {}
for img in name.split(","):
    gt = centre(load(Path(f"../shared/data/dip-paper/denoising/sigma25/{img}_GT.png")), 96)
    gen = torch.Generator().manual_seed(DENOISE_IMAGES.index(img))  # as the deblur table draws it
    blurred = Blur.from_spec("gaussian:1.6").A(io.to_tensor(gt))
    y = io.quantize(io.from_tensor(GaussianNoise(2 / 255)(blurred, generator=gen).clamp(0, 1)), 8)
    t = time.perf_counter()
    r = deepprior.deblur(y, kernel="gaussian:1.6", sigma=2, num_iter=iters, lr=lr, threads=1, reference=gt, seed=0)
    curve = {h["iteration"]: round(h["psnr"], 2) for h in r.fit.history if h["iteration"] % 250 == 0}
    out[img] = {"final": round(r.psnr, 2), "curve": curve, "seconds": round(time.perf_counter() - t)}
    print(lr, reg, img, out[img], flush=True)
if json_path:
    Path(json_path).write_text(json.dumps({"command": " ".join(sys.argv), "runs": out}, indent=1) + "\n")
