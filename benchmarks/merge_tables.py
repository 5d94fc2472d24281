"""Merge result files of one benchmark table run in parts (for example one process per image set).

The rows are concatenated in the order given, the means recomputed by the harness's own code, and the
Markdown rewritten; the meta of every part is kept under ``meta["parts"]``.

    .venv/bin/python benchmarks/merge_tables.py --out benchmarks/results/sr_x4_crop128_fast \
        benchmarks/results/sr_x4_set5_crop128_fast.json benchmarks/results/sr_x4_set14_crop128_fast.json \
        --command "..."
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from deepprior.bench.harness import means, write_outputs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("parts", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, required=True, help="output stem: writes STEM.json and STEM.md")
    ap.add_argument("--command", default="", help="the commands that produced the parts, for the Markdown")
    args = ap.parse_args()
    parts = [json.loads(p.read_text()) for p in args.parts]
    tables = {p["meta"]["config"]["table"] for p in parts}
    if len(tables) != 1:
        raise SystemExit(f"the parts come from different tables: {sorted(tables)}")
    rows = [r for p in parts for r in p["rows"]]
    meta = {**parts[0]["meta"], "parts": [p["meta"] for p in parts]}
    result = {"meta": meta, "rows": rows, "means": means(rows)}
    write_outputs(result, json_path=args.out.with_suffix(".json"), markdown_path=args.out.with_suffix(".md"),
                  plots=None, command=args.command)


if __name__ == "__main__":
    main()
