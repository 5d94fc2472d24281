"""Time to quality (issue #6): the default `deepprior denoise` against the paper's reference curve.

The reference (issue #6): the paper network in float32 with the paper's denoising settings, on the 256x256
crop (x and y from 128 to 384) of the paper's sigma-25 noisy F16, reaches 30.54 dB at iteration 1000.
Iteration counts carry across machines, seconds do not, so the reference's time is 1000 x its
per-iteration time measured *in this run* (before and after the default runs, averaged).

Runs: the default command (blind: ``deepprior denoise noisy.png``), and with ``--sigma 25``; both with
``--stop auto``. Figures: PSNR at the stop, iterations, seconds, the first time the run's averaged output
reached 30.54 dB (from the history: every 10 iterations), and the ratios against the reference.

    .venv/bin/python benchmarks/time_to_quality.py --json benchmarks/results/time_to_quality_f16_256.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from common import DATA, paper_s_per_iter, reference_crop, results_meta
from deepprior import api, io

REF_ITERS, REF_PSNR = 1000, 30.54
#: The runs: what each passes to ``api.denoise`` besides the image.
RUNS: dict[str, dict[str, Any]] = {"default (blind)": {}, "--sigma 25": {"sigma": 25}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--json", type=Path, required=True)
    args = ap.parse_args()
    noisy, gt = reference_crop(args.data)
    ref_before = paper_s_per_iter(noisy, args.threads)
    runs = {}
    for label, kw in RUNS.items():
        r = api.denoise(noisy, reference=gt, threads=args.threads, **kw)
        reach = next((h for h in r.fit.history if h["psnr"] is not None and h["psnr"] >= REF_PSNR), None)
        runs[label] = {"psnr": r.psnr, "ssim": r.ssim, "iterations": r.fit.iterations, "stopped_at": r.fit.stopped_at,
                       "stop": r.config["stop"], "seconds": r.fit.seconds, "preset": r.preset,
                       "precision": r.precision,
                       "reached_30_54": None if reach is None else {"iteration": reach["iteration"],
                                                                   "seconds": reach["seconds"]},
                       "history": r.fit.history}
        print(label, f"{r.psnr:.2f} dB at {r.fit.iterations} it, {r.fit.seconds:.0f} s", flush=True)
    ref_after = paper_s_per_iter(noisy, args.threads)
    ref_s = (ref_before + ref_after) / 2
    ref_time = REF_ITERS * ref_s
    for run in runs.values():
        run["ratio_to_reference_time"] = run["seconds"] / ref_time
        if run["reached_30_54"] is not None:
            run["ratio_reaching_30_54"] = run["reached_30_54"]["seconds"] / ref_time
    out = {"meta": results_meta(__file__),
           "reference": {"s_per_iter_before": ref_before, "s_per_iter_after": ref_after, "s_per_iter": ref_s,
                         "iterations_to_30_54": REF_ITERS, "seconds_to_30_54": ref_time}, "runs": runs}
    io.write_bytes_atomic(args.json, json.dumps(out, indent=1).encode())
    print(json.dumps({k: {kk: vv for kk, vv in v.items() if kk != "history"} for k, v in runs.items()}, indent=1))
    print("reference s/it", ref_before, ref_after)


if __name__ == "__main__":
    main()
