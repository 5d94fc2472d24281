"""Full-size denoising against the paper's time (issue #6): the default command on the paper's own images.

For each of the paper's sigma-25 noisy images at full size, the default `deepprior denoise` (preset
``fast``, automatic stopping; the sigma is given with ``--sigma 25`` unless ``--blind``) is scored against
its ground truth, and its wall time is set against the reference: the paper network in float32 with the
paper's settings, whose averaged output gives 30.43 dB mean on this set after 1800 iterations (the DIP
paper's figure). The reference time is 1800 x its per-iteration time measured in this same run on the same
image size (iterations 4-13, after 3 of warm-up), so seconds drift alike; the ratio is ours over that.

    .venv/bin/python benchmarks/full_size.py --images F16 --json benchmarks/results/full_size_sigma25.json

Each row also holds ``call_s`` (the whole API call: tiles, workers' start-up, blending) and ``ratio_call``
(that over the reference), the CPU seconds of this process and its tile workers, and the 1-minute load
average before and after (a load above the threads given means another job shared the machine).

With ``--work-dir DIR`` a tiled run saves each finished tile in ``DIR/IMAGE`` and a rerun of the same command
resumes from them (``resume=True``): a run that a session's end cut off keeps its tiles. The row then counts
``resumed_tiles``, and its seconds are only the last call's, so its time is not a timing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path
from typing import Any

from common import DATA, paper_s_per_iter
from deepprior import api, io
from deepprior.bench.harness import BenchConfig, metadata

REF_ITERS = 1800
IMAGES = ["F16", "baboon", "hill", "kodim01", "kodim02", "kodim03", "kodim12", "lena", "peppers"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--images", nargs="+", default=IMAGES)
    ap.add_argument("--blind", action="store_true", help="do not give --sigma 25 (the noise is estimated)")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--tile", type=int, default=None,
                    help="restore in tiles of this size (issue #20, lever 1); 0: untiled [the default's rule]")
    ap.add_argument("--overlap", type=int, default=None, help="[16, or the default rule's]")
    ap.add_argument("--lr", type=float, default=None, help="learning rate (default: the preset's)")
    ap.add_argument("--work-dir", type=Path, default=None,
                    help="save finished tiles in WORK_DIR/IMAGE and resume from them (a cut-off run keeps its tiles)")
    ap.add_argument("--json", type=Path, required=True)
    args = ap.parse_args()
    rows = json.loads(args.json.read_text())["rows"] if args.json.exists() else []
    done = {r["image"] for r in rows}
    root = args.data / "dip-paper/denoising/sigma25"
    for name in args.images:
        if name in done:
            continue
        noisy = io.load_image(root / f"{name}_noisy.png").pixels
        gt = io.load_image(root / f"{name}_GT.png").pixels
        before = paper_s_per_iter(noisy, args.threads)
        options: dict[str, Any] = {} if args.tile is None else {"tile": args.tile}
        if args.overlap is not None:
            options["overlap"] = args.overlap
        if args.lr is not None:
            options["lr"] = args.lr
        if not args.blind:
            options["sigma"] = 25
        resumed = 0
        if args.work_dir is not None:
            options.update(work_dir=args.work_dir / name, resume=True)
            resumed = len(list((args.work_dir / name).glob("tile_*.npy")))
        load_before = os.getloadavg()[0]
        cpu_before = _cpu_seconds()
        started = time.perf_counter()
        r = api.denoise(noisy, reference=gt, threads=args.threads, **options)
        call_s = time.perf_counter() - started
        cpu_s = _cpu_seconds() - cpu_before
        load_after = os.getloadavg()[0]
        after = paper_s_per_iter(noisy, args.threads)
        ref_s = (before + after) / 2
        tiling = r.config["tiling"] or {}
        scored = [h for h in r.fit.history if h.get("psnr") is not None]  # tiled fits score no whole image
        best = max(scored, key=lambda h: h["psnr"]) if scored else {"psnr": None, "iteration": None}
        rows.append({"image": name, "size": list(noisy.shape[:2]), "psnr": r.psnr, "ssim": r.ssim,
                     "iterations": r.fit.iterations, "stop": r.config["stop"], "seconds": round(r.fit.seconds, 1),
                     "oracle_psnr": best["psnr"], "oracle_iteration": best["iteration"],
                     "reference_s_per_iter": [round(before, 3), round(after, 3)],
                     "ratio_to_reference": r.fit.seconds / (REF_ITERS * ref_s), "preset": r.preset,
                     "precision": r.precision, "threads": r.threads,
                     "tile": tiling.get("tile"), "overlap": tiling.get("overlap"), "workers": tiling.get("workers"),
                     "why": tiling.get("why"), "lr": r.config["fit"]["lr"], "call_s": round(call_s, 1),
                     "ratio_call": call_s / (REF_ITERS * ref_s), "cpu_s": round(cpu_s, 1),
                     "load_1min": [round(load_before, 2), round(load_after, 2)], "resumed_tiles": resumed,
                     "history": r.fit.history})
        print(f"{name}: {r.psnr:.2f} dB at {r.fit.iterations} it in {r.fit.seconds:.0f} s; reference "
              f"{ref_s:.2f} s/it -> ratio {rows[-1]['ratio_to_reference']:.3f}", flush=True)
        meta = {**metadata(BenchConfig(table="denoise")), "command": "benchmarks/full_size.py",
                "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}}
        io.write_bytes_atomic(args.json, json.dumps({"meta": meta, "rows": rows}, indent=1).encode())
    n = len(rows)
    if n:
        print(f"mean over {n}: {sum(r['psnr'] for r in rows) / n:.2f} dB, ratio "
              f"{sum(r['ratio_to_reference'] for r in rows) / n:.3f}")


def _cpu_seconds() -> float:
    """User and system CPU seconds of this process and its finished children (the tile workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


if __name__ == "__main__":
    main()
