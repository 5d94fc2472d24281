"""Tables and figures of the "Automatic stopping" section (``stop_eval.py`` fits and their replays)."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache, partial
from typing import Any

from docgen.markdown import table
from docgen.replay import first_hit_online, replay_from, replay_holdout, to_markdown
from docgen.results import Row, at, eval_rows, load, md_cell, md_rows, mean, number, rows

#: Issue #4's evaluation of today's ``--stop auto``: condition -> (results file, how the auto rule's stop is known).
#: (A file's ``_b`` companion, the images a second process ran beside the first, is read with it.)
AUTO_EVAL = {
    "gaussian-25": ("stop_eval_w48_crop256.json", "replay"),
    "gaussian-50": ("stop_eval_w48_crop256_s50.json", "replay"),
    "poisson-30": ("stop_eval_w48_crop256_poisson.json", "online"),
    "speckle-0.2": ("stop_eval_w48_crop256_speckle.json", "online"),
    "salt-pepper-0.1": ("stop_eval_w48_crop256_saltpepper.json", "online"),
    "pixels-50": ("stop_eval_pixels_keep_crop128.json", "online"),  # known pixels kept, the default since then
}
G25, G50 = "stop_eval_w48_crop256.json", "stop_eval_w48_crop256_s50.json"  # 48 channels, 3000 iterations
SALTPEPPER_NOKEEP = "stop_eval_w48_crop256_saltpepper_nokeep.json"  # before `keep_known`
PIXELS_NOKEEP = "stop_eval_pixels_crop128.json"  # before `keep_known`
#: The projected-gain thresholds of `holdout` replayed on the salt-and-pepper fits.
SALTPEPPER_REPLAYS = (0.3, 0.4, 0.5, 0.6, 0.8, 1.0)


def replayed_auto(row: Row) -> tuple[int, float]:
    """Where today's `auto` (the 720-iteration wait at 256x256) stops a Gaussian fit that ran with the older
    wait, replayed from the observer's own first hit, and the PSNR there."""
    first = first_hit_online(row, pace=14)  # the observers' pace at 256x256 then
    return replay_from(row["history"], first if first is not None and first >= 0 else 10**9, 3.0)


@cache
def auto_eval() -> dict[str, dict[str, Any]]:
    """Per condition of ``AUTO_EVAL``: its rows, and the gaps and the mean share of the count of `auto`'s stop."""
    out = {}
    for cond, (name, how) in AUTO_EVAL.items():
        rs = eval_rows(name, cond)
        gaps, fracs = [], []
        for r in rs:
            rule = r["rules"][r["auto"]]
            it, p = replayed_auto(r) if how == "replay" else (rule["ran"], rule["psnr"])
            gaps.append(r["oracle_psnr"] - p)
            fracs.append(it / r["cap"])
        gap, frac = mean(gaps), mean(fracs)
        out[cond] = {"name": name, "how": how, "rows": rs, "gaps": gaps, "gap": gap, "frac": frac,
                     "met": len(rs) >= 5 and gap <= 0.5 and frac <= 0.7}  # issue #4's bounds
    return out


def auto_table() -> str:
    body = []
    for cond, e in auto_eval().items():
        rs = e["rows"]
        body.append([cond, f"`{rs[0]['auto']}`", load(e["name"])["meta"]["args"]["crop"], len(rs),
                     f"{mean(r['oracle_psnr'] for r in rs):.2f}", f"{e['gap']:.2f} dB", f"{max(e['gaps']):.2f} dB",
                     f"{100 * e['frac']:.0f} % of {rs[0]['cap']}", e["how"], f"`{e['name']}`"])
    return table(["condition", "`auto` rule", "crop", "images", "oracle peak (mean)", "gap (mean)", "gap (max)",
                  "iterations run (mean, % of the count)", "how", "results"], body)


