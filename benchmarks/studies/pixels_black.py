"""Table 1's pixels that the masked file cannot tell apart: black in the ground truth, so black in the masked file
whether the paper's mask kept them or not (the harness reads "known" as "not black"). Counts them per image and
scores the published DIP and Papyan et al. outputs with and without them.

    .venv/bin/python benchmarks/studies/pixels_black.py --json benchmarks/results/pixels_black.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import _path  # noqa: F401  (puts benchmarks/ on sys.path: common)
from common import DATA, results_meta
from deepprior.bench import BenchConfig
from deepprior.benchdata import score
from deepprior.tasks.inpaint import pixel_cases


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--json", type=Path, required=True)
    args = ap.parse_args()
    rows = []
    for case in pixel_cases(BenchConfig(table="pixels"), args.data):
        n = 0 if case.ambiguous is None else int(case.ambiguous.sum())
        row = {"image": case.name, "size": list(case.reference.shape[:2]), "ambiguous_pixels": n,
               "black_in_ground_truth": int((case.reference == 0).sum()),
               **{label: score(case, img) for label, img in case.published.items()}}
        rows.append(row)
        print(f"{case.name:<14} {n:>4} ambiguous pixels; " + "; ".join(
            f"{label} {s['psnr']:.2f} dB ({s.get('psnr_unambiguous', s['psnr']):.2f} without them)"
            for label, s in row.items() if isinstance(s, dict)))
    args.json.write_text(json.dumps({"meta": results_meta(__file__, args, table="pixels"), "rows": rows}, indent=1)
                         + "\n")


if __name__ == "__main__":
    main()
