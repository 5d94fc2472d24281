"""PG-DIP against the skip network, side by side: time to the same PSNR, and PSNR at the same time.

Both networks have the `fast` preset's width (64 channels, 5 levels, 4 skip channels), precision and fit
settings; ``pg`` grows them coarse to fine (schedule: 50 / 70 + 50 per stage, full size from iteration
481). Each fit runs a fixed count on a 128x128 centre crop (``--crop``; 0: the whole image, untiled) of the
paper's own sigma-25 noisy image (``--device``: where; the preset is `fast` on any device), the two
networks one after the other in one process, so their seconds are comparable (other jobs on the machine
slow both alike). The ground truth only scores the logged history (every 10 iterations).

Figures per image, from the histories:

- best PSNR of each network along the run and when it was reached (iterations, seconds) — oracle;
- time to reach a common target, the lower of the two best PSNRs minus 0.1 dB, and the ratio skip / pg;
- PSNR of pg at the time skip needed for its best.

    .venv/bin/python benchmarks/studies/pg_vs_skip.py --threads 1 --json benchmarks/results/pg_vs_skip_crop128.json \
        --markdown benchmarks/results/pg_vs_skip_crop128.md
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import _path  # noqa: F401  (puts benchmarks/ on sys.path: common, docgen)
from common import DATA, centre_crop, markdown_table, results_meta
from deepprior import api, io


def first_time(history: list[dict], target: float) -> tuple[int, float] | None:
    for h in history:
        if h["psnr"] is not None and h["psnr"] >= target:
            return h["iteration"], h["seconds"]
    return None


def psnr_at(history: list[dict], seconds: float) -> float:
    before = [h for h in history if h["seconds"] <= seconds and h["psnr"] is not None]
    return before[-1]["psnr"] if before else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--images", nargs="+", default=["F16", "kodim03", "peppers"])
    ap.add_argument("--crop", type=int, default=128, help="centre crop SIZE x SIZE; 0: the whole image (untiled)")
    ap.add_argument("--iters", type=int, default=1500)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--json", type=Path, required=True)
    ap.add_argument("--markdown", type=Path)
    args = ap.parse_args()
    rows = []
    root = args.data / "dip-paper/denoising/sigma25"
    for name in args.images:
        gt, noisy = (io.load_image(root / f"{name}_{kind}.png").pixels for kind in ("GT", "noisy"))
        if args.crop:
            gt, noisy = centre_crop(gt, args.crop), centre_crop(noisy, args.crop)
        runs: dict[str, dict[str, Any]] = {}
        for net in ("skip", "pg"):
            r = api.denoise(noisy, sigma=25, net=net, preset="fast", num_iter=args.iters, stop="none", reference=gt,
                            threads=args.threads, device=args.device, tile=0)
            hist = [h for h in r.fit.history if h["psnr"] is not None]
            best = max(hist, key=lambda h: h["psnr"])
            runs[net] = {"history": hist, "best": best, "seconds": r.fit.seconds,
                         "s_per_iter": r.fit.seconds / max(1, r.fit.iterations), "final_psnr": r.psnr}
        target = min(runs["skip"]["best"]["psnr"], runs["pg"]["best"]["psnr"]) - 0.1
        reach = {net: first_time(run["history"], target) for net, run in runs.items()}
        row = {
            "image": name, "target_psnr": round(target, 3),
            **{f"{net}_{k}": v for net, run in runs.items() for k, v in (
                ("best_psnr", run["best"]["psnr"]), ("best_iteration", run["best"]["iteration"]),
                ("best_seconds", run["best"]["seconds"]), ("s_per_iter", round(run["s_per_iter"], 4)),
                ("final_psnr", run["final_psnr"]))},
            "skip_reach": reach["skip"], "pg_reach": reach["pg"],
            "speedup": (reach["skip"][1] / reach["pg"][1]) if reach["skip"] and reach["pg"] else None,
            "pg_psnr_at_skip_best_time": psnr_at(runs["pg"]["history"], runs["skip"]["best"]["seconds"]),
            "histories": {net: run["history"] for net, run in runs.items()},
        }
        rows.append(row)
        print(f"{name}: skip best {row['skip_best_psnr']:.2f} @ {row['skip_best_seconds']:.0f} s, pg best "
              f"{row['pg_best_psnr']:.2f} @ {row['pg_best_seconds']:.0f} s; to {target:.2f} dB: skip {reach['skip']}, "
              f"pg {reach['pg']}, speed-up {row['speedup']}", flush=True)
        out = {"meta": results_meta(__file__, args), "rows": rows}
        io.write_bytes_atomic(args.json, json.dumps(out, indent=1).encode())
    if args.markdown:
        io.write_bytes_atomic(args.markdown, to_markdown(rows).encode())


def _reach(v: Sequence[float] | None) -> str:
    """A time and iteration reached (``[iteration, seconds]``), or never."""
    return "never" if v is None else f"{v[1]:.0f} s ({v[0]} it)"


def to_markdown(rows: list[dict]) -> str:
    body = [[r["image"], f"{r['skip_best_psnr']:.2f}", f"{r['skip_best_seconds']:.0f} s ({r['skip_best_iteration']})",
             f"{r['pg_best_psnr']:.2f}", f"{r['pg_best_seconds']:.0f} s ({r['pg_best_iteration']})",
             f"{r['target_psnr']:.2f}", _reach(r["skip_reach"]), _reach(r["pg_reach"]),
             "–" if r["speedup"] is None else f"{r['speedup']:.2f}x", f"{r['pg_psnr_at_skip_best_time']:.2f}",
             f"{r['skip_s_per_iter']:.3f} / {r['pg_s_per_iter']:.3f}"] for r in rows]
    return markdown_table(["image", "skip best (oracle)", "at", "pg best (oracle)", "at", "target", "skip reaches it",
                           "pg reaches it", "speed-up", "pg at skip's best time", "s/it skip / pg"], body) + "\n"


if __name__ == "__main__":
    main()