def sigma25_table() -> str:
    """The sigma-25 crops' `--stop auto` run against the oracle peak of the fixed-count run."""
    fixed = {r["image"]: r["deepprior"] for r in rows("denoise_sigma25_crop128_fast.json")}
    count = max(f["iterations"] for f in fixed.values())  # the preset's fixed count
    body, gaps_fixed, gaps_stop, its = [], [], [], []
    for r in rows("denoise_sigma25_crop128_auto.json"):
        f, d = fixed[r["image"]], r["deepprior"]
        gaps_fixed.append(f["oracle_psnr"] - f["psnr"])
        gaps_stop.append(f["oracle_psnr"] - d["psnr"])
        its.append(d["iterations"])
        body.append([r["image"], f"{f['psnr']:.2f}", f"{f['oracle_psnr']:.2f} ({f['oracle_iteration']})",
                     f"{gaps_fixed[-1]:.2f}", f"{d['psnr']:.2f}", d["iterations"], f"{gaps_stop[-1]:.2f}"])
    body.append(["**mean**", "", "", f"**{mean(gaps_fixed):.2f}**", "",
                 f"**{mean(its):.0f}** ({100 * mean(its) / count:.0f} % of {count})", f"**{mean(gaps_stop):.2f}**"])
    return table(["image", f"fixed {count}: PSNR", "oracle peak (iteration)", "gap", "auto: PSNR", "iterations",
                  "gap"], body)


def w48_rows() -> list[Row]:
    """The 48-channel 256x256 fits: both Gaussian levels, then the noises run later with the 720-iteration wait."""
    later = [eval_rows(AUTO_EVAL[c][0], c) for c in ("poisson-30", "speckle-0.2", "salt-pepper-0.1")]
    return rows(G25, G50) + [r for rs in later for r in rs]


def rules_table(rs: list[Row]) -> str:
    """Every rule's mean gap and iterations on these fits, as ``stop_eval.py`` writes it."""
    return to_markdown(rs).strip()


# --- Figures -----------------------------------------------------------------------------------------------

def _gap(rs: list[Row], rule: str) -> float:
    """Mean gap of a rule's returned image to the oracle peak."""
    return mean(r["oracle_psnr"] - r["rules"][rule]["psnr"] for r in rs)


def _pct(rs: list[Row], rule: str, key: str = "ran") -> float:
    """Mean share of the count a rule ran (or, with ``key="returned_at"``, returned its image at), in %."""
    return 100 * mean(r["rules"][rule][key] / r["cap"] for r in rs)


def _peaks(rs: list[Row]) -> list[int]:
    return sorted(r["oracle_iteration"] for r in rs)


def _image(rs: list[Row], image: str) -> Row:
    return next(r for r in rs if r["image"] == image)


def _saltpepper(keep: bool = True) -> list[Row]:
    return eval_rows(AUTO_EVAL["salt-pepper-0.1"][0] if keep else SALTPEPPER_NOKEEP, "salt-pepper-0.1")


