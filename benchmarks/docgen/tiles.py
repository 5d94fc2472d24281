"""Tables and figures of the second speed round (issue #20): the tiled full-size runs and the single-tile study."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from docgen.full_size import CPU_W48, PAPER
from docgen.markdown import table
from docgen.results import RESULTS, Row, disturbed, first_reaching, mean, ratio, rows

#: The tiled full-size runs (``full_size.py --tile``), in the order the table shows them; a file not yet
#: committed is left out.
TILED = ("full_size_tile128.json", "full_size_tile128_b.json", "full_size_tile128_c.json", "full_size_tile128_d.json",
         "full_size_tile64.json")
STUDY = "tile_study.json"
DRP = "drp_f16_256.json"
#: How many checks after the first hit the stop-rule replay of the single tiles tries (the default waits 24).
REPLAY_WAITS = (0, 6, 12, 18, 24)
#: The issue's floor per image: the paper configuration's own result with the stopping rule, less 0.5 dB.
FLOOR_DB = 0.5


def _tiled() -> list[Row]:
    return rows(*(n for n in TILED if (RESULTS / n).exists()))


def paper_auto() -> dict[str, float]:
    return {r["image"]: r["auto"]["psnr"] for r in rows(PAPER)}


def _untiled() -> dict[str, Row]:
    return {r["image"]: r for r in rows(*CPU_W48)}


def ratio_cell(row: Row) -> str:
    """A row's ratio, marked where its two reference timings disagree (the smaller one is used)."""
    return f"{ratio(row):.3f}" + ("*" if disturbed(row) else "")


def tiled_table() -> str:
    """Each tiled run of the default (`fast`, sigma given, automatic stop per tile) beside the untiled one."""
    paper, untiled, body = paper_auto(), _untiled(), []
    for r in _tiled():
        u = untiled.get(r["image"])
        body.append([r["image"], f"{r['tile']} / {r['overlap']}", r["lr"], r["stop"]["tiles"], f"{r['psnr']:.2f}",
                     f"{paper[r['image']]:.2f} / {paper[r['image']] - FLOOR_DB:.2f}",
                     "—" if u is None else f"{u['psnr']:.2f} ({ratio_cell(u)})",
                     r["iterations"], f"{r['seconds']:.0f}",
                     " / ".join(f"{s:.2f}" for s in r["reference_s_per_iter"]), ratio_cell(r)])
    return table(["image", "tile / overlap", "lr", "tiles", "PSNR", "paper config. with stop (GPU) / floor (- 0.5)",
                  "untiled `fast` PSNR (ratio)", "iterations (sum)", "seconds", "reference s / it (before / after)",
                  "ratio"], body)


def study_table() -> str:
    """Single tiles, one setting changed: PSNR at the automatic stop, its cost, and the default's level reached."""
    rs = rows(STUDY)
    base = {(r["image"], r["tile"]): r for r in rs if r["variant"] == "default"}
    body = []
    for r in rs:
        b = base.get((r["image"], r["tile"]))
        reach = "" if b is None or r is b else (first_reaching([{"iteration": i, "psnr": p} for i, p in r["curve"]],
                                                               b["psnr"]) or "never")
        body.append([r["image"], r["tile"], f"{r['region'][3] - r['region'][1]}x{r['region'][2] - r['region'][0]}",
                     r["variant"], f"{r['psnr']:.2f}", r["iterations"], f"{r['seconds']:.0f}",
                     f"{r['seconds'] / r['iterations']:.3f}", f"{r['oracle_psnr']:.2f} @ {r['oracle_iteration']}",
                     reach])
    return table(["image", "tile", "size", "variant", "PSNR at the stop", "iterations", "seconds", "s / it",
                  "oracle (iteration)", "first reaching the default's PSNR"], body)


def replay_table() -> str:
    """The method-noise rule on each default single tile, replayed from its curve with fewer hits: the first hit
    is taken as the stop less 24 checks at the tile's ``stop_pace`` (as if the 25 hits came in a row: the trace
    itself was not stored), and the fit as stopping ``k`` checks after it. PSNR is the curve's nearest sample."""
    body = []
    for r in rows(STUDY):
        if r["variant"] != "default":
            continue
        pace = r["stop_pace"]
        first = r["stopped_at"] - 24 * pace
        cells = []
        for k in REPLAY_WAITS:
            it, psnr = min(r["curve"], key=lambda c, t=first + k * pace: abs(c[0] - t))
            cells.append(f"{psnr:.2f} @ {it}")
        body.append([r["image"], r["tile"], pace, *cells])
    return table(["image", "tile", "pace", *(f"{k + 1} hit{'s' if k else ''}" for k in REPLAY_WAITS)], body)


def drp_table() -> str:
    """The Deep Random Projector runs (``drp_study.py``): frozen random network, optimised input."""
    body = []
    for key, r in json.loads((RESULTS / DRP).read_text())["runs"].items():
        best = max(r["curve"], key=lambda c: c["psnr"])
        last = r["curve"][-1]
        body.append([key, r["trainable"], f"{best['psnr']:.2f} @ {best['iteration']} ({best['seconds']:.0f} s)",
                     f"{last['psnr']:.2f} @ {last['iteration']} ({last['seconds']:.0f} s)", f"`{r['command']}`"])
    return table(["run", "trainable values", "best (oracle)", "last", "command"], body)


def s_per_megapixel(row: Row) -> float:
    """A full-size run's wall time of the fit per megapixel of its image."""
    return row["seconds"] / (row["size"][0] * row["size"][1] / 1e6)


def _calm128() -> list[Row]:
    """The 128-pixel tiled runs whose two reference timings agree (no other job disturbed them)."""
    return [r for r in _tiled() if r["tile"] == 128 and not disturbed(r)]


def latest128() -> dict[str, Row]:
    """Per image, the last 128 / 16 tiled run (files in ``TILED`` order, rows in run order)."""
    return {r["image"]: r for r in _tiled() if r["tile"] == 128 and r["overlap"] == 16}


TABLES: dict[str, Callable[[], str]] = {
    "table_tiled_full_size": tiled_table,
    "table_tile_study": study_table,
    "table_tile_stop_replay": replay_table,
    "table_drp": drp_table,
}

VALUES: dict[str, Callable[[], Any]] = {
    "tile_study_s_per_it_160": lambda: mean(r["seconds"] / r["iterations"] for r in rows(STUDY)
                                            if r["region"][2] - r["region"][0] == 160),
    "tiled128_calm_runs": lambda: len(_calm128()),
    "tiled128_images": lambda: len(latest128()),
    "tiled128_mean_psnr": lambda: mean(r["psnr"] for r in latest128().values()),
    "tiled128_paper_mean": lambda: mean(paper_auto()[i] for i in latest128()),
    "tiled128_largest_shortfall": lambda: max(paper_auto()[i] - r["psnr"] for i, r in latest128().items()),
    "tiled128_calm_ratio_min": lambda: min(ratio(r) for r in _calm128()),
    "tiled128_calm_ratio_max": lambda: max(ratio(r) for r in _calm128()),
    "tiled128_s_per_mp_min": lambda: min(s_per_megapixel(r) for r in _calm128()),
    "tiled128_s_per_mp_max": lambda: max(s_per_megapixel(r) for r in _calm128()),
}
