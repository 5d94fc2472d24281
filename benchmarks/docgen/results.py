"""Loaders for the committed results in ``benchmarks/results/`` and the small sums the docs make of them.

Every loader reads a file by name and lets a missing file raise (``FileNotFoundError``): the docs show only
what a committed command wrote, so a missing file is an error, never an empty section.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"
#: The reference's iterations that a full-size run's time is set against (the paper's 1800).
REF_ITERS = 1800

Row = dict[str, Any]


@cache
def load(name: str) -> Any:
    """A JSON results file, parsed (cached: callers must not modify what it returns)."""
    return json.loads((RESULTS / name).read_text(encoding="utf-8"))


def text(name: str) -> str:
    """A Markdown or text results file as the benchmark wrote it, without its outer blank lines."""
    return (RESULTS / name).read_text(encoding="utf-8").strip()


def rows(*names: str) -> list[Row]:
    """The ``rows`` of those JSON results files, in order."""
    return [r for n in names for r in load(n)["rows"]]


def with_companion(name: str) -> list[Row]:
    """The rows of a results file and of its ``_b`` companion if one was committed (a second process's images,
    written into a file of its own beside the first)."""
    companion = name.replace(".json", "_b.json")
    return rows(name, *((companion,) if (RESULTS / companion).exists() else ()))


def field(name: str, path: str) -> Any:
    """The value at ``path`` in a JSON results file: keys and list indices joined by dots; ``key=value`` picks
    the first list element whose ``key`` reads ``value`` (``rows.image=F16.psnr``)."""
    node = load(name)
    for part in path.split("."):
        if isinstance(node, list):
            if "=" in part:
                key, want = part.split("=", 1)
                found = [x for x in node if str(x.get(key)) == want]
                if not found:
                    raise KeyError(f"no element with {key}={want} in {name}")
                node = found[0]
            else:
                node = node[int(part)]
        else:
            node = node[part]
    return node


def mean(values: Iterable[float]) -> float:
    vals = list(values)
    return sum(vals) / len(vals)


def at(history: list[Row], it: int) -> float | None:
    """The averaged output's PSNR logged at iteration ``it`` (the nearest logged one at or below it)."""
    best = None
    for h in history:
        if h["iteration"] <= it and h.get("psnr") is not None:
            best = h["psnr"]
    return best


def first_reaching(history: list[Row], psnr: float) -> int | None:
    """The first logged iteration whose PSNR is at least ``psnr``."""
    return next((h["iteration"] for h in history if (h.get("psnr") or 0) >= psnr), None)


def last_iteration(row: Row) -> int:
    return max(h["iteration"] for h in row["history"])


def disturbed(row: Row) -> bool:
    """Whether a full-size row's reference timings before and after the fit disagree: one more than 30 % above
    the other (another job disturbed it)."""
    a, b = row["reference_s_per_iter"]
    return max(a, b) > 1.3 * min(a, b)


def ref_s(row: Row) -> float:
    """The reference's seconds per iteration of a full-size row: the mean of its timings before and after the
    fit, unless they are :func:`disturbed`: then the smaller one."""
    a, b = row["reference_s_per_iter"]
    return min(a, b) if disturbed(row) else (a + b) / 2


def ratio(row: Row) -> float:
    """A full-size row's time over 1800 iterations of the reference."""
    return row["seconds"] / (REF_ITERS * ref_s(row))


def eval_rows(name: str, condition: str | None = None) -> list[Row]:
    """The rows of a ``stop_eval.py`` results file and its ``_b`` companion, of one condition if given."""
    return [r for r in with_companion(name) if condition is None or r["condition"] == condition]


def md_rows(name: str) -> list[list[str]]:
    """The body rows of the Markdown tables in a results file, as lists of stripped cells (header rows out)."""
    lines = text(name).splitlines()
    body = [ln for i, ln in enumerate(lines) if ln.startswith("|") and not ln.startswith("|---")
            and not (i + 1 < len(lines) and lines[i + 1].startswith("|---"))]
    return [[c.strip() for c in ln.strip().strip("|").split("|")] for ln in body]


def md_cell(name: str, first: str, column: int) -> str:
    """The cell in ``column`` of the first table row whose first cell reads ``first``."""
    return next(r for r in md_rows(name) if r[0] == first)[column]


def number(cell: str, k: int = 0) -> float:
    """The ``k``-th number written in a table cell (``"0.25 dB / 74 %"``: 0.25, then 74)."""
    return float(re.findall(r"-?\d+(?:\.\d+)?", cell)[k])
