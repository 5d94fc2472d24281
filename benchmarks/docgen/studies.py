"""Tables and figures of the other sections: pixel restoration, the presets, noise models, priors, time to
quality, network width, learning rate and memory."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

from docgen.markdown import table
from docgen.results import field, first_reaching, load, number, rows, text


def presets_table(name: str, wide: bool) -> str:
    """`fast` against `paper` on the same crop (``wide``: with the noisy input and the published DIP)."""
    extra = ["noisy input", "published DIP, same crop"] if wide else []
    body = [[r["image"], r["preset"], r["stop"], r["iterations"], f"{r['psnr']:.2f}", f"{r['ssim']:.3f}",
             *([f"{r['input_psnr']:.2f}", f"{r['published_dip_psnr_same_crop']:.2f}"] if wide else []),
             f"{r['seconds']:.0f}", f"{r['s_per_iter']:.3f}", r["precision"]] for r in rows(name)]
    return table(["image", "preset", "stop", "iterations", "PSNR", "SSIM", *extra, "seconds", "s / iteration",
                  "precision"], body)


def time_to_quality_table(name: str) -> str:
    body = []
    for label, r in load(name)["runs"].items():
        reach = r.get("reached_30_54")
        reached = "never" if reach is None else (
            f"iteration {reach['iteration']}, {reach['seconds']:.0f} s (ratio {r['ratio_reaching_30_54']:.2f})")
        body.append([f"`deepprior denoise` {label} (`{r['preset']}`, {r['precision']}, stop {r['stop']['name']})",
                     f"{r['psnr']:.2f} dB", r["iterations"], f"{r['seconds']:.0f}",
                     f"{r['ratio_to_reference_time']:.2f}", reached])
    return table(["run", "PSNR at the stop", "iterations", "seconds", "ratio to the reference's time to 30.54 dB",
                  "first reached 30.54 dB"], body)


WIDTH, LR = "width_study_f16_256.json", "lr_study_f16_256.json"


def width_table() -> str:
    """The width study's runs, and the 64-channel run of the learning-rate study (lr 0.003) beside them."""
    runs = list(load(WIDTH)["runs"].values())
    runs += [{**r, "width": 64, "seconds": None} for r in load(LR)["runs"].values()
             if r["lr"] == 0.003 and "history" in r]
    body = []
    for r in sorted(runs, key=lambda v: (v["width"], v["lr"])):
        h = {x["iteration"]: x["psnr"] for x in r["history"] if x["psnr"] is not None}
        best = max(h, key=lambda i: h[i])
        first = min((i for i, v in h.items() if v >= 30.54), default=None)
        body.append([r["width"], f"{r['lr']:g}", *(f"{h[i]:.2f}" if i in h else "—" for i in (500, 1000, 1500, 2000)),
                     f"{h[best]:.2f} ({best})", first or "never",
                     "—" if r.get("seconds") is None else f"{r['seconds']:.0f}"])
    return table(["width", "lr", "@ 500", "@ 1000", "@ 1500", "@ 2000", "best (iteration)", "first >= 30.54 dB",
                  "seconds (run)"], body)


def lr_table() -> str:
    runs = sorted(load(LR)["runs"].values(), key=lambda v: -v["lr"])
    return table(["lr", "@ 500", "@ 1000", "@ 1500"],
                 [[f"{r['lr']:g}", *(f"{r['at'].get(i, float('nan')):.2f}" for i in ("500", "1000")),
                   f"{r['at']['1500']:.2f}" if "1500" in r["at"] else "—"] for r in runs])


# --- Figures -----------------------------------------------------------------------------------------------

def _folder_mean(method: str, setting: str = "matched") -> float:
    """A method's mean PSNR in the harness's folder table of Poisson peak 30 on 32x32 crops."""
    means = load(f"folder_poisson30_crop32_{setting}.json")["means"]
    return means[f"PoissonNoise(peak=30), {setting}"][method]["psnr"]


