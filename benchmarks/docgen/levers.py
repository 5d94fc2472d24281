"""Issue #29's item-4 levers on single tiles of the tiled default (``studies/tile_levers.py``): each lever's PSNR
and iterations beside the default's on the same tile, and the stop rule's wait replayed from the recorded hits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from statistics import mean
from typing import Any

from docgen.markdown import table
from docgen.results import RESULTS, Row, load, with_companion

LEVERS = "tile_levers.json"


def _rows() -> list[Row]:
    """The rows of the results file and of its ``_b`` companion (a second process's tiles)."""
    return with_companion(LEVERS)


def _default(row: Row) -> Row:
    """The default's run on the same tile as ``row``."""
    return next(r for r in _rows() if r["image"] == row["image"] and r["tile"] == row["tile"]
                and r["variant"] == "default")


def _seconds(row: Row) -> float:
    return float(row["seconds"])


def levers_table() -> str:
    """Each variant against the default on its tile: PSNR, iterations and seconds, and the changes."""
    body = []
    for r in _rows():
        d = _default(r)
        body.append([f"{r['image']} {r['tile']}", f"`{r['variant']}`", f"{r['psnr']:.2f}",
                     f"{r['psnr'] - d['psnr']:+.2f}", r["iterations"],
                     f"{100 * (r['iterations'] / d['iterations'] - 1):+.0f} %", f"{r['s_per_iter']:.3f}",
                     f"{_seconds(r):.0f}", f"{_seconds(r) / _seconds(d):.2f}",
                     f"{r['oracle_psnr']:.2f} @ {r['oracle_iteration']}"])
    return table(["tile", "variant", "PSNR", "vs default (dB)", "iterations", "vs default", "s / iteration",
                  "seconds", "time / default's", "best reached (oracle) @ iteration"], body)


def replay_table() -> str:
    """The default's fit stopped at its 13th, 18th and 25th hit (the 25th is the rule's own stop)."""
    body = []
    for r in _rows():
        if r["variant"] != "default" or not r.get("replay"):
            continue
        full = r["replay"]["hits25"]
        for name, got in r["replay"].items():
            body.append([f"{r['image']} {r['tile']}", name, got["iterations"], f"{got['psnr']:.2f}",
                         f"{got['psnr'] - full['psnr']:+.2f}",
                         f"{100 * (got['iterations'] / full['iterations'] - 1):+.0f} %"])
    return table(["tile", "stop at", "iterations", "PSNR (8-bit)", "vs 25 hits (dB)", "iterations vs 25 hits"], body)


def _by_variant(variant: str, key: Callable[[Row], float]) -> list[float]:
    return [key(r) for r in _rows() if r["variant"] == variant]


def time_change(variant: str) -> float:
    """A variant's mean time over the default's on the same tiles, as a fraction (negative: faster)."""
    return mean(_by_variant(variant, lambda r: _seconds(r) / _seconds(_default(r)))) - 1


def psnr_change(variant: str) -> float:
    """A variant's mean PSNR change against the default on the same tiles (dB)."""
    return mean(_by_variant(variant, lambda r: float(r["psnr"]) - float(_default(r)["psnr"])))


def replay_change(hits: str) -> tuple[float, float]:
    """The stop at ``hits`` against the rule's 25: mean change in iterations (fraction) and in PSNR (dB)."""
    got = [r["replay"] for r in _rows() if r["variant"] == "default" and hits in r.get("replay", {})]
    return (mean(g[hits]["iterations"] / g["hits25"]["iterations"] - 1 for g in got),
            mean(g[hits]["psnr"] - g["hits25"]["psnr"] for g in got))


def command() -> str:
    """The commands that wrote the results (the file and its companion), from the arguments they recorded (run
    from the repository root), joined by "and"."""
    names = [LEVERS] + [n for n in (LEVERS.replace(".json", "_b.json"),) if (RESULTS / n).exists()]
    runs = []
    for name in names:
        args = load(name)["meta"]["args"]
        runs.append(f"`.venv/bin/python benchmarks/studies/tile_levers.py --images {' '.join(args['images'])} "
                    f"--tiles {' '.join(map(str, args['tiles']))} --variants {' '.join(args['variants'])} "
                    f"--json benchmarks/results/{Path(args['json']).name}`")
    return " and ".join(runs)


def _tiles() -> int:
    return len({(r["image"], r["tile"]) for r in _rows()})


TABLES: dict[str, Callable[[], str]] = {
    "table_tile_levers": levers_table,
    "table_tile_levers_replay": replay_table,
}

VALUES: dict[str, Callable[[], Any]] = {
    "levers_command": command,
    "levers_tiles": _tiles,
    "levers_first_time": lambda: 100 * time_change("lr0.03-300"),
    "levers_first_psnr": lambda: psnr_change("lr0.03-300"),
    "levers_levels4_time": lambda: 100 * time_change("levels4"),
    "levers_levels4_psnr": lambda: psnr_change("levels4"),
    "levers_finest_time": lambda: 100 * time_change("finest1x1"),
    "levers_finest_psnr": lambda: psnr_change("finest1x1"),
    "levers_pg_time": lambda: 100 * time_change("pg"),
    "levers_pg_psnr": lambda: psnr_change("pg"),
    "levers_sure_time": lambda: 100 * time_change("sure"),
    "levers_sure_psnr": lambda: psnr_change("sure"),
    "levers_hits13_iters": lambda: 100 * replay_change("hits13")[0],
    "levers_hits13_psnr": lambda: replay_change("hits13")[1],
    "levers_hits18_iters": lambda: 100 * replay_change("hits18")[0],
    "levers_hits18_psnr": lambda: replay_change("hits18")[1],
}
