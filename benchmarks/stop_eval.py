"""Stopping rules evaluated online, all at once, on fixed-count fits: the gap to the run's oracle peak.

A stopping rule does not change the fit (same seed, same trajectory), so one fit to the preset's fixed count
can carry every rule as a passive observer: each sees exactly what it would see in its own run, and records
where it would have stopped and the PSNR of the image it would have returned. The ground truth only scores;
the 'oracle' is the best PSNR of the averaged output along the whole run (sampled every 10 iterations).

Conditions: 128x128 centre crops of the DIP paper's ground truths (the issue asks for 256x256; on this
2-core machine a 128 crop is 4x cheaper) corrupted by the project's seeded noise models: Gaussian sigma 50,
Poisson peak 30, salt-and-pepper 0.1, speckle 0.2, each denoised with the noise named and its level given
(``denoise --noise N`` with the level: the matched data term), preset ``fast`` run to its fixed count
(1500 iterations until the 48-channel change, 3000 since; ``--iters`` to set another).
Sigma 25 is measured by the harness's tables instead (the fixed and the auto runs, same seed and threads).
``pixels-50`` is Table 1's pixel restoration: the paper's own masked inputs (grey, 50 % missing), their
centre crop, ``inpaint`` with the preset's fixed count. Where ``auto`` means ``holdout`` (salt-and-pepper
with its impulse-skipping data term, pixel restoration) that rule changes the fit, so it observes from the
first iteration and the other rules observe the same held-out fit.

    .venv/bin/python benchmarks/stop_eval.py --threads 1 --json benchmarks/results/stop_eval_crop128.json \
        --markdown benchmarks/results/stop_eval_crop128.md
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from common import DATA, centre_crop, results_meta
from deepprior import api, io
from deepprior.fit import make_stop_rule
from deepprior.fit.loop import Callback, FitResult, Fitter, StepState
from deepprior.presets import TaskInfo
from deepprior.tasks import resolve_preset
from docgen.replay import RULES, to_markdown

CONDITIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "gaussian-25": ("gaussian", {"sigma": 25.0}), "gaussian-50": ("gaussian", {"sigma": 50.0}),
    "poisson-30": ("poisson", {"peak": 30.0}),
    "salt-pepper-0.1": ("salt-pepper", {"amount": 0.1}), "speckle-0.2": ("speckle", {"sigma": 0.2}),
    "pixels-50": ("pixels", {})}
#: Conditions whose ``auto`` rule is ``holdout``: it changes the fit (5 % of the measured pixels are held
#: out), so it observes from the start and every other rule then observes that same held-out fit.
HOLDOUT = {"salt-pepper-0.1", "pixels-50"}


def auto_rule(cond: str) -> str:
    """What ``--stop auto`` means for a condition. The task decides it from the problem (``Problem.auto_stop``):
    ``holdout`` for salt-and-pepper's impulse-skipping data term and pixel restoration's scattered mask,
    ``mns-adaptive`` for the other noises."""
    return "holdout" if cond in HOLDOUT else "mns-adaptive"


class Observer(Callback):
    """Runs a stopping rule beside the fit without stopping it; records where it would have stopped."""

    def __init__(self, name: str, rule: Any) -> None:
        self.name, self.rule = name, rule
        self.fired_at: int | None = None
        self.returned_at: int | None = None
        self.psnr: float | None = None
        self.trace: list[tuple[int, float, float]] = []

    def on_start(self, fitter: Fitter) -> None:
        self.rule.reset(fitter)
        self.fitter = fitter

    def on_step(self, state: StepState) -> None:
        traced = hasattr(self.rule, "last_stat") or self.name == "holdout"
        if self.fired_at is not None and not traced:
            return
        fires = self.rule.update(state)
        if self.name == "holdout":
            # the held-out loss and the projected gain at every check, kept after the rule fired (replays)
            if not state.iteration % self.rule.check_every:
                self.trace.append((state.iteration, self.rule.last, self.rule.projected_gain))
        else:
            stat = getattr(self.rule, "last_stat", None)
            if stat is not None and stat == stat and (not self.trace or self.trace[-1][1] != stat):  # not NaN
                # method-noise: the online statistic and threshold at every check, kept after the rule fired
                # (for replays of other waits; benchmarks/studies/replay_mns.py)
                self.trace.append((state.iteration, stat, self.rule.last_threshold))
        if self.fired_at is None and fires:
            self.fired_at = state.iteration
            chosen = self.rule.chosen()
            it, image = chosen if chosen is not None else (state.iteration, state.average)
            self.returned_at, self.psnr = it, self.fitter.psnr_reference(image)

    def on_end(self, result: FitResult) -> None:
        """Nothing: a rule that never fired returns the fit's last averaged image (taken from the history)."""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--images", nargs="+", default=["F16", "baboon", "kodim03", "peppers", "hill"])
    ap.add_argument("--conditions", nargs="+", default=list(CONDITIONS))
    ap.add_argument("--crop", type=int, default=128, help="centre crop SIZE x SIZE; 0: the whole image")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--lr", type=float, default=None, help="learning rate (default: the preset's)")
    ap.add_argument("--iters", type=int, default=None, help="iterations (default: the preset's fixed count)")
    ap.add_argument("--json", type=Path, required=True)
    ap.add_argument("--markdown", type=Path)
    args = ap.parse_args()
    rows = json.loads(args.json.read_text())["rows"] if args.json.exists() else []

    def crop(a: Any) -> Any:
        return centre_crop(a, args.crop) if args.crop else a

    done = {(r["image"], r["condition"]) for r in rows}
    for cond in args.conditions:
        noise, level = CONDITIONS[cond]
        task = "inpaint" if noise == "pixels" else "denoise"
        cap = args.iters or resolve_preset("fast", TaskInfo(task=task)).fit.num_iter
        for name in args.images:
            if (name, cond) in done:
                continue
            sigma = level.get("sigma") if noise == "gaussian" else None
            observers = [Observer(rule, make_stop_rule(rule, sigma=sigma, num_iter=cap))
                         for rule in (("holdout",) if cond in HOLDOUT else ()) + RULES]
            common = {"stop": "none", "threads": args.threads, "lr": args.lr, "num_iter": cap, "callbacks": observers}
            if noise == "pixels":  # Table 1: the paper's own masked input, grey, its centre crop
                root = args.data / "dip-paper/pixels50"
                clean = crop(io.load_image(root / f"{name}_GT.png").pixels).mean(axis=2)
                masked = crop(io.load_image(root / f"{name}_masked.png").pixels).mean(axis=2)
                r = api.inpaint(masked[:, :, None], mask=masked != 0, reference=clean[:, :, None], **common)
            else:
                root = args.data / "dip-paper/denoising/sigma25"
                clean = crop(io.load_image(root / f"{name}_GT.png").pixels)
                noisy = api.degrade(clean, noise=noise, seed=0, **level).image
                r = api.denoise(noisy, noise=noise, reference=clean, tile=0, **common, **level)
            hist = [h for h in r.fit.history if h["psnr"] is not None]
            best = max(hist, key=lambda h: h["psnr"])
            final = hist[-1]
            rules = {}
            for ob in observers:
                fired = ob.fired_at is not None
                rules[ob.name] = {"ran": ob.fired_at if fired else r.fit.iterations,
                                  "returned_at": ob.returned_at if fired else final["iteration"],
                                  "psnr": ob.psnr if fired else final["psnr"]}
                if ob.trace:
                    rules[ob.name]["trace"] = ob.trace
            rules["none"] = {"ran": r.fit.iterations, "returned_at": final["iteration"], "psnr": final["psnr"]}
            row = {"image": name, "condition": cond, "input_psnr": r.input_psnr, "cap": r.fit.iterations,
                   "oracle_psnr": best["psnr"], "oracle_iteration": best["iteration"], "rules": rules,
                   "auto": auto_rule(cond), "loss": r.config.get("loss"),
                   "lr": r.config["fit"]["lr"],
                   "width": r.config["net_config"]["channels_down"][0], "keep_known": r.config.get("keep_known"),
                   "seconds": round(r.fit.seconds, 1),
                   "history": r.fit.history}
            rows.append(row)
            print(f"{cond:16s} {name:8s} oracle {best['psnr']:.2f} @ {best['iteration']}; " + ", ".join(
                f"{k} {v['psnr']:.2f} @ {v['returned_at']}" for k, v in rules.items()), flush=True)
            meta = results_meta(__file__, args, table="folder")
            io.write_bytes_atomic(args.json, json.dumps({"meta": meta, "rows": rows}, indent=1).encode())
    if args.markdown:
        io.write_bytes_atomic(args.markdown, to_markdown(rows).encode())


if __name__ == "__main__":
    main()
