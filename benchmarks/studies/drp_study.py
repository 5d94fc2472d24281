"""Deep Random Projector (issue #20, lever 3): optimise the input, keep the convolutions frozen.

Li, Wang, Zhuang and Sun, "Deep Random Projector: Accelerated Deep Image Prior", CVPR 2023. Facts from
../shared/METHODS.md: the skip network with one scale (64 channels, 4 skip channels, bilinear), its
convolution weights frozen at their random initialisation, batch norms trainable; a trainable 3-channel
Gaussian seed (std 0.1) through its own batch norm; loss sqrt(MSE) + lam * TV (L1 total variation of the
output); Adam lr 0.1; no input perturbation, no output averaging.

This is a study, not the product: it fits one noisy image with that recipe and records the PSNR of the
output (against the ground truth: an oracle curve, for choosing whether the lever pays) and the wall time
every ``--every`` iterations, beside the default's curve from the same image when given.

    .venv/bin/python benchmarks/studies/drp_study.py --image F16 --crop 256 --iters 1500 --threads 1 \
        --json benchmarks/results/drp_f16_256.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

import _path  # noqa: F401  (puts benchmarks/ on sys.path: common, docgen)
from common import DATA, centre_crop, given, script_name
from deepprior import io
from deepprior.bench.meta import run_metadata
from deepprior.metrics import psnr
from deepprior.nets.skip import SkipConfig, SkipNet


def tv_l1(x: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference between neighbouring pixels (anisotropic total variation)."""
    return (x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., :, 1:] - x[..., :, :-1]).abs().mean()


def fit(noisy: np.ndarray, gt: np.ndarray, *, iters: int, lr: float, lam: float, width: int, scales: int,
        every: int, seed: int, bf16: bool) -> dict:
    torch.manual_seed(seed)
    y = io.to_tensor(noisy)
    c = y.shape[1]
    cfg = SkipConfig(channels_down=(width,) * scales, channels_up=(width,) * scales, channels_skip=(4,) * scales)
    net = SkipNet(c, c, cfg)
    for m in net.modules():
        if isinstance(m, torch.nn.Conv2d):
            for p in m.parameters():
                p.requires_grad_(False)
    seed_in = torch.nn.Parameter(torch.randn(1, c, *y.shape[-2:]) * 0.1)
    seed_bn = torch.nn.BatchNorm2d(c)
    params = [seed_in, *seed_bn.parameters(), *(p for p in net.parameters() if p.requires_grad)]
    opt = torch.optim.Adam(params, lr=lr)
    curve = []
    start = time.perf_counter()
    for t in range(1, iters + 1):
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = net(seed_bn(seed_in))
        out = out.float()
        loss = torch.sqrt(torch.mean((out - y) ** 2)) + lam * tv_l1(out)
        loss.backward()
        opt.step()
        if t % every == 0 or t == iters:
            elapsed = time.perf_counter() - start
            img = out.detach().clamp(0, 1)[0].permute(1, 2, 0).numpy()
            curve.append({"iteration": t, "seconds": round(elapsed, 2), "loss": float(loss.detach()),
                          "psnr": psnr(img, gt)})
    return {"curve": curve, "trainable": sum(p.numel() for p in params)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--image", default="F16")
    ap.add_argument("--crop", type=int, default=0, help="centre crop side (0: the whole image)")
    ap.add_argument("--iters", type=int, default=1500)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--lam", type=float, nargs="+", default=[0.45])
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--scales", type=int, default=1)
    ap.add_argument("--every", type=int, default=25)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fp32", action="store_true")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--json", type=Path, required=True)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    root = args.data / "dip-paper/denoising/sigma25"
    noisy = io.load_image(root / f"{args.image}_noisy.png").pixels
    gt = io.load_image(root / f"{args.image}_GT.png").pixels
    if args.crop:
        noisy, gt = centre_crop(noisy, args.crop), centre_crop(gt, args.crop)
    out = json.loads(args.json.read_text()) if args.json.exists() else {"runs": {}}
    out["meta"] = {**run_metadata(given(args)), "command": script_name(__file__)}
    for lam in args.lam:
        key = f"{args.image} crop{args.crop} w{args.width} s{args.scales} lr{args.lr} lam{lam}"
        r = fit(noisy, gt, iters=args.iters, lr=args.lr, lam=lam, width=args.width, scales=args.scales,
                every=args.every, seed=args.seed, bf16=not args.fp32)
        best = max(r["curve"], key=lambda p: p["psnr"])
        out["runs"][key] = r
        print(f"{key}: best {best['psnr']:.2f} dB @ {best['iteration']} ({best['seconds']:.0f} s); "
              f"last {r['curve'][-1]['psnr']:.2f} @ {r['curve'][-1]['iteration']} "
              f"({r['curve'][-1]['seconds']:.0f} s)", flush=True)
        io.write_bytes_atomic(args.json, json.dumps(out, indent=1).encode())


if __name__ == "__main__":
    main()
