"""Stopping rules replayed on stored fits: the pure functions that the docs (``docgen.stopping``),
``stop_eval.py`` and the studies ``replay_mns.py``, ``replay_holdout.py`` and ``check_mns_hits.py`` share.

They read only the rows ``stop_eval.py`` writes into ``benchmarks/results/`` (no image, no ``deepprior``), so the
docs can be regenerated from the committed results alone.
"""

from __future__ import annotations

import math

from common import markdown_table

#: The rules every ``stop_eval.py`` fit carries as passive observers (``holdout`` besides, where it is `auto`).
RULES = ("mns-adaptive", "mns-static", "wmv")


def to_markdown(rows: list[dict]) -> str:
    """Per condition, every rule's mean gap to the oracle peak and mean iterations run (``stop_eval.py``'s table)."""
    rules = [*(("holdout",) if any("holdout" in r["rules"] for r in rows) else ()), *RULES, "none"]
    conds: dict[str, list[dict]] = {}
    for r in rows:
        conds.setdefault(r["condition"], []).append(r)
    body = []
    for cond, rs in conds.items():
        n = len(rs)
        cells = []
        for rule in rules:
            if any(rule not in r["rules"] for r in rs):
                cells.append("—")
                continue
            gap = sum(r["oracle_psnr"] - r["rules"][rule]["psnr"] for r in rs) / n
            its = sum(r["rules"][rule]["ran"] for r in rs) / n
            cap = sum(r["cap"] for r in rs) / n
            cells.append(f"{gap:.2f} dB / {its:.0f} ({100 * its / cap:.0f} %)")
        body.append([cond, n, f"{sum(r['oracle_psnr'] for r in rs) / n:.2f}", *cells])
    header = ["condition", "images", "oracle peak (mean)", *(f"`{r}`: gap / iterations run" for r in rules)]
    return markdown_table(header, body) + "\n"


def first_hit_online(row: dict, pace: int | None = None) -> int | None:
    """The first check below the threshold as the online rule saw it: from the trace of the method-noise
    statistic and threshold (``stop_eval.py`` keeps it since commit 955ef9a), else, given the ``pace`` the
    observer ran with, from where it fired (24 checks ``pace`` apart after the first hit); else None."""
    rule = row["rules"].get("mns-adaptive", {})
    trace = rule.get("trace")
    if trace:
        return next((int(it) for it, stat, thr in trace if stat < thr), -1)
    if pace is not None:
        return rule["ran"] - 24 * pace if rule["ran"] < row["cap"] else -1
    return None


def replay_from(history: list[dict], first: int, wait: float) -> tuple[int, float]:
    """Stop ``24 x 10 x wait`` iterations after ``first`` (the history's nearest sample at or after it)."""
    for h in history:
        if h["iteration"] % 10 == 0 and h["iteration"] - first >= 240 * wait:
            return h["iteration"], h["psnr"]
    return history[-1]["iteration"], history[-1]["psnr"]


def replay_holdout(row: dict, share: float, projected: float, window: int) -> tuple[int, float]:
    """``holdout``'s projected-gain stop replayed with threshold ``projected`` (dB) on a fit that carried it:
    where the rule stops (iteration) and the PSNR of the image it returns (the latest best estimate)."""
    loss = row.get("loss")
    db = 20 if (loss.get("name") if isinstance(loss, dict) else loss) == "l1" else 10  # as HoldOut.update
    fitted = {h["iteration"]: 10 ** (-h["psnr_input"] / 10) for h in row["history"]}
    psnr = {h["iteration"]: h["psnr"] for h in row["history"]}
    cap, best, bests, best_held, best_it = row["cap"], math.inf, {}, math.inf, 0
    for it, held, _ in row["rules"]["holdout"]["trace"]:
        if held < best_held:
            best_held, best_it = held, it
        best = min(best, share * fitted[it] + (1 - share) * held)
        bests[it] = best
        then = bests.get(it - window)
        if then is not None and db * math.log10(then / best) * max(0, cap - it) / window < projected:
            return it, psnr[best_it]
    return cap, psnr[best_it]
