"""Learning rate against speed of convergence (issue #6): the `fast` preset on the reference F16 crop.

The issue's reference curve is the paper network in float32 on the 256x256 crop (x and y from 128 to 384)
of the paper's sigma-25 noisy F16: 27.37 dB at 500 iterations, 30.54 at 1000, 31.19 at 1500. The `fast`
network (64 channels) at the paper's lr 0.01 needs about 1500 iterations to 30.54. This runs `fast` with
`--sigma 25 --stop none` for each learning rate and records the averaged output's PSNR every 10
iterations (the ground truth only scores; nothing is chosen with it inside a run).

    .venv/bin/python benchmarks/studies/lr_study.py --lrs 0.02 --iters 1000 --threads 1 --json OUT.json
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import _path  # noqa: F401  (puts benchmarks/ on sys.path: common, docgen)
from common import DATA, reference_crop, save_curve_run
from deepprior import api


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--image", default="F16")
    ap.add_argument("--lrs", type=float, nargs="+", default=[0.01, 0.02, 0.03])
    ap.add_argument("--iters", type=int, default=1500)
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--json", type=Path, required=True)
    args = ap.parse_args()
    noisy, gt = reference_crop(args.data, args.image)
    runs: dict[str, Any] = {}
    for lr in args.lrs:
        r = api.denoise(noisy, sigma=25, reference=gt, preset=args.preset, lr=lr, num_iter=args.iters,
                        stop="none", threads=args.threads)
        save_curve_run(runs, str(lr), f"lr {lr}", r, {"lr": lr}, __file__, args, args.json)

if __name__ == "__main__":
    main()