def _deep_decoder_flag() -> str:
    """A Deep Decoder run that did not end at its cap is flagged in its row."""
    why = field("deep_decoder_astronaut_sigma30.json", "stop_reason")
    return "" if why == "max_iter" else f" (INTERRUPTED: {why}, not a result)"


#: The width-study run whose first iteration at 30.54 dB the text quotes for each width (32: the lr 0.006 run;
#: 64 channels: the learning-rate study's lr 0.003 run).
WIDTH_RUNS = {32: "w32-lr0.006", 48: "w48-lr0.003"}


def _lr_run(lr: float) -> dict[str, Any]:
    return next(r for r in load(LR)["runs"].values() if r["lr"] == lr)


def _first_30_54(channels: int) -> int:
    run = _lr_run(0.003) if channels == 64 else load(WIDTH)["runs"][WIDTH_RUNS[channels]]
    first = first_reaching(run["history"], 30.54)
    if first is None:
        raise ValueError(f"the {channels}-channel run never reached 30.54 dB")
    return first


def _time_shared(channels: int) -> float:
    """Seconds per iteration at 256x256 with two fits beside it (``width_time_256.txt``)."""
    return number(next(ln for ln in text("width_time_256.txt").splitlines() if ln.startswith(f"width {channels}:")), 1)


def _shared_to_30_54(channels: int) -> float:
    """Seconds to 30.54 dB with two fits beside it: the first iteration there times the shared time per iteration."""
    return _first_30_54(channels) * _time_shared(channels)


def _best_of_width(channels: int) -> float:
    return max(r["best"]["psnr"] for r in load(WIDTH)["runs"].values() if r["width"] == channels)


def _sigma25_auto(lr003: bool) -> dict[str, Any]:
    """The means of `deepprior` on the 128x128 sigma-25 crops with `--stop auto`, at lr 0.003 or 0.01."""
    name = "denoise_sigma25_crop128_auto_lr003.json" if lr003 else "denoise_sigma25_crop128_auto.json"
    return load(name)["means"]["sigma25"]["deepprior"]


def _untiled(prefix: str, pattern: str) -> str:
    """What ``pattern``'s group reads on the line of ``untiled_memory.txt`` that starts with ``prefix``."""
    line = next(ln for ln in text("untiled_memory.txt").splitlines() if ln.startswith(prefix))
    found = re.search(pattern, line)
    if found is None:
        raise ValueError(f"no {pattern!r} in untiled_memory.txt's line {line!r}")
    return found.group(1)


def _rss_gb(prefix: str) -> float:
    """Peak resident memory of an untiled fit, in GB (the file reads MB)."""
    return float(_untiled(prefix, r"peak RSS (\d+) MB")) / 1000


TABLES: dict[str, Callable[[], str]] = {
    "table_presets": lambda: presets_table("presets_crop128.json", wide=True),
    "table_presets_w48": lambda: presets_table("presets_crop128_w48.json", wide=False),
    "table_ttq_w48": lambda: time_to_quality_table("time_to_quality_f16_256_w48.json"),
    "table_ttq_64": lambda: time_to_quality_table("time_to_quality_f16_256.json"),
    "table_width": width_table,
    "table_learning_rate": lr_table,
}

def _deblur(method: str, metric: str = "psnr") -> float:
    """The deblur table's mean of one method (its one group's key holds dots, so no field path reaches it)."""
    (group,) = load("deblur_crop96_fast.json")["means"].values()
    return float(group[method][metric])


def _deblur_count(wins: bool) -> int:
    """Images where deepprior's PSNR is above (``wins``) or below oracle Wiener's."""
    scored = [(r["deepprior"]["psnr"], r["wiener (oracle balance)"]["psnr"]) for r in rows("deblur_crop96_fast.json")]
    return sum((d > w) == wins for d, w in scored)


