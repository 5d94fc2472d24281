"""Network width against speed of convergence (issue #6): the `fast` skip network with fewer channels.

Runs `fast` (bfloat16, channels-last) with every level's down/up channels set to each width (skip channels
stay 4) on the reference F16 crop of issue #6 (256x256, x and y from 128 to 384 of the paper's sigma-25
noisy image), `--sigma 25 --stop none`, and records the averaged output's PSNR every 10 iterations (the
ground truth only scores). The width (64 until this study, then 48) is swapped in through
``deepprior.tasks.denoise.FAST_DENOISE_NET``, which the `fast` preset reads when it is resolved.

    .venv/bin/python benchmarks/studies/width_study.py --widths 32 --lr 0.003 --iters 2000 --threads 1 --json OUT.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import _path  # noqa: F401  (puts benchmarks/ on sys.path: common, docgen)
from common import DATA, reference_crop, save_curve_run
from deepprior import api
from deepprior.nets import SkipConfig
from deepprior.tasks import denoise as presets


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--image", default="F16")
    ap.add_argument("--widths", type=int, nargs="+", default=[32, 48])
    ap.add_argument("--lr", type=float, default=presets.FAST_DENOISE_LR)
    ap.add_argument("--iters", type=int, default=1500)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--json", type=Path, required=True)
    args = ap.parse_args()
    noisy, gt = reference_crop(args.data, args.image)
    runs = {}
    if args.json.exists():
        runs = json.loads(args.json.read_text())["runs"]
    for width in args.widths:
        net = SkipConfig(channels_down=(width,) * 5, channels_up=(width,) * 5, channels_skip=(4,) * 5)
        presets.FAST_DENOISE_NET = net
        r = api.denoise(noisy, sigma=25, reference=gt, preset="fast", lr=args.lr, num_iter=args.iters,
                        stop="none", threads=args.threads)
        save_curve_run(runs, f"w{width}-lr{args.lr}", f"width {width} lr {args.lr}", r,
                       {"width": width, "lr": args.lr}, __file__, args, args.json)

if __name__ == "__main__":
    main()
