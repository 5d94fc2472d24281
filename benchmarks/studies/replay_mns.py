"""Replay adaptive method-noise stopping with longer waits on the histories of `stop_eval.py` fits.

Each history holds, every 10 iterations, the PSNR of the averaged output against the noisy input, hence the
method-noise statistic ``m = 255 * 10^(-psnr_input / 20)``. The adaptive threshold is the expected RMS of
Gaussian noise after clipping (``clipped_gaussian_mse``), evaluated here on the ground truth instead of on
the averaged output (the online rule's input, which the history does not keep): a replay at 10-iteration
resolution, not an online run. After the first check below the threshold the rule waits ``24 x pace``
iterations (25 hits; the statistic stays below once it has crossed in these fits); the wait multipliers
compare the fixed pace of 10 (250 iterations) with the size-scaled one (``round(10 sqrt(side / 128))``:
x1.4 at 256x256) and longer ones. Gaps are to the run's oracle peak (ground truth: an upper bound).
Gaussian conditions only (the other noise models' expected residual needs the averaged image), unless the
fits carry the online rule's trace (``stop_eval.py`` records it now): then the first hit is the online one,
for any noise model, and only the wait is replayed.

    .venv/bin/python benchmarks/studies/replay_mns.py benchmarks/results/stop_eval_crop256.json --crop 256 \\
        --markdown benchmarks/results/replay_mns_crop256.md
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import torch

import _path  # noqa: F401  (puts benchmarks/ on sys.path: common, docgen)
from common import DATA, centre_crop
from deepprior import io
from deepprior.fit.stopping import clipped_gaussian_mse
from docgen.replay import first_hit_online, replay_from

WAITS = (1.0, math.sqrt(2.0), 2.0, 3.0)


def threshold(clean: np.ndarray, sigma: float) -> float:
    return math.sqrt(float(clipped_gaussian_mse(torch.from_numpy(clean.astype(np.float64)), sigma / 255).mean())) * 255


def replay(history: list[dict], thr: float, wait: float) -> tuple[int, float]:
    first = None
    for h in history:
        if h["iteration"] % 10:
            continue
        if first is None and 255 * 10 ** (-h["psnr_input"] / 20) < thr:
            first = h["iteration"]
        if first is not None and h["iteration"] - first >= 240 * wait:
            return h["iteration"], h["psnr"]
    return history[-1]["iteration"], history[-1]["psnr"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", type=Path)
    ap.add_argument("--crop", type=int, required=True)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--markdown", type=Path)
    ap.add_argument("--online-pace", type=int, default=None,
                    help="the pace the fits' observers ran with: replay from their online first hit")
    ap.add_argument("--waits", type=float, nargs="+", default=list(WAITS),
                    help="wait multipliers (x1: 24 checks 10 iterations apart after the first hit)")
    args = ap.parse_args()
    waits = tuple(args.waits)
    rows = json.loads(args.results.read_text())["rows"]
    root = args.data / "dip-paper/denoising/sigma25"
    lines = ["| condition | images | " + " | ".join(f"wait x{w:.2g} ({round(240 * w + 10)} it): gap / iterations"
                                                for w in waits) + " |", "|---|---|" + "---|" * len(waits)]
    for cond in sorted({r["condition"] for r in rows}):
        online = all(first_hit_online(r, args.online_pace) is not None for r in rows if r["condition"] == cond)
        if not cond.startswith("gaussian-") and not online:
            continue
        sel = [r for r in rows if r["condition"] == cond and "history" in r]
        cells = []
        for w in waits:
            gaps, its = [], []
            for r in sel:
                first = first_hit_online(r, args.online_pace)
                if first is not None:  # the online rule's own first hit (-1: never)
                    it, p = replay_from(r["history"], first if first >= 0 else 10**9, w)
                else:
                    gt = centre_crop(io.load_image(root / f"{r['image']}_GT.png").pixels, args.crop)
                    it, p = replay(r["history"], threshold(gt, float(cond.split("-")[1])), w)
                gaps.append(r["oracle_psnr"] - p)
                its.append(it / r["cap"])
            cells.append(f"{np.mean(gaps):.2f} dB / {100 * np.mean(its):.0f} %")
        lines.append(f"| {cond}{' (online first hit)' if online else ''} | {len(sel)} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.markdown:
        io.write_bytes_atomic(args.markdown, text.encode())


if __name__ == "__main__":
    main()
