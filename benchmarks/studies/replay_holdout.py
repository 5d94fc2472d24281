"""Replay ``holdout``'s projected-gain stop with other thresholds on `stop_eval.py` fits that carried it.

The fits keep, at every check (10 iterations), the held-out loss of the averaged output (the rule's trace)
and, in the history, its PSNR against the measurement on the fitted pixels; the rule's whole-image estimate
is rebuilt from those two with the fitted share of the image (the known share of the mask less the 5 %
held out: approximate, the rule counts the pixels it picked). Where the fit returned its known pixels as
given (``keep_known``: pixel restoration since, salt-and-pepper denoising) the estimate is the held-out loss
alone, so the replay is exact up to the 10-iteration resolution. A replay of the rule on the same fit, not an
online run; gaps are to the run's oracle peak (ground truth: an upper bound).

    .venv/bin/python benchmarks/studies/replay_holdout.py benchmarks/results/stop_eval_pixels_crop128.json \\
        --projected 0.5 0.8 1.0
    .venv/bin/python benchmarks/studies/replay_holdout.py benchmarks/results/stop_eval_w48_crop256_saltpepper.json \\
        benchmarks/results/stop_eval_w48_crop256_saltpepper_b.json --condition salt-pepper-0.1
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import _path  # noqa: F401  (puts benchmarks/ on sys.path: common, docgen)
from common import DATA, centre_crop
from deepprior import io
from docgen.replay import replay_holdout as replay


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", type=Path, nargs="+")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--condition", default="pixels-50")
    ap.add_argument("--projected", type=float, nargs="+", default=[0.5, 0.8, 1.0])
    args = ap.parse_args()
    datas = [json.loads(p.read_text()) for p in args.results]
    rows = [r for d in datas for r in d["rows"] if r["condition"] == args.condition]
    crop = datas[0]["meta"]["args"]["crop"]
    print("| projected (dB) | images | gap (mean / max) | iterations run (mean) |\n|---|---|---|---|")
    for p in args.projected:
        gaps, fracs = [], []
        for r in rows:
            if r.get("keep_known"):
                share = 0.0
            else:
                masked = io.load_image(args.data / f"dip-paper/pixels50/{r['image']}_masked.png").pixels
                share = float((centre_crop(masked, crop).mean(axis=2) != 0).mean()) * 0.95
            it, psnr = replay(r, share, p, window=r["cap"] // 10)
            gaps.append(r["oracle_psnr"] - psnr)
            fracs.append(it / r["cap"])
        print(f"| {p:g} | {len(rows)} | {np.mean(gaps):.2f} / {max(gaps):.2f} dB | {100 * np.mean(fracs):.0f} % |")


if __name__ == "__main__":
    main()
