"""Replay method-noise stopping on the histories of fixed-count benchmark runs.

The history of a run holds, every 10 iterations, the PSNR of the averaged output against the noisy input,
hence the method-noise statistic ``m = 255 * 10^(-psnr_input / 20)``. This script finds where the static
rule (threshold ``0.978 sigma``) would have stopped, for two check schedules, and compares the PSNR there
(from the same history) with the run's best PSNR (an oracle figure: it needs the ground truth). It is a
simulation at 10-iteration resolution, not an online run; online runs are in docs/benchmarks.md.

    .venv/bin/python benchmarks/studies/simulate_mns.py benchmarks/results/denoise_sigma25_crop128_fast.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def replay(history: list[dict], sigma: float, extra_steps: int) -> dict:
    stop = history[-1]
    for i, h in enumerate(history):
        if 255 * 10 ** (-h["psnr_input"] / 20) < 0.978 * sigma:
            stop = history[min(i + extra_steps, len(history) - 1)]
            break
    return stop


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", type=Path, help="a harness table's JSON (``deepprior bench denoise --json``)")
    data = json.loads(ap.parse_args().results.read_text())
    # 25 hits checked every iteration: about 3 history steps past the crossing; every 10: 25 steps.
    schedules = {"every iteration": 3, "every 10 iterations": 25}
    print("| image | fixed count: final | best (oracle) | " + " | ".join(f"checks {k}: stop, PSNR" for k in schedules)
          + " |")
    print("|---|---|---|" + "---|" * len(schedules))
    sums = {k: [0.0, 0.0] for k in schedules}
    gap_fixed = 0.0
    rows = data["rows"]
    for r in rows:
        history = r["deepprior"]["history"]
        sigma = float(r["group"].replace("sigma", ""))
        best = max(h["psnr"] for h in history)
        gap_fixed += best - history[-1]["psnr"]
        cells = []
        for k, extra in schedules.items():
            s = replay(history, sigma, extra)
            sums[k][0] += best - s["psnr"]
            sums[k][1] += s["iteration"]
            cells.append(f"{s['iteration']}, {s['psnr']:.2f}")
        print(f"| {r['image']} | {history[-1]['psnr']:.2f} | {best:.2f} | " + " | ".join(cells) + " |")
    n = len(rows)
    print(f"| **mean gap to best** | **{gap_fixed / n:.2f}** | | "
          + " | ".join(f"**{v[0] / n:.2f}** dB after {v[1] / n:.0f} iterations" for v in sums.values()) + " |")


if __name__ == "__main__":
    main()