def _saltpepper_replay(projected: float) -> tuple[float, float]:
    """`holdout` replayed with another projected-gain threshold on the salt-and-pepper fits (known pixels kept,
    so its estimate is the held-out loss alone and the replay exact): mean gap, and share of the count in %."""
    stops = [(r, *replay_holdout(r, 0.0, projected, window=r["cap"] // 10)) for r in _saltpepper()]
    return mean(r["oracle_psnr"] - p for r, _, p in stops), 100 * mean(it / r["cap"] for r, it, _ in stops)


def _saltpepper_replay_figure(projected: float, k: int) -> float:
    """One figure of :func:`_saltpepper_replay`: ``k`` 0 the mean gap, 1 the share of the count."""
    return _saltpepper_replay(projected)[k]


def _heldout_gain_db(row: Row, since: int) -> float:
    """How much the held-out L1 error in ``holdout``'s trace improves from ``since`` to the end, in dB."""
    held = {it: loss for it, loss, _ in row["rules"]["holdout"]["trace"]}
    return 20 * math.log10(held[since] / held[max(held)])


def _crop256(cond: str) -> list[Row]:
    """The 64-channel fits on 256x256 crops (1500 iterations) of one condition."""
    return [r for r in rows("stop_eval_crop256.json") if r["condition"] == cond]


def _mns_statistic(row: Row, it: int) -> float:
    """The method-noise statistic (0-255 scale) at iteration ``it``, from the logged PSNR against the input."""
    return 255 * 10 ** (-next(h for h in row["history"] if h["iteration"] == it)["psnr_input"] / 20)


def _kodim03_s50() -> Row:
    return _image(_crop256("gaussian-50"), "kodim03")


def _replay_gap(cond: str, column: int, k: int = 0) -> float:
    """A figure of ``replay_mns_crop256.md``: columns 2-5 are the waits x1, x1.4, x2, x3; a cell reads
    "GAP dB / SHARE %" (``k`` 0: the gap, 1: the share)."""
    return number(md_cell("replay_mns_crop256.md", cond, column), k)


def _online() -> list[Row]:
    return rows("stop_eval_w48_crop256_online.json")


def _online_cells() -> str:
    return "; ".join(f"{r['image']}: stopped at {r['rules']['mns-adaptive']['ran']} with "
                     f"{r['rules']['mns-adaptive']['psnr']:.2f} dB (peak {r['oracle_psnr']:.2f} at "
                     f"{r['oracle_iteration']})" for r in _online())


def _online_replayed() -> str:
    """What the replay of the 720-iteration wait gave on the images later run online."""
    replayed = {r["image"]: replayed_auto(r) for r in rows(G25)}
    return " and ".join(f"{r['image']} {replayed[r['image']][0]}, {replayed[r['image']][1]:.2f} dB" for r in _online())


def _pixels() -> list[Row]:
    return eval_rows(PIXELS_NOKEEP, "pixels-50")


def _last_rise(rs: list[Row], share: float) -> float:
    """Mean PSNR gained over the last ``share`` of the count."""
    def rise(r: Row) -> float:
        end, start = at(r["history"], r["cap"]), at(r["history"], round(r["cap"] * (1 - share)))
        if end is None or start is None:
            raise ValueError(f"{r['image']}: no PSNR logged by iteration {round(r['cap'] * (1 - share))}")
        return end - start

    return mean(rise(r) for r in rs)


def _mns_falls() -> list[float]:
    """How far the method-noise statistic fell over the wait, per fit (``check_mns_hits``' last column)."""
    return [float(r[-1]) for r in md_rows("check_mns_hits_w48_crop256.md")]


TABLES: dict[str, Callable[[], str]] = {
    "table_stop_auto": auto_table,
    "table_stop_sigma25": sigma25_table,
    "table_stop_w48": lambda: rules_table(w48_rows()),
    "table_stop_saltpepper_nokeep": lambda: rules_table(_saltpepper(keep=False)),
    "table_stop_pixels": lambda: rules_table(_pixels()),
    "table_stop_pixels_kept": lambda: rules_table(eval_rows(AUTO_EVAL["pixels-50"][0], "pixels-50")),
}

VALUES: dict[str, Callable[[], Any]] = {
    # `--stop auto` today, every condition of issue #4.
    "stop_auto_met": lambda: sum(e["met"] for e in auto_eval().values()),
    "stop_auto_conditions": lambda: len(auto_eval()),
    "sp_gap": lambda: auto_eval()["salt-pepper-0.1"]["gap"],
    "sp_pct": lambda: 100 * auto_eval()["salt-pepper-0.1"]["frac"],
    "sp_nokeep_gap": lambda: _gap(_saltpepper(keep=False), "holdout"),
    "sp_nokeep_pct": lambda: _pct(_saltpepper(keep=False), "holdout"),
    "sp_peak_first": lambda: _peaks(_saltpepper())[0],
    "sp_peak_last": lambda: _peaks(_saltpepper())[-1],
    "sp_nokeep_peak": lambda: mean(r["oracle_psnr"] for r in _saltpepper(keep=False)),
    "sp_peak": lambda: mean(r["oracle_psnr"] for r in _saltpepper()),
    "sp_images": lambda: len(_saltpepper()),
    # sp_replay_0_3_gap, sp_replay_0_3_pct, ... sp_replay_1_pct
    **{f"sp_replay_{p:g}_{what}".replace(".", "_"): partial(_saltpepper_replay_figure, p, k)
       for p in SALTPEPPER_REPLAYS for k, what in enumerate(("gap", "pct"))},
    "sp_nokeep_f16_heldout_gain_2250": lambda: _heldout_gain_db(_image(_saltpepper(keep=False), "F16"), 2250),
    # 64 channels, 1500 iterations: 128x128 and 256x256 crops.
    "sigma25_fixed_runs": lambda: len(rows("denoise_sigma25_crop128_fast.json")),
    "crop128_fits": lambda: len(rows("stop_eval_crop128.json")),
    "crop256_fits": lambda: len(rows("stop_eval_crop256.json")),
    "crop256_conditions": lambda: ", ".join(sorted({r["condition"] for r in rows("stop_eval_crop256.json")})),
    "crop256_g25_peak_first": lambda: _peaks(_crop256("gaussian-25"))[0],
    "crop256_g25_peak_last": lambda: _peaks(_crop256("gaussian-25"))[-1],
    "crop256_g50_peaks": lambda: " and ".join(str(i) for i in _peaks(_crop256("gaussian-50"))),
    "crop256_kodim03_s50_stat_400": lambda: _mns_statistic(_kodim03_s50(), 400),
    "crop256_kodim03_s50_stat_peak": lambda: _mns_statistic(_kodim03_s50(), _kodim03_s50()["oracle_iteration"]),
    "crop256_g25_gap": lambda: _gap(_crop256("gaussian-25"), "mns-adaptive"),
    "crop256_g50_gap": lambda: _gap(_crop256("gaussian-50"), "mns-adaptive"),
    "crop256_g25_x1_4_gap": lambda: _replay_gap("gaussian-25", 3),
    "crop256_g50_x1_4_gap": lambda: _replay_gap("gaussian-50", 3),
    "crop256_g25_x2_gap": lambda: _replay_gap("gaussian-25", 4),
    "crop256_g50_x2_gap": lambda: _replay_gap("gaussian-50", 4),
    "crop256_g25_x2_pct": lambda: _replay_gap("gaussian-25", 4, k=1),
    # 48 channels, 3000 iterations, 256x256 crops.
    "w48_fits": lambda: len(w48_rows()),
    "w48_g25_fits": lambda: len(rows(G25)),
    "w48_gaussian_fits": lambda: len(rows(G25, G50)),
    "w48_g25_peak_first": lambda: _peaks(rows(G25))[0],
    "w48_g25_peak_last": lambda: _peaks(rows(G25))[-1],
    "w48_g50_peak_first": lambda: _peaks(rows(G50))[0],
    "w48_g50_peak_last": lambda: _peaks(rows(G50))[-1],
    "w48_fall_min": lambda: min(_mns_falls()),
    "w48_fall_max": lambda: max(_mns_falls()),
    "w48_s50_baboon_wmv_gap": lambda: _gap([_image(rows(G50), "baboon")], "wmv"),
    "online_fits": lambda: len(_online()),
    "online_cells": _online_cells,
    "online_replayed": _online_replayed,
    # Pixel restoration with the network's image everywhere (before `keep_known`).
    "pixels_holdout_gap": lambda: _gap(_pixels(), "holdout"),
    "pixels_holdout_pct": lambda: _pct(_pixels(), "holdout", "returned_at"),
    "pixels_last30_rise": lambda: _last_rise(_pixels(), 0.3),
}