VALUES: dict[str, Callable[[], Any]] = {
    # Deblurring.
    "deblur_images": lambda: len(rows("deblur_crop96_fast.json")),
    "deblur_dip": lambda: _deblur("deepprior"),
    "deblur_wiener": lambda: _deblur("wiener (oracle balance)"),
    "deblur_rl": lambda: _deblur("richardson-lucy"),
    "deblur_dip_ssim": lambda: _deblur("deepprior", "ssim"),
    "deblur_wiener_ssim": lambda: _deblur("wiener (oracle balance)", "ssim"),
    "deblur_rl_ssim": lambda: _deblur("richardson-lucy", "ssim"),
    "deblur_wins": lambda: _deblur_count(True),
    "deblur_losses": lambda: _deblur_count(False),
    "deblur_ssim_below": lambda: sum(
        r["deepprior"]["ssim"] < min(r["wiener (oracle balance)"]["ssim"], r["richardson-lucy"]["ssim"])
        for r in rows("deblur_crop96_fast.json")),
    # Pixel restoration: what running to the cap loses against the oracle peak (mean over the crops).
    "pixels_cap_loss": lambda: field("pixels_crop128_fast.json", "means.pixels50.deepprior.oracle_psnr")
    - field("pixels_crop128_fast.json", "means.pixels50.deepprior.psnr"),
    # Noise models.
    "noise_runs": lambda: len(rows("noise_study_crop128.json")),
    "folder_nlm_mean": lambda: _folder_mean("nlm"),
    "folder_tv_mean": lambda: _folder_mean("tv"),
    "folder_matched_mean": lambda: _folder_mean("deepprior"),
    # Priors.
    "deep_decoder_interrupted": _deep_decoder_flag,
    # Network width: width_first_32, width_time_shared_32, width_shared_to_30_54_32, ... (and 48, 64).
    **{f"width_first_{c}": partial(_first_30_54, c) for c in (32, 48, 64)},
    **{f"width_time_shared_{c}": partial(_time_shared, c) for c in (32, 48, 64)},
    **{f"width_shared_to_30_54_{c}": partial(_shared_to_30_54, c) for c in (32, 48, 64)},
    "width_best_48": lambda: _best_of_width(48),
    "width_best_32": lambda: _best_of_width(32),
    # Learning rate.
    "lr_first_0_01": lambda: first_reaching(_lr_run(0.01)["history"], 30.54),
    "lr003_cost": lambda: _sigma25_auto(False)["psnr"] - _sigma25_auto(True)["psnr"],
    "lr003_crops": lambda: _sigma25_auto(True)["n"],
    "lr003_mean": lambda: _sigma25_auto(True)["psnr"],
    "lr01_mean": lambda: _sigma25_auto(False)["psnr"],
    "lr003_fewer_pct": lambda: 100 * (1 - _sigma25_auto(True)["iterations"] / _sigma25_auto(False)["iterations"]),
    "lr003_iters": lambda: _sigma25_auto(True)["iterations"],
    "lr01_iters": lambda: _sigma25_auto(False)["iterations"],
    "lr003_kodim03_256_best": lambda: next(r["oracle_psnr"] for r in rows("stop_eval_crop256.json")
                                           if r["image"] == "kodim03" and r["condition"] == "gaussian-25"),
    "lr_runs": lambda: ", ".join(f"lr {r['lr']:g}: {r['script'].split(' ')[0]}" for r in load(LR)["runs"].values()),
    # Memory (untiled_memory.txt).
    "rss_gb_512_fast48": lambda: _rss_gb("512 fast (48 ch) peak"),
    "rss_gb_512_paper": lambda: _rss_gb("512 paper peak"),
    "rss_gb_2048_fast48": lambda: _rss_gb("2048 fast (48 ch) peak"),
    "rss_gb_2048_fast64": lambda: _rss_gb("2048 fast peak"),
    "rss_gb_2048_fast64_tiled": lambda: _rss_gb("2048 fast with the default memory budget"),
    "tiling_estimate_gb_2048_fast48": lambda: _untiled("2048 fast (48 ch) with", r"estimate ([\d.]+) GB"),
    "tiling_budget_gb": lambda: _untiled("2048 fast (48 ch) with", r"<= ([\d.]+) GB"),
}
