"""Assemble docs/benchmarks.md from the committed results in benchmarks/results/.

    .venv/bin/python benchmarks/make_docs.py

Each section is the Markdown the benchmark itself wrote (with its exact command), so the document only
ever shows figures that a committed command produced.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"

SECTIONS = [
    ("Speed: per-iteration time against the paper configuration", "speed_512.md", None),
    ("Speed: the 48-channel `fast`, one thread", "speed_512_w48.md",
     "The same benchmark after `fast` moved to 48 channels in denoising (see \"Network width\"), one thread, "
     "with a 256x256 stopping evaluation running on each core beside it (so all three configurations ran "
     "slower than alone, alike): `fast` is 0.12x the paper configuration in float32 per iteration at "
     "512x512 (64 channels: 0.19x with one thread, 0.17x with two, below)."),
    ("Speed: torch.compile, one thread", "speed_512_compile.md",
     "The same benchmark with `fast` also run through `torch.compile` (TorchInductor; the fit setting "
     "`FitConfig.compile`), one thread while a full-size fit ran on the other core. Compiled iterations were "
     "7 % faster (1.75 against 1.89 s), after a first, compiling iteration of 77 s: it pays after about 550 "
     "iterations and saves about 2 minutes on a 1500-iteration 512x512 fit (5 %). Kept as an option, not the "
     "default. With one thread `fast` is 0.19x the paper configuration in float32 per iteration (0.17x with "
     "two threads, above)."),
    ("Colour denoising, sigma 25 (the paper's noisy images), 128x128 centre crops, `--stop auto`",
     "denoise_sigma25_crop128_auto.md",
     "The product as a user runs it (`auto` = `mns-adaptive` for denoising, sigma given). Published DIP and "
     "CBM3D outputs are scored on the same crop by the same code. The published DIP was fitted on the whole "
     "image; a crop gives the network less of the image to learn from, so crop figures are lower than the "
     "full-size ones for every method that fits the crop alone. With a stopping rule the 'oracle peak' column "
     "only sees the iterations before the stop; the oracle of the whole run is in the fixed-count table below."),
    ("Colour denoising, sigma 25, 128x128 centre crops, fixed 1500 iterations", "denoise_sigma25_crop128_fast.md",
     "The same crops run to the preset's fixed count (`--stop none`): the oracle peak column is the best PSNR "
     "of the whole run. PSNR-vs-iteration curves with the stop point marked, and a bar chart: "
     "`benchmarks/results/plots_denoise_sigma25/`."),
    ("Colour denoising, sigma 50, 128x128 centre crops, `--stop auto`", "denoise_sigma50_crop128_auto.md",
     "Curves: `benchmarks/results/plots_denoise_sigma50/`."),
    ("Pixel restoration, 50 % missing (Table 1), 128x128 centre crops", "pixels_crop128_fast.md",
     "Run when `--stop auto` was `none` for inpainting (it is `holdout` for scattered masks now, see \"Automatic "
     "stopping\"): the preset's fixed count (3000 "
     "iterations at lr 0.01; the paper's Table 1 used 11000 at lr 0.001, preset `paper-pixels`). The oracle peak "
     "sits at or near the last iteration, so running to the cap loses 0.01 dB on average. Run in two processes "
     "to fit the session (the second with `--images hill,man,montage`) and merged by "
     "`benchmarks/merge_tables.py`; the one command in the table regenerates it whole. The metadata's commit is "
     "the one at the last save (a harness defect, since fixed): the runs started at commit 1d9d1c2, and no "
     "later change touches the skip network's inpainting path."),
    ("Super-resolution x4, Set5 and Set14, 128x128 centre crops of the ground truth", "sr_x4_crop128_fast.md",
     "The low-resolution input is made from the cropped GT by Pillow's antialiased bicubic; Y-channel PSNR with a "
     "4-pixel border cropped. Some published SR outputs are shifted against their GT (see shared/data/README.md). "
     "`--stop auto` is `none` for super-resolution: the preset's fixed count (2000 iterations). Run in three "
     "processes (Set5; Set14 from baboon to foreman; Set14 `--images lenna,man,monarch,pepper,ppt3,zebra`) and "
     "merged by `benchmarks/merge_tables.py`; `deepprior bench sr --crop 128 --scales 4 --stop auto --threads 1` "
     "regenerates it whole. As for pixels, the metadata's commit is the one at the last save; no change during "
     "the runs touches the skip network's SR path."),
]
def presets_section() -> str:
    path = RESULTS / "presets_crop128.json"
    if not path.exists():
        return ""
    data = json.loads(path.read_text())
    lines = [
        "## `fast` against `paper` on the same crop",
        "",
        "Each preset with its own iteration count as the cap, seed 0, on the 128x128 centre crop of the paper's "
        "own sigma-25 noisy image; the ground truth only scores. With a fixed count, the paper's 3000 iterations "
        "overfit the noise on a crop this small; with the same stopping rule the two presets can be compared.",
        "",
        "| image | preset | stop | iterations | PSNR | SSIM | noisy input | published DIP, same crop | seconds "
        "| s / iteration | precision |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in data["rows"]:
        lines.append(
            f"| {r['image']} | {r['preset']} | {r['stop']} | {r['iterations']} | {r['psnr']:.2f} | {r['ssim']:.3f} | "
            f"{r['input_psnr']:.2f} | {r['published_dip_psnr_same_crop']:.2f} | {r['seconds']:.0f} | "
            f"{r['s_per_iter']:.3f} | {r['precision']} |"
        )
    meta = data["meta"]
    lines += ["", f"deepprior {meta['deepprior']} at {meta['commit']}, torch {meta['torch']}, "
              f"{meta['cpu_count']} CPUs. The first F16 `fast` row ran with 2 threads, the others with one while other "
              "runs shared the machine, so seconds are not comparable across rows (the side-by-side speed ratio is "
              "in the Speed section). Commands: the docstring of `benchmarks/presets_crop.py`.", ""]
    w48 = RESULTS / "presets_crop128_w48.json"
    if w48.exists():
        d48 = json.loads(w48.read_text())
        lines += ["### The same with the 48-channel `fast` and the method-noise check every 10 iterations", "",
                  "| image | preset | stop | iterations | PSNR | SSIM | seconds | s / iteration | precision |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in d48["rows"]:
            lines.append(f"| {r['image']} | {r['preset']} | {r['stop']} | {r['iterations']} | {r['psnr']:.2f} | "
                         f"{r['ssim']:.3f} | {r['seconds']:.0f} | {r['s_per_iter']:.3f} | {r['precision']} |")
        m = d48["meta"]
        lines += ["", f"deepprior {m['deepprior']} at {m['commit']}, one thread, two 256x256 stopping evaluations "
                  "running beside it. Command: `.venv/bin/python benchmarks/presets_crop.py --data ../shared/data "
                  "--crop 128 --images F16 hill --presets fast paper --threads 1 --stop mns-adaptive --json "
                  "benchmarks/results/presets_crop128_w48.json`.", ""]
    return "\n".join(lines)


#: Issue #4's evaluation of today's ``--stop auto``: condition -> (results file, how the auto rule's stop is known).
#: (Files ending ``_b`` hold the images a second process ran beside the first, into a file of its own.)
AUTO_EVAL = {
    "gaussian-25": ("stop_eval_w48_crop256.json", "replay"),
    "gaussian-50": ("stop_eval_w48_crop256_s50.json", "replay"),
    "poisson-30": ("stop_eval_w48_crop256_poisson.json", "online"),
    "speckle-0.2": ("stop_eval_w48_crop256_speckle.json", "online"),
    "salt-pepper-0.1": ("stop_eval_w48_crop256_saltpepper.json", "online"),
    "pixels-50": ("stop_eval_pixels_keep_crop128.json", "online"),  # known pixels kept, the default since then
}


def _eval_rows(name: str) -> tuple[dict, list[dict]]:
    """The metadata and rows of a stop_eval results file and of its ``_b`` companion, if any."""
    paths = [RESULTS / name, RESULTS / name.replace(".json", "_b.json")]
    datas = [json.loads(p.read_text()) for p in paths if p.exists()]
    return (datas[0]["meta"] if datas else {}), [r for d in datas for r in d["rows"]]


def auto_summary() -> list[str]:
    """One row per condition: where ``--stop auto`` stops against the run's oracle peak."""
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from replay_mns import first_hit_online, replay_from

    lines = [
        "### `--stop auto` today, every condition of issue #4",
        "",
        "The rule `auto` picks for each condition, on fits of the current `fast` run to its fixed count with the "
        "rules as passive observers (`benchmarks/stop_eval.py`, seed 0, one thread). Gap: the run's oracle peak "
        "(best PSNR every 10 iterations, ground truth) minus the PSNR of the image the rule returns; iterations: "
        "where it stopped against the fixed count. 'online': the rule ran in the fit as `auto` runs it. "
        "'replay': the Gaussian fits ran before the wait after the first hit grew to 720 iterations at 256x256; "
        "their stop is replayed from the observer's own first hit (24 checks later, 30 iterations apart, on the "
        "10-iteration history), exact if every check after the first hit hits (they need not be consecutive).",
        "",
        "| condition | `auto` rule | crop | images | oracle peak (mean) | gap (mean) | gap (max) | iterations run "
        "(mean, % of the count) | how | results |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    met = []
    for cond, (name, how) in AUTO_EVAL.items():
        meta, rows = _eval_rows(name)
        rows = [r for r in rows if r["condition"] == cond]
        if not rows:
            lines.append(f"| {cond} | | | 0 | | | | | not run yet | `{name}` |")
            met.append(False)
            continue
        gaps, fracs = [], []
        for r in rows:
            rule = r["auto"]
            if how == "replay":
                first = first_hit_online(r, pace=14)  # the observers' pace at 256x256 then
                it, p = replay_from(r["history"], first if first is not None and first >= 0 else 10**9, 3.0)
            else:
                it, p = r["rules"][rule]["ran"], r["rules"][rule]["psnr"]
            gaps.append(r["oracle_psnr"] - p)
            fracs.append(it / r["cap"])
        n = len(rows)
        gap, frac = sum(gaps) / n, sum(fracs) / n
        crop = meta["args"]["crop"]
        lines.append(f"| {cond} | `{rows[0]['auto']}` | {crop} | {n} | {sum(r['oracle_psnr'] for r in rows) / n:.2f} "
                     f"| {gap:.2f} dB | {max(gaps):.2f} dB | {100 * frac:.0f} % of {rows[0]['cap']} | {how} "
                     f"| `{name}` |")
        met.append(n >= 5 and gap <= 0.5 and frac <= 0.7)
    lines += [
        "",
        f"Issue #4's bounds (mean gap <= 0.5 dB, mean iterations <= 70 % of the count, at least 5 images): met for "
        f"{sum(met)} of {len(met)} conditions. Commands: `.venv/bin/python benchmarks/stop_eval.py --crop 256 "
        "--conditions CONDITION --images F16 baboon kodim03 peppers hill --threads 1 --json "
        "benchmarks/results/FILE` with the results files named above; pixel restoration `--crop 128 "
        "--conditions pixels-50 "
        "--images barbara boat house Lena512 peppers256` (Table 1's masked inputs, 64-channel `fast` for "
        "inpainting). The full tables of every rule follow.",
        "",
        "Salt-and-pepper: returning the pixels that are not pure black or white as given (`keep_known`, as "
        "inpainting keeps its known pixels) turns it into pixel restoration of the pure pixels, and `holdout`'s "
        "estimate into the held-out error alone; with the network's image everywhere (before) it missed both "
        "bounds (0.67 dB at 72 %; table below). It now meets them with little room (0.49 dB, 67 %): the fits "
        "still rise at the 3000th iteration (peaks at 2950-3000), so any stop short of the count gives up "
        "some of the last third. The peak itself rose from 32.22 to 40.80 dB (mean of the 5 crops). The "
        "threshold (0.8 dB) was fixed before these runs; other thresholds replayed on the same fits (exact "
        "here: the estimate is the held-out loss alone, which the trace keeps; `.venv/bin/python "
        "benchmarks/replay_holdout.py benchmarks/results/stop_eval_w48_crop256_saltpepper.json "
        "benchmarks/results/stop_eval_w48_crop256_saltpepper_b.json --condition salt-pepper-0.1 --projected "
        "0.3 0.4 0.5 0.6 0.8 1.0`; the 0.8 row reproduces the online one): 0.3 dB stops 0.21 dB under the peak "
        "at 81 % of the count, 0.4 at 0.28 / 77 %, 0.5 at 0.34 / 74 %, 0.6 at 0.39 / 71 %, 0.8 at 0.49 / "
        "67 %, 1.0 at 0.58 / 63 %: only 0.6-0.8 meet both bounds.",
        "",
    ]
    return lines


def stopping_section() -> str:
    fixed_path = RESULTS / "denoise_sigma25_crop128_fast.json"
    auto_path = RESULTS / "denoise_sigma25_crop128_auto.json"
    lines = [
        "## Automatic stopping",
        "",
        *auto_summary(),
    ]
    if fixed_path.exists() and auto_path.exists():
        fixed = {r["image"]: r["deepprior"] for r in json.loads(fixed_path.read_text())["rows"]}
        rows = json.loads(auto_path.read_text())["rows"]
        lines += [
            "### Sigma 25: the auto run against the oracle of the fixed run",
            "",
            "The same crops, seed and thread count, run once to the fixed 1500 iterations (`--stop none`) and "
            "once with `--stop auto` (the tables above). A stopping rule does not change the fit, so the auto "
            "run follows the fixed run's trajectory until it stops. 'Oracle peak' is the best PSNR of the fixed "
            "run (every 10 iterations; it needs the ground truth); the gap is how far each way of stopping lands "
            "below it.",
            "",
            "| image | fixed 1500: PSNR | oracle peak (iteration) | gap | auto: PSNR | iterations | gap |",
            "|---|---|---|---|---|---|---|",
        ]
        gaps_fixed, gaps_stop, its = [], [], []
        for r in rows:
            f, d = fixed.get(r["image"]), r["deepprior"]
            if f is None:
                continue
            gf, gs = f["oracle_psnr"] - f["psnr"], f["oracle_psnr"] - d["psnr"]
            gaps_fixed.append(gf)
            gaps_stop.append(gs)
            its.append(d["iterations"])
            lines.append(f"| {r['image']} | {f['psnr']:.2f} | {f['oracle_psnr']:.2f} ({f['oracle_iteration']}) | "
                         f"{gf:.2f} | {d['psnr']:.2f} | {d['iterations']} | {gs:.2f} |")
        n = max(1, len(its))
        lines += [
            f"| **mean** | | | **{sum(gaps_fixed) / n:.2f}** | | **{sum(its) / n:.0f}** ({sum(its) / n / 15:.0f} % "
            f"of 1500) | **{sum(gaps_stop) / n:.2f}** |",
            "",
        ]
    if (RESULTS / "stop_eval_crop128.md").exists():
        data = json.loads((RESULTS / "stop_eval_crop128.json").read_text())
        lines += [
            "### Other noises: every rule on the same fits",
            "",
            "Each fit runs the preset's fixed 1500 iterations with every rule attached as a passive observer "
            "(a rule does not change the fit, so each sees what it would see alone); per rule, the mean gap "
            "between the PSNR of the image it would return and the run's oracle peak, and the iterations it would "
            "have run. 128x128 centre crops of the paper's ground truths, the project's seeded noise, the noise "
            f"named with its level (the matched data term). {len(data['rows'])} fits so far; `auto` is "
            "`mns-adaptive` for these noises. Salt-and-pepper is not in this table: its `auto` rule (`holdout`) "
            "changes the fit, so it cannot ride along as an observer (its runs are in the noise-model study). "
            "Run with `--conditions gaussian-50 poisson-30 speckle-0.2`, in two processes split by image (the "
            "second wrote `stop_eval_b_crop128.json`; its rows were appended to the main file, and the script "
            "rewrote the table, resuming with nothing left to run).",
            "",
            (RESULTS / "stop_eval_crop128.md").read_text().strip(),
            "",
            "Command: `.venv/bin/python benchmarks/stop_eval.py --threads 1 --json "
            "benchmarks/results/stop_eval_crop128.json --markdown benchmarks/results/stop_eval_crop128.md`.",
            "",
        ]
    if (RESULTS / "stop_eval_crop256.md").exists():
        data = json.loads((RESULTS / "stop_eval_crop256.json").read_text())
        conds = sorted({r["condition"] for r in data["rows"]})
        lines += [
            "### Stopping on 256x256 crops",
            "",
            "The same passive-observer evaluation on 256x256 centre crops (the size issue #4 asks for), `fast` at "
            "lr 0.003, fixed 1500 iterations, the project's seeded noise with the noise and level named; "
            f"{len(data['rows'])} fits ({', '.join(conds)}). These ran with the method-noise wait of 250 "
            "iterations after the first hit (checks every 10); the wait now grows with the image (350 "
            "iterations at 256x256), whose effect is replayed below from the same fits' histories.",
            "",
            (RESULTS / "stop_eval_crop256.md").read_text().strip(),
            "",
            "Command: `.venv/bin/python benchmarks/stop_eval.py --crop 256 --conditions CONDITION --images ... "
            "--threads 1 --json benchmarks/results/stop_eval_crop256.json --markdown "
            "benchmarks/results/stop_eval_crop256.md` (run in two processes split by image; the rows were "
            "merged into one file and the table rewritten by the script, resuming with nothing left to run).",
            "",
        ]
        replay = RESULTS / "replay_mns_crop256.md"
        if replay.exists():
            lines += [
                "Replayed on these fits' histories with longer waits after the first hit (the statistic from "
                "the logged PSNR against the input; the threshold from the ground truth instead of the averaged "
                "output, so x1 differs a little from the online column above):",
                "",
                replay.read_text().strip(),
                "",
                "Command: `.venv/bin/python benchmarks/replay_mns.py benchmarks/results/stop_eval_crop256.json "
                "--crop 256 --markdown benchmarks/results/replay_mns_crop256.md`.",
                "",
                "What this shows: on 256x256 crops the fits peak late (sigma 25: at 1250-1500 of 1500 iterations, "
                "3 of 5 at the cap; sigma 50: at 1210 and 1290, where 128x128 crops peaked at 420-890), while the "
                "method-noise statistic crosses its threshold early (sigma 50: by iteration ~320-480) and then "
                "falls only slowly (kodim03, sigma 50: 45.4 at iteration 400, 44.1 at the peak, threshold 45.7). "
                "A wait of 250 iterations after the first hit, calibrated on 128x128 crops, stops 0.46 dB (sigma "
                "25) and 1.01 dB (sigma 50) below the peak. The wait now grows with the square root of the side "
                "(x1.4 at 256: replayed 0.25 / 0.55 dB); x2 would give 0.11 / 0.24 dB but 81 % of the iterations "
                "at sigma 25. No wait meets both of issue #4's bounds (0.5 dB, 70 % of 1500) for both noise "
                "levels at this size: the fixed 1500 iterations are barely enough to reach the peak at 256x256.",
                "",
            ]
    w48 = [RESULTS / "stop_eval_w48_crop256.json", RESULTS / "stop_eval_w48_crop256_s50.json"]
    if all(p.exists() for p in w48):
        import sys

        sys.path.insert(0, str(ROOT / "benchmarks"))
        from stop_eval import to_markdown

        rows = [r for p in w48 for r in json.loads(p.read_text())["rows"]]
        for cond in ("poisson-30", "speckle-0.2", "salt-pepper-0.1"):  # run later, with the 720-iteration wait
            rows += [r for r in _eval_rows(AUTO_EVAL[cond][0])[1] if r["condition"] == cond]
        pixels = [r for r in _eval_rows("stop_eval_pixels_crop128.json")[1] if r["condition"] == "pixels-50"]
        kept = [r for r in _eval_rows(AUTO_EVAL["pixels-50"][0])[1] if r["condition"] == "pixels-50"]
        lines += [
            "### Stopping on 256x256 crops: the 48-channel `fast`, 3000 iterations",
            "",
            "The same evaluation after `fast` moved to 48 channels and the paper's 3000 iterations as its fixed "
            f"count (lr 0.003); {len(rows)} fits so far. The Gaussian observers ran with the square-root wait (14 "
            "iterations between checks after the first hit at 256x256, 336 in all); the wait now grows with the "
            "side (30, 720 in all), replayed below.",
            "",
            to_markdown(rows).strip(),
            "",
            "Commands: `.venv/bin/python benchmarks/stop_eval.py --crop 256 --conditions gaussian-25 --images F16 "
            "baboon kodim03 peppers hill --threads 1 --json benchmarks/results/stop_eval_w48_crop256.json` and the "
            "same with `--conditions gaussian-50 --json benchmarks/results/stop_eval_w48_crop256_s50.json`, side "
            "by side, one thread each. The poisson-30, speckle-0.2 and salt-pepper-0.1 rows ran later, with the "
            "720-iteration wait online, the same command with `--conditions CONDITION` and the files of the "
            "summary table above (the `_b` files: images run by a second process beside the first). "
            "salt-pepper-0.1 is fitted with 5 % of its measured pixels held out (its `auto` rule is `holdout`), "
            "and every rule observes that fit; its rows ran at commit f467ae6, with the pixels that are not "
            "pure black or white returned as given (`keep_known`, the default for salt-and-pepper since).",
            "",
        ]
        nokeep = [r for r in _eval_rows("stop_eval_w48_crop256_saltpepper_nokeep.json")[1]
                  if r["condition"] == "salt-pepper-0.1"]
        if nokeep:
            lines += [
                "Salt-and-pepper before that, with the network's image everywhere (commit 86d5370, when "
                "`holdout` gained the diminishing-returns stop; before it the minimum-only rule never fired and "
                "F16 ran all 3000 iterations). With its impulses left out of the fit nothing is over-fitted and "
                "every fit peaks at the 3000th iteration; `holdout` stopped too soon (F16 at 2230, where the "
                "PSNR still rises 0.96 dB to the end while the held-out L1 error, in PSNR terms, improves by "
                "0.34 dB from 2250 on):",
                "",
                to_markdown(nokeep).strip(),
                "",
                "Files `stop_eval_w48_crop256_saltpepper_nokeep.json` and `..._nokeep_b.json` (`--keep-known` "
                "did not exist then; `--no-keep-known` gives that image now). A first version of the keep "
                "(commit 1a275d1) returned every pixel the impulse test did not flag: 3 % of F16's pixels are "
                "impulses the test misses (salt on bright areas, within 0.25 of its neighbours' median), which "
                "capped F16 at 28.97 dB; the rows above keep only the pixels that are not pure black or white.",
                "",
            ]
        if pixels:
            lines += [
                "Pixel restoration (Table 1's masked inputs, 128x128 centre crops, the 64-channel `fast` for "
                "inpainting, 3000 iterations, 5 % of the known pixels held out for `holdout`, which every rule "
                "observes): the method-noise rules have no noise to find and fire at once; `wmv` never fires "
                "(the outputs keep changing). First with the network's image everywhere (as the paper; "
                "`--no-keep-known` now), scored as returned:",
                "",
                to_markdown(pixels).strip(),
                "",
                "Most of what that image gains after the held-out error levels off is on the known pixels, "
                "which the network keeps fitting to the end; `holdout` judged an estimate of the whole image's "
                "error (fitted-pixel data term and held-out error) and stopped 0.52 dB under the peak at 61 % "
                "of the count: just outside issue #4's 0.5 dB. Returning the known pixels as given (the default "
                "since: `keep_known`) removes that slow part; with it, the estimate is the held-out error alone. "
                "The same fits with the known pixels kept, scored as returned:",
                "",
                to_markdown(kept).strip() if kept else "_Not run yet._",
                "",
                "Commands: `.venv/bin/python benchmarks/stop_eval.py --crop 128 --conditions pixels-50 --images "
                "barbara boat house Lena512 peppers256 --threads 1 --json "
                "benchmarks/results/stop_eval_pixels_crop128.json` (commit d9f35e7, before `keep_known`) and, "
                "with the default since, `--json benchmarks/results/stop_eval_pixels_keep_crop128.json` (run at "
                "commit 9062555: its held-out 5 % were drawn by the earlier random draw over all pixels, before "
                "141a3ba drew them among the known pixels from a stream of their own; same share, other pixels). "
                "Other "
                "thresholds of the projected gain, replayed on the first file's fits: `.venv/bin/python "
                "benchmarks/replay_holdout.py benchmarks/results/stop_eval_pixels_crop128.json --projected 0.3 "
                "0.4 0.5 0.6 0.8 1.0` (the fitted share of the image approximated from the mask; the replay of "
                "0.8 gives 63 % where the online rule ran 61 %): 0.3 dB stops at 75 % of the count 0.32 dB under "
                "the peak, 0.4 at 71 % 0.38, 0.5 at 69 % 0.41, 0.6 at 67 % 0.44, 0.8 (the default, chosen before "
                "these runs) at 63 % 0.52, 1.0 at 61 % 0.54. With the network's image no threshold clears both "
                "bounds with room: the curve still rises about 0.4 dB over the last 30 % of the count.",
                "",
            ]
        for name in ("replay_mns_w48_crop256.md", "replay_mns_w48_crop256_s50.md"):
            if (RESULTS / name).exists():
                lines += [(RESULTS / name).read_text().strip(), ""]
        lines += [
            "Replays: `.venv/bin/python benchmarks/replay_mns.py benchmarks/results/stop_eval_w48_crop256.json "
            "--crop 256 --waits 1.4 2 3 4 --online-pace 14 --markdown benchmarks/results/replay_mns_w48_crop256.md`, "
            "and the same for the `_s50` file (the first hit is the online rule's own, inferred from where it fired: "
            "24 checks 14 iterations apart before). x1.4 is the wait the observers ran with, x3 the one `auto` uses "
            "now.",
            "",
            "What this shows: with 48 channels and room to run (3000 iterations), the 256x256 fits peak at "
            "1260-2530 iterations (sigma 25; the textured baboon last) and 1150-1760 (sigma 50). The online "
            "method-noise rule first hits its threshold 420-1090 iterations before the peak, more at sigma 50, so "
            "the 336-iteration wait the observers ran with stopped short (the online columns above). Replayed from "
            "the same first hits, the 720-iteration wait that `auto` now uses at 256x256 lands within issue #4's "
            "bounds (0.5 dB, 70 % of the fixed count) for both Gaussian levels. These are replays of the "
            "wait, exact if every check after the first hit hits; in all 10 fits the method-noise statistic "
            "falls at every 10-iteration sample through the wait (`.venv/bin/python "
            "benchmarks/check_mns_hits.py benchmarks/results/stop_eval_w48_crop256.json "
            "benchmarks/results/stop_eval_w48_crop256_s50.json --online-pace 14`, table below), by 0.87-2.69 on "
            "the 0-255 scale, while the online threshold (from the averaged output, not kept in the history) "
            "moves only with clipping near black and white. An online run of the 720-iteration wait on these "
            "fits has not been made. `wmv` "
            "returned images close to the peak on some fits (F16, peppers) and far below on others (baboon at "
            "sigma 50: 4.35 dB).",
            "",
        ]
        if (RESULTS / "check_mns_hits_w48_crop256.md").exists():
            lines += [(RESULTS / "check_mns_hits_w48_crop256.md").read_text().strip(), ""]
        online = _eval_rows("stop_eval_w48_crop256_online.json")[1]
        if online:
            cells = "; ".join(
                f"{r['image']}: stopped at {r['rules']['mns-adaptive']['ran']} with "
                f"{r['rules']['mns-adaptive']['psnr']:.2f} dB (peak {r['oracle_psnr']:.2f} at {r['oracle_iteration']})"
                for r in online)
            lines += [
                f"Online confirmation of the 720-iteration wait, Gaussian 25 ({len(online)} of the 5 crops so far; "
                "`.venv/bin/python benchmarks/stop_eval.py --crop 256 --conditions gaussian-25 --images hill "
                "kodim03 --threads 1 --json benchmarks/results/stop_eval_w48_crop256_online.json`): "
                f"{cells}. The replay gave hill 1320, 30.45 dB and kodim03 1330, 29.97 dB.",
                "",
            ]
    lines += [
        "### Replay: the check interval",
        "",
        "Replaying the method-noise rule (static threshold 0.978 sigma) on the histories of the 9 fixed sigma-25 "
        "runs shows what the check interval does (`mns-adaptive`'s threshold differs from the static one only "
        "near black and white). A replay at 10-iteration resolution, not an online run:",
        "",
        (RESULTS / "simulate_mns_sigma25_crop128.md").read_text().strip()
        if (RESULTS / "simulate_mns_sigma25_crop128.md").exists() else "",
        "",
        "Command: `.venv/bin/python benchmarks/simulate_mns.py benchmarks/results/denoise_sigma25_crop128_fast.json`. "
        "Hence `auto` = `mns-adaptive` with checks every 10 iterations for denoising.",
        "",
    ]
    return "\n".join(lines)


def noise_section() -> str:
    path = RESULTS / "noise_study_crop128.md"
    if not path.exists():
        return ""
    n = len(json.loads((RESULTS / "noise_study_crop128.json").read_text())["rows"])
    return "\n".join([
        '<a id="noise-models"></a>',
        "## Noise models: plain MSE, the matched data term, and the blind setting",
        "",
        "128x128 centre crops of the paper's ground truths, corrupted by the project's seeded noise models "
        "(Gaussian sigma 25, Poisson peak 30, salt-and-pepper 0.1, speckle 0.2), denoised with the default "
        "preset and `--stop auto`: `MSE` = `--noise N --loss mse` (the paper's loss; the stop rule estimates a "
        "Gaussian sigma), `matched` = `--noise N` with the level given (the noise's own data term and expected "
        "residual), `blind` = nothing said about the noise (`--noise unknown`: isolated black/white pixels -> "
        "L1 with the detected impulses left out of the fit, else squared error weighted by a fitted noise-level "
        "function). Salt-and-pepper, matched or blind, leaves the detected impulses out and stops on held-out "
        "pixels (`holdout`); the amount is not used, so matched and blind are the same run there. For Gaussian "
        "noise MSE is the matched term (one run). 'Oracle' is the best "
        f"PSNR seen along each run up to its stop (the ground truth only scores). {n} runs.",
        "",
        path.read_text().strip(),
        "",
        "Command: `.venv/bin/python benchmarks/noise_study.py --threads 1 --json "
        "benchmarks/results/noise_study_crop128.json --markdown benchmarks/results/noise_study_crop128.md`. "
        "The salt-and-pepper rows (matched, blind) and the blind rows were re-run after the impulse masking and "
        "the weighted noise-level function landed (their rows deleted from the JSON, the script resumes, "
        "`--noises salt-pepper` and `--settings blind`); the other rows did not change with them (at 128x128 the "
        "stop rule's pace is as before). Before, salt-and-pepper read MSE 16.71 / matched 32.45 / blind 34.05 "
        "(plain L1, method-noise stopping) and the blind means Gaussian 28.78, Poisson 28.67, speckle 27.94.",
        "",
        *([
            "### The same at the CIFAR-10 size: 32x32 centre crops",
            "",
            (RESULTS / "noise_study_crop32.md").read_text().strip(),
            "",
            "Command: the same with `--crop 32 --json benchmarks/results/noise_study_crop32.json --markdown "
            "benchmarks/results/noise_study_crop32.md`. At this size the method-noise rule waits 125 iterations "
            "after its first hit instead of 250 (the wait scales with the square root of the image side), and the "
            "blind noise-level function is read on 4x4 blocks instead of 8x8 (`benchmarks/level_function.py`). "
            "Before those two changes (same command, commit 1d9d1c2) the means were: Gaussian 25.72 / blind 25.73, "
            "Poisson MSE 23.36 / matched 24.22 / blind 23.45, salt-and-pepper 15.79 / 29.36 / 21.99, speckle "
            "24.79 / 27.18 / 24.43: every rule stopped far past the peak.",
            "",
            "#### The same through the harness's `folder` table, with the classical baselines",
            "",
            "Poisson peak 30 on the same three 32x32 crops, `deepprior bench folder` with each `--setting`; the "
            "deepprior column reproduces the study's figures exactly (same calls, same seed). A loss to publish: "
            "at this size non-local means (26.95 dB mean) and TV (26.26) both beat every DIP setting (matched "
            "26.14).",
            "",
            *[(RESULTS / f"folder_poisson30_crop32_{s}.md").read_text().strip() + "\n"
              for s in ("matched", "mse", "blind") if (RESULTS / f"folder_poisson30_crop32_{s}.md").exists()],
            "Command (the folder holds links to the three `_GT.png` files): `deepprior bench folder --folder DIR "
            "--crop 32 --noise poisson --peak 30 --setting S --stop auto --threads 1 --json "
            "benchmarks/results/folder_poisson30_crop32_S.json --markdown "
            "benchmarks/results/folder_poisson30_crop32_S.md` for S in matched, mse, blind.",
            "",
        ] if (RESULTS / "noise_study_crop32.md").exists() else []),
    ])


def priors_section() -> str:
    parts = ["## Priors", ""]
    found = False
    if (RESULTS / "nets_tasks_crop128.md").exists():
        found = True
        parts += [
            "### Every network on every task",
            "",
            "128x128 centre crop of kodim03 (the paper's ground truth; super-resolution also on peppers' crop, "
            "`--images peppers --tasks super-resolve`): denoising its sigma-25 noisy crop, "
            "inpainting 50 % dropped pixels, x4 super-resolution from the crop shrunk with antialiased bicubic; "
            "600 iterations, `--stop none`, seed 0, default preset, one thread (other jobs shared the machine, so "
            "seconds per iteration compare networks only roughly). RGB PSNR. A network other than the preset's "
            "runs with its registry default (hourglass: 128 channels, float32 parts as the preset says; U-Net "
            "16-256 channels with transposed convolutions; ResNet 8 blocks of 32) and, for super-resolution, with "
            "the settings its registry entry names for that task: the U-Net and the ResNet take the measurement "
            "upscaled (bicubic) as their input instead of noise, the U-Net with bilinear upsampling, no input "
            "perturbation. From noise they filled the operator's null space with high-frequency artefacts: U-Net "
            "20.34 dB (bilinear 26.92, bilinear + meshgrid input 27.84), ResNet 21.27 dB (meshgrid input 27.35), "
            "against bicubic 28.57 (`benchmarks/sr_failures.py`). `pg` once collapsed at its last fade-in "
            "(8.63 dB): the divergence guard took the planned drop of a growth step on noise-free data for a "
            "divergence and restored the weights 190 times; the guard now starts afresh at each growth step. "
            "The super-resolution rows of U-Net, ResNet and pg were re-run after those fixes "
            "(their rows deleted from the JSON, then the same command with `--tasks super-resolve`: the script "
            "resumes), the others are from the first run.",
            "",
            (RESULTS / "nets_tasks_crop128.md").read_text().strip(),
            "",
            "Command: `.venv/bin/python benchmarks/nets_tasks.py --threads 1 --json "
            "benchmarks/results/nets_tasks_crop128.json --markdown benchmarks/results/nets_tasks_crop128.md`.",
            "",
        ]
    dd = RESULTS / "deep_decoder_astronaut_sigma30.json"
    if dd.exists():
        found = True
        rep = json.loads(dd.read_text())
        rep = rep[0] if isinstance(rep, list) else rep
        flag = "" if rep["stop_reason"] == "max_iter" else f" (INTERRUPTED: {rep['stop_reason']}, not a result)"
        parts += [
            "### Deep Decoder reference point",
            "",
            "| image | noise | k | iterations | returned | PSNR (ours) | reference | input | seconds | precision |",
            "|---|---|---|---|---|---|---|---|---|---|",
            f"| astronaut.png (512x512) | Gaussian sigma 30, seed 0 | 128 | {rep['iterations']}{flag} | iteration "
            f"{rep['stopped_at']} ({rep['config']['stop']['name']}) | {rep['psnr']:.2f} dB | 29.46 dB | "
            f"{rep['input_psnr']:.2f} dB | {rep['seconds']:.0f} | {rep['precision']} |",
            "",
            "Command: `bash benchmarks/run_priors.sh` (its last two lines). Our noise draw differs from the "
            "reference's (a different generator), so single-image figures can differ by the draw.",
            "",
        ]
    if (RESULTS / "pg_vs_skip_crop128.md").exists():
        found = True
        parts += [
            "### PG-DIP against the skip network, side by side",
            "",
            "Both at the `fast` width (64 channels x 5), bfloat16, fixed 1500 iterations on 128x128 crops of the "
            "paper's sigma-25 noisy images, the two networks one after the other in one process. 'Best' is the "
            "oracle (best PSNR along the run, every 10 iterations); 'target' is the lower of the two bests minus "
            "0.1 dB; 'speed-up' is skip's time to the target over pg's.",
            "",
            (RESULTS / "pg_vs_skip_crop128.md").read_text().strip(),
            "",
            "Command: `.venv/bin/python benchmarks/pg_vs_skip.py --threads 1 --json "
            "benchmarks/results/pg_vs_skip_crop128.json --markdown benchmarks/results/pg_vs_skip_crop128.md`.",
            "",
        ]
    return "\n".join(parts) if found else ""


def _ttq_table(d: dict) -> list[str]:
    lines = [
        "| run | PSNR at the stop | iterations | seconds | ratio to the reference's time to 30.54 dB | first reached "
        "30.54 dB |",
        "|---|---|---|---|---|---|",
    ]
    for label, r in d["runs"].items():
        reach = r.get("reached_30_54")
        reached = "never" if reach is None else (
            f"iteration {reach['iteration']}, {reach['seconds']:.0f} s (ratio {r['ratio_reaching_30_54']:.2f})")
        lines.append(f"| `deepprior denoise` {label} (`{r['preset']}`, {r['precision']}, stop "
                     f"{r['stop']['name']}) | {r['psnr']:.2f} dB | {r['iterations']} | {r['seconds']:.0f} | "
                     f"{r['ratio_to_reference_time']:.2f} | {reached} |")
    return lines


def speed_section() -> str:
    path = RESULTS / "time_to_quality_f16_256.json"
    new = RESULTS / "time_to_quality_f16_256_w48.json"
    if not path.exists() or not new.exists():
        return ""
    d, d48 = json.loads(path.read_text()), json.loads(new.read_text())
    ref, ref48 = d["reference"], d48["reference"]
    lines = [
        "## Time to quality (issue #6 reference curve)",
        "",
        "The reference: the paper network in float32 with the paper's denoising settings reaches 30.54 dB at "
        "iteration 1000 on the 256x256 crop (x, y from 128 to 384) of the paper's sigma-25 noisy F16. Its time "
        "here is 1000 x its per-iteration time measured in the same run, before and after the runs.",
        "",
        "`fast` with 48 channels, 3000 iterations as the cap and the 720-iteration method-noise wait at 256x256 "
        f"(commit in `{new.name}`). Reference: {ref48['s_per_iter_before']:.3f} s per iteration before and "
        f"{ref48['s_per_iter_after']:.3f} s after, so {ref48['seconds_to_30_54']:.0f} s (two 256x256 evaluations "
        "shared the machine throughout, alike for the reference's timing and the runs):",
        "",
        *_ttq_table(d48),
        "",
        "The default (blind) run meets issue #6's target (at least 30.5 dB in at most 0.25x the reference's "
        "time); the stretch (0.05x) is far. The same script with the 336-iteration wait (commit 8a65cf0): blind "
        "30.34 dB at 1216 iterations (ratio 0.20), `--sigma 25` 30.87 dB at 1776 (ratio 0.28).",
        "",
        f"Before, `fast` with 64 channels, 1500 iterations and the 350-iteration wait (reference "
        f"{ref['s_per_iter_before']:.3f} / {ref['s_per_iter_after']:.3f} s per iteration, so "
        f"{ref['seconds_to_30_54']:.0f} s):",
        "",
        *_ttq_table(d),
        "",
        "The 64-channel `--sigma 25` run ended at the 1500-iteration cap before its rule fired. Its blind run "
        "stopped early: the noise-level function of the time (residual from a 3x3 mean) read sigma about 26.3 "
        "at mid-grey on this crop (true 25); the diagonal-wavelet one now reads 25.6.",
        "",
        "Commands: `.venv/bin/python benchmarks/time_to_quality.py --threads 1 --json "
        "benchmarks/results/time_to_quality_f16_256_w48.json` (and `..._f16_256.json` for the older run).",
        "",
    ]
    return "\n".join(lines)


#: Full-size runs (issue #6): results file -> what the default was when it ran.
FULL_SIZE = {
    "full_size_sigma25.json": "`fast` with 64 channels, lr 0.003, a 1500-iteration cap (commit 6dc150e)",
    "full_size_sigma25_w48.json": "`fast` with 48 channels and the paper's 3000-iteration cap (today's default)",
}


def _ref_s(r: dict) -> float:
    """The reference's seconds per iteration of a full-size row: the mean of its timings before and after the
    fit, unless one is more than 30 % above the other (another job disturbed it): then the smaller one."""
    a, b = r["reference_s_per_iter"]
    return min(a, b) if max(a, b) > 1.3 * min(a, b) else (a + b) / 2


def _ratio(r: dict) -> float:
    return r["seconds"] / (1800 * _ref_s(r))


def full_size_section() -> str:
    runs = [(RESULTS / name, what) for name, what in FULL_SIZE.items() if (RESULTS / name).exists()]
    if not runs:
        return ""
    lines = [
        "## Full size, sigma 25 (issue #6)",
        "",
        "The default `deepprior denoise --sigma 25` (automatic stop) on the paper's full-size noisy "
        "images; the ratio is its time over 1800 iterations of the paper configuration in float32, timed in the "
        "same run on the same image (before and after the fit, averaged; where one timing is more than 30 % "
        "above the other, another job disturbed it and the smaller is used: lena's and peppers' 'before' "
        "timings, 21.2 and 20.4 s against 9.8 and 10.4 after, ran beside a test suite; averaged, their ratios "
        "would read 0.15, which `full_size.py` printed). The fits themselves shared the machine with other "
        "jobs too (a 20-minute test suite during lena's and peppers'), so their seconds are, if anything, high. "
        "Issue #6 asks for a mean of at least 30.43 dB over the 9 images at a ratio of at most 0.1.",
        "",
    ]
    for path, what in runs:
        companion = path.with_name(path.stem + "_b.json")  # a second process's images
        files = [f for f in (path, companion) if f.exists()]
        per_file = [(f, json.loads(f.read_text())["rows"]) for f in files]
        rows = [r for _, rs in per_file for r in rs]
        lines += [
            f"{what}: {len(rows)} of 9 images.",
            "",
            "| image | PSNR | iterations | stop | seconds | reference s / iteration | ratio | oracle peak (iteration) "
            "| first >= 30.43 dB (iteration, ratio) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            ref = _ref_s(r)
            first = next((h["iteration"] for h in r["history"] if (h.get("psnr") or 0) >= 30.43), None)
            reach = "never" if first is None else (
                f"{first}, {r['seconds'] * first / r['iterations'] / (1800 * ref):.3f}")
            lines.append(f"| {r['image']} | {r['psnr']:.2f} | {r['iterations']} | {r['stop']['name']} | "
                         f"{r['seconds']:.0f} | {ref:.2f} | {_ratio(r):.3f} | "
                         f"{r['oracle_psnr']:.2f} ({r['oracle_iteration']}) | {reach} |")
        if len(rows) > 1:
            n = len(rows)
            lines.append(f"| **mean ({n})** | **{sum(r['psnr'] for r in rows) / n:.2f}** | "
                         f"{sum(r['iterations'] for r in rows) / n:.0f} | | | | "
                         f"**{sum(_ratio(r) for r in rows) / n:.3f}** | | |")
        commands = "; ".join(
            f"`.venv/bin/python benchmarks/full_size.py --images {' '.join(r['image'] for r in rs)} --threads 1 "
            f"--json benchmarks/results/{f.name}`" for f, rs in per_file)
        lines += ["", f"Commands: {commands} (one thread each, other jobs on the other core; the time to 30.43 dB "
                  "assumes iterations of even cost).", ""]
    return "\n".join(lines)


#: Iterations at which the full-size curves are tabulated (1310: where `fast`'s measured CPU ratio reaches 0.1).
CURVE_POINTS = (500, 1000, 1310, 1500, 1800, 2500, 3000)


def _rows_of(*names: str) -> list[dict]:
    """The rows of those results files that exist, in order."""
    return [r for n in names if (RESULTS / n).exists() for r in json.loads((RESULTS / n).read_text())["rows"]]


def _partial_row(path: Path) -> dict:
    """A partial curve (``full_size_curves.py``'s ``*_partial.json``) as a row with a history."""
    part = json.loads(path.read_text())
    return {"image": part["image"], "history": [{"iteration": i, "psnr": p} for i, p in part["curve"]],
            "last": part["curve"][-1][0]}


def _cpu_per_iter_ratio() -> tuple[float, int] | None:
    """`fast`'s CPU seconds per iteration over the paper configuration's, from the full-size CPU runs of
    today's default (mean over the images run), and how many images that is."""
    ratios = [r["seconds"] / r["iterations"] / _ref_s(r)
              for r in _rows_of("full_size_sigma25_w48.json", "full_size_sigma25_w48_b.json")]
    return (sum(ratios) / len(ratios), len(ratios)) if ratios else None


def _at(history: list[dict], it: int) -> float | None:
    """The averaged output's PSNR logged at iteration ``it`` (the nearest logged one at or below it)."""
    best = None
    for h in history:
        if h["iteration"] <= it and h.get("psnr") is not None:
            best = h["psnr"]
    return best


def full_size_curves_section() -> str:
    main_path = RESULTS / "full_size_curves_h100_paper3000.json"
    rep_path = RESULTS / "full_size_curves_h100_paper1800.json"
    if not main_path.exists():
        return ""
    runs = json.loads(main_path.read_text())["rows"]
    rep = {r["image"]: r for r in json.loads(rep_path.read_text())["rows"]} if rep_path.exists() else {}
    cpu = _cpu_per_iter_ratio()
    lines = [
        "## Full size, sigma 25: the paper configuration per iteration on all 9 images (issue #6; fits on a GPU)",
        "",
        "A full-size fit takes about an hour per 512x512 image on this machine, so the reference side of issue "
        "#6's full-size target was measured on an H100 lent to one session (`benchmarks/full_size_curves.py`, "
        "seed 0, the paper's own noisy images, `--sigma 25`, PSNR of the averaged output against the ground "
        "truth every 10 iterations; the default stopping rule, `mns-adaptive`, observes without stopping). "
        "**These fits are of the `paper` configuration** (skip network 128x5, lr 0.01, float32 with cuDNN's "
        "default TF32 convolutions): the first run gave no `--preset`, and the default preset on a GPU is "
        "`paper`, so it measured the reference, not `fast` (commit 1366828 published them as `fast`; "
        "corrected since). The replicate column is a second run of the same configuration to 1800 iterations "
        "(`--preset paper`): CUDA fits are not bitwise reproducible, and it shows how far two runs drift.",
        "",
    ]
    head = ("| image | size | " + " | ".join(f"@{c}" for c in CURVE_POINTS)
            + " | `mns-adaptive` stop | oracle peak | replicate @1800 |")
    lines += [head, "|---|---|" + "---|" * (len(CURVE_POINTS) + 3)]
    cols: dict[int, list[float]] = {c: [] for c in CURVE_POINTS}
    autos, peaks, rep1800 = [], [], []
    for r in runs:
        vals = [_at(r["history"], c) for c in CURVE_POINTS]
        for c, v in zip(CURVE_POINTS, vals, strict=True):
            cols[c].append(v)
        pr = rep.get(r["image"])
        p18 = _at(pr["history"], 1800) if pr else None
        if p18 is not None:
            rep1800.append(p18)
        autos.append(r["auto"]["psnr"])
        peaks.append(r["oracle_psnr"])
        lines.append(f"| {r['image']} | {r['size'][1]}x{r['size'][0]} | " + " | ".join(f"{v:.2f}" for v in vals)
                     + f" | {r['auto']['psnr']:.2f} @ {r['auto']['returned_at']} | {r['oracle_psnr']:.2f} @ "
                     f"{r['oracle_iteration']} | {'—' if p18 is None else f'{p18:.2f}'} |")
    n = len(runs)
    mean = {c: sum(v) / n for c, v in cols.items()}
    lines.append(f"| **mean ({n})** | | " + " | ".join(f"**{mean[c]:.2f}**" for c in CURVE_POINTS)
                 + f" | **{sum(autos) / n:.2f}** | {sum(peaks) / n:.2f} | "
                 + (f"{sum(rep1800) / len(rep1800):.2f} |" if rep1800 else "— |"))
    cpu_rows = _rows_of("full_size_sigma25_w48.json", "full_size_sigma25_w48_b.json", "full_size_curves_cpu_fast.json")
    partial_note = ""
    for path in sorted(RESULTS.glob("full_size_curves_cpu_fast_*_partial.json")):  # a curve cut off by the session
        if path.name.startswith("full_size_curves_cpu_fast_w"):  # another width: below
            continue
        part = _partial_row(path)
        if part["image"] not in {r["image"] for r in cpu_rows}:
            cpu_rows.append(part)
            partial_note = (
                f" {part['image']}: `benchmarks/full_size_curves.py --images {part['image']} --preset fast --device "
                "cpu --threads 1 --iters 3000 --json benchmarks/results/full_size_curves_cpu_fast.json`, cut off at "
                f"iteration {part['last']} by the session's end (its partial curve, `{path.name}`).")
    ref = {r["image"]: r for r in runs}
    both = [r for r in cpu_rows if r["image"] in ref]
    if both:
        points = (1000, 1400, 2000, 3000)
        lines += ["", "`fast` (today's CPU default, 48 channels, bfloat16) on the CPU (`benchmarks/full_size.py`, the "
                  "section above) against this `paper` curve, PSNR at the same iterations." + partial_note, "",
                  "| image | " + " | ".join(f"`fast` CPU / `paper` GPU @{c}" for c in points) + " |",
                  "|---|" + "---|" * len(points)]
        for r in both:
            cells = []
            for c in points:
                last = max(h["iteration"] for h in r["history"])
                x, y = (_at(r["history"], c) if c <= last else None), _at(ref[r["image"]]["history"], c)
                cells.append("—" if x is None or y is None else f"{x:.2f} / {y:.2f}")
            lines.append(f"| {r['image']} | " + " | ".join(cells) + " |")
    lines += _width32_lines(cpu_rows)
    lines += [
        "",
        f"Reading: **our `paper` configuration reaches {mean[1800]:.2f} dB at 1800 iterations (replicate "
        f"{sum(rep1800) / max(len(rep1800), 1):.2f}), not the paper's 30.43**; at a fixed count it stays below "
        f"30.43 through 3000 iterations ({mean[2500]:.2f} at 2500, {mean[3000]:.2f} at 3000) and passes it "
        f"only with the stopping rule ({sum(autos) / n:.2f}: it ends hill, 256x256, at 2000, before the "
        "overfitting that costs it 2.6 dB by 3000). So the reference needs about 3000 iterations for the "
        "quality that issue #6 sets against its 1800. `fast` trails it per iteration (the table just above; "
        "on the 256x256 crop it reached the paper's 1000-iteration PSNR at 1310, \"Network width\"), so it "
        "needs at least as many iterations" + (
            f": at its CPU per-iteration ratio of {cpu[0]:.3f} ({cpu[1]} full-size CPU run(s)), 3000 iterations "
            f"are a ratio of {3000 * cpu[0] / 1800:.2f} and a ratio of 0.1 buys {1800 * 0.1 / cpu[0]:.0f} "
            f"iterations, where the reference's own mean is {_mean_at(runs, round(1800 * 0.1 / cpu[0], -1)):.2f} "
            "dB" if cpu else "") + ". Issue #6's full-size target (>= 30.43 dB at <= 0.1) is **not met**: the "
        "mean of `fast` over the 9 images is measured for the CPU runs listed above only.",
        "",
        "Commands (one process per image; the H100 ran nine at once): `PYTHONPATH=src python3 "
        "benchmarks/full_size_curves.py --data DIR --images NAME --device cuda --threads 1 --iters 3000 --json "
        "FILE` (no preset: the GPU default `paper`) and `--iters 1800 --preset paper`; DIR holds the paper's "
        "`NAME_noisy.png` and `NAME_GT.png` (default: `../shared/data/dip-paper/denoising/sigma25`). Merged into "
        "`benchmarks/results/full_size_curves_h100_paper3000.json` and `..._paper1800.json`. "
        "`bash benchmarks/gpu_full_size.sh DATA_DIR OUT_DIR` runs both configurations (and the GPU speed "
        "benchmark) on a CUDA machine in one go, `fast` named explicitly (not yet run).",
        "",
    ]
    return "\n".join(lines)


def _width32_lines(cpu_rows: list[dict]) -> list[str]:
    """`fast` with 32 channels on a full-size image on the CPU (finished, or the partial curve), beside 48."""
    done = RESULTS / "full_size_curves_cpu_fast_w32.json"
    rows = json.loads(done.read_text())["rows"] if done.exists() else []
    cut = ""
    if not rows:
        parts = sorted(RESULTS.glob("full_size_curves_cpu_fast_w32_*_partial.json"))
        if not parts:
            return []
        part = _partial_row(parts[0])
        rows = [part]
        cut = f", cut off at iteration {part['last']} by the session's end (`{parts[0].name}`)"
    w48 = {r["image"]: r for r in cpu_rows}
    lines = ["", "`fast` with 32 channels at every level instead of 48 (`benchmarks/full_size_curves.py --images "
             f"{rows[0]['image']} --preset fast --width 32 --device cpu --threads 1 --iters 3000 --json "
             f"benchmarks/results/full_size_curves_cpu_fast_w32.json`{cut}), PSNR against 48 channels at the same "
             "iterations:", "", "| image | " + " | ".join(f"32 / 48 @{c}" for c in (500, 1000, 1400, 2000, 3000))
             + " | s / iteration, 32 (48) |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        other = w48.get(r["image"])
        last = max(h["iteration"] for h in r["history"])
        cells = []
        for c in (500, 1000, 1400, 2000, 3000):
            a = _at(r["history"], c) if c <= last else None
            b = _at(other["history"], c) if other else None
            cells.append("—" if a is None or b is None else f"{a:.2f} / {b:.2f}")
        per = f"{r['seconds'] / r['cap']:.2f}" if "seconds" in r else "—"
        per48 = f"{other['seconds'] / other['iterations']:.2f}" if other and "seconds" in other else "—"
        lines.append(f"| {r['image']} | " + " | ".join(cells) + f" | {per} ({per48}) |")
        if "seconds" in r and other and "seconds" in other:
            reach = []
            for row, its, label in ((r, r["cap"], "32"), (other, other["iterations"], "48")):
                first = next((h["iteration"] for h in row["history"] if (h.get("psnr") or 0) >= 30.43), None)
                if first is not None:  # the time to 30.43 dB, over the 48-channel run's reference time
                    reach.append(f"{label} channels at iteration {first}, ratio "
                                 f"{row['seconds'] * first / its / (1800 * _ref_s(other)):.3f}")
            lines += ["", f"{r['image']} first reached 30.43 dB with " + "; ".join(reach) + " (the reference time "
                      "of the 48-channel run on the same image; iterations of even cost). Narrower is faster to a "
                      "given PSNR on this image by about a quarter, and ends lower at the 3000 cap."]
    return lines


def _mean_at(rows: list[dict], it: float) -> float:
    vals = [_at(r["history"], int(it)) for r in rows]
    return sum(v for v in vals if v is not None) / len(rows)


def cuda_speed_section() -> str:
    names = ["speed_512_cuda.md", "speed_cuda_old512.md", "speed_cuda_new512.md", "speed_cuda_new512c.md",
             "speed_cuda_old2048.md", "speed_cuda_new2048.md"]
    if not all((RESULTS / n).exists() for n in names):
        return ""
    what = {
        "speed_512_cuda.md": "512x512, commit 689857f (the loop as it was), first call",
        "speed_cuda_old512.md": "512x512, the same code, second call",
        "speed_cuda_new512.md": "512x512, after a1b4bb1 (the guard's snapshot copied in place; fused Adam on CUDA)",
        "speed_cuda_new512c.md": "512x512, after a1b4bb1, with `--compile`",
        "speed_cuda_old2048.md": "2048x2048, before a1b4bb1",
        "speed_cuda_new2048.md": "2048x2048, after a1b4bb1",
    }
    lines = [
        "## Speed on a GPU (issue #6): an H100",
        "",
        "`deepprior bench speed --device cuda` on an H100 lent to one session (16 CPU threads, torch 2.11.0+cu130), "
        "in two calls of the device. At 512x512 every configuration takes 18-31 ms per iteration, with no "
        "gain from bfloat16, from 48 channels or from `torch.compile`: the loop is bound by kernel launches "
        "and one host synchronisation per iteration (the loss and the divergence guard read a number each "
        "step), not by arithmetic; the spread between two calls of the same code (0.026 against 0.018 s for "
        "the reference) is larger than any difference between the loops. At 2048x2048 the arithmetic counts: "
        "`fast` is 0.55x the paper configuration in float32, `paper` in bfloat16 0.87x. The in-place snapshot "
        "and fused Adam changed nothing measurable at either size (kept: no allocation per step, and fewer "
        "launches). What would pay on a GPU: no host sync per step (the guard's test on the device), then CUDA "
        "graphs of the whole step. `paper` stays the GPU default (per iteration at 512x512 it costs what "
        "`fast` does, it gains more per iteration: see the full-size table above, and it is the paper's "
        "network).",
        "",
    ]
    for n in names:
        lines += [f"{what[n]}:", "", (RESULTS / n).read_text().strip(), ""]
    lines += ["The commands name `/root/out/...`: the device's output folder; the files were copied into "
              "`benchmarks/results/` as named above.", ""]
    return "\n".join(lines)


def width_section() -> str:
    path = RESULTS / "width_study_f16_256.json"
    if not path.exists():
        return ""
    d = json.loads(path.read_text())
    lines = [
        "## Network width of `fast` in denoising (issue #6)",
        "",
        "The `fast` skip network with 32, 48 or 64 channels at every level (skip channels 4), on the 256x256 "
        "reference crop of issue #6 (F16, the paper's sigma-25 noisy image, `--sigma 25 --stop none`, seed 0, "
        "bfloat16, one thread). Averaged-output PSNR; the ground truth only scores. The 64-channel row is the "
        "lr 0.003 run of the learning-rate study below (1500 iterations).",
        "",
        "| width | lr | @ 500 | @ 1000 | @ 1500 | @ 2000 | best (iteration) | first >= 30.54 dB | seconds (run) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    rows = list(d["runs"].values())
    lr_path = RESULTS / "lr_study_f16_256.json"
    if lr_path.exists():
        for r in json.loads(lr_path.read_text())["runs"].values():
            if r["lr"] == 0.003 and "history" in r:
                rows.append({**r, "width": 64, "seconds": None})
    for r in sorted(rows, key=lambda v: (v["width"], v["lr"])):
        h = {x["iteration"]: x["psnr"] for x in r["history"] if x["psnr"] is not None}
        first = min((i for i, v in h.items() if v >= 30.54), default=None)
        best = max(h, key=lambda i: h[i])
        cells = [f"{h[i]:.2f}" if i in h else "—" for i in (500, 1000, 1500, 2000)]
        secs = "—" if r.get("seconds") is None else f"{r['seconds']:.0f}"
        lines.append(f"| {r['width']} | {r['lr']:g} | " + " | ".join(cells)
                     + f" | {h[best]:.2f} ({best}) | {first or 'never'} | {secs} |")
    lines += [
        "",
        "Per-iteration time at 256x256, one thread (`benchmarks/width_time.py`, `fast` settings, widths "
        "interleaved in one process): with nothing else running (a first run, 1 round of 6 timed iterations) 64 "
        "channels 0.337 s, 48: 0.220, 32: 0.167; with two fits beside it (`benchmarks/results/width_time_256.txt`, "
        "2 rounds) 0.668, 0.409, 0.243. Time to 30.54 dB, iterations x seconds: 32 channels 1900 x 0.167 = 317 s "
        "(alone) / 462 s (shared), 48: 1310 x 0.220 = 288 / 536, 64: 1240 x 0.337 = 418 / 828. So 48 and 32 "
        "channels tie within the machine's noise and both beat 64 by a third or more; 48 peaks higher (30.88 "
        "against 30.66 within 2000 iterations) in fewer iterations, so `fast` denoises with 48 channels since "
        "this measurement (inpainting and super-resolution keep 64: not measured). The runs' seconds column is "
        "not comparable across rows (two processes shared the machine, in different pairs).",
        "",
        "Commands: `.venv/bin/python benchmarks/width_study.py --widths W --lr LR --iters 2000 --threads 1 "
        "--json OUT.json` per row (two at a time; merged into `benchmarks/results/width_study_f16_256.json`).",
        "",
    ]
    return "\n".join(lines)


def lr_section() -> str:
    path = RESULTS / "lr_study_f16_256.json"
    if not path.exists():
        return ""
    d = json.loads(path.read_text())
    lines = [
        "## Learning rate of `fast` in denoising (issue #6)",
        "",
        "The 64-channel `fast` network fits the 256x256 reference crop of issue #6 (F16, the paper's sigma-25 "
        "noisy image, `--sigma 25 --stop none`, seed 0) sooner with a *smaller* Adam step than the paper's 0.01. "
        "Averaged-output PSNR (the ground truth only scores):",
        "",
        "| lr | @ 500 | @ 1000 | @ 1500 |",
        "|---|---|---|---|",
    ]
    for r in sorted(d["runs"].values(), key=lambda v: -v["lr"]):
        at = r["at"]
        lines.append(f"| {r['lr']:g} | {at.get('500', float('nan')):.2f} | {at.get('1000', float('nan')):.2f} | "
                     + (f"{at['1500']:.2f}" if "1500" in at else "—") + " |")
    lines += [
        "",
        "The paper network in float32 reaches 27.37 / 30.54 / 31.19 on this crop (BENCH.md). With lr 0.003 the "
        "`fast` run first reaches 30.54 dB at about iteration 1240 instead of 1490. A scratch run with lr 0.005 and "
        "output averaging 0.9 instead of 0.99 gave 27.55 / 29.90 / 30.68 (faster early, lower later); averaging "
        "stays 0.99. On 128x128 crops, where the fit peaks within a few hundred iterations, lr 0.003 cost 0.12 dB "
        "on the mean of the 9 sigma-25 crops with `--stop auto` (29.50 against 29.62, table below) for 14 % "
        "fewer iterations (796 against 930); on a 256 crop of kodim03 (project noise sigma 25, 1500 iterations) "
        "its best was 30.21 against 30.07 with lr 0.01 (the lr 0.01 run's file was not kept: `benchmarks/"
        "stop_eval.py --crop 256 --conditions gaussian-25 --images kodim03 --lr 0.01 --threads 1`). Hence `fast` "
        "denoises with lr 0.003 since this "
        "measurement; the denoising tables above were run with lr 0.01 (their settings line names the commit).",
        "",
        "Commands: " + d["meta"]["command"] + "; runs " + ", ".join(
            f"lr {r['lr']:g}: {r['script'].split(' ')[0]}" for r in d["runs"].values()) + ".",
        "",
    ]
    table = RESULTS / "denoise_sigma25_crop128_auto_lr003.md"
    if table.exists():
        lines += ["### Sigma 25, 128x128 crops, `--stop auto`, lr 0.003", "", table.read_text().strip(), ""]
    return "\n".join(lines)


def files_section(title: str, names: list[str], note: str) -> str:
    parts = [f"## {title}", "", note, ""]
    found = False
    for name in names:
        p = RESULTS / name
        if p.exists():
            found = True
            parts += ["```", p.read_text().strip(), "```", ""]
    return "\n".join(parts) if found else ""


def main() -> None:
    out = [
        "# Benchmarks",
        "",
        "Every figure here was written by a committed command (given under each table) on the 2-core development "
        "machine (no GPU). Protocols: `../shared/BENCH.md`. The ground truth is used only to score; the "
        "'oracle peak' column is the best PSNR along the run, which needs the ground truth: an upper bound for "
        "a stopping rule, never a result. Missing sections have not been run yet.",
        "",
    ]
    expected = {"denoise_sigma25": 9, "denoise_sigma50": 9, "pixels": 11, "sr_x4": 19}
    for title, name, note in SECTIONS:
        path = RESULTS / name
        out.append(f"## {title}")
        out.append("")
        data_path = path.with_suffix(".json")
        want = next((n for key, n in expected.items() if name.startswith(key)), None)
        if data_path.exists() and want is not None:
            got = len(json.loads(data_path.read_text())["rows"])
            if got < want:
                out += [f"**Partial: {got} of {want} images so far** (the run was stopped; re-run the command to "
                        "complete it).", ""]
        if note:
            out += [note, ""]
        out.append(path.read_text().strip() if path.exists() else "_Not run yet._")
        out.append("")
    for section in (
        presets_section(),
        stopping_section(),
        noise_section(),
        priors_section(),
        speed_section(),
        full_size_section(),
        full_size_curves_section(),
        cuda_speed_section(),
        width_section(),
        lr_section(),
        files_section(
            "Memory: tiled fits", ["tiling_memory.txt"],
            "Peak resident memory (`/usr/bin/time -v`) of `deepprior denoise --tile 256 --iters 2 --stop none` "
            "(preset `fast`) on two sizes of the same photograph. Command: `bash benchmarks/tiling_memory.sh`. "
            "Untiled fits follow below (`benchmarks/results/untiled_memory.txt`).",
        ),
        files_section(
            "Memory: untiled fits, and how it grows with size", ["untiled_memory.txt"],
            "Peak resident memory of a 2-iteration untiled fit (`benchmarks/untiled_memory.py SIZE PRESET`, automatic "
            "tiling kept off): it grows linearly with the pixel count above a fixed ~0.45 GB: about 2.0 kB per "
            "pixel for today's `fast` denoiser (48 channels, bfloat16: 44 bytes per pixel per channel), 2.4 kB for "
            "the 64-channel `fast` (inpainting, super-resolution; 38 per channel) and 7 kB for `paper` (128 "
            "channels, float32: 56 per channel). At 512x512: 1.1 GB (`fast`, 48 or 64 channels) and 2.3 GB "
            "(`paper`); at 2048x2048: 8.9 GB (`fast`, 48 channels), 10.8 GB (64 channels) and about 30 GB by the "
            "same line for `paper`, which does not fit this 24 GB machine. Automatic tiling uses the per-channel "
            "line's largest figure (56 bytes), so it over-estimates the 48-channel fit (11.7 GB against 8.9 "
            "measured at 2048x2048): under the default budget (half the machine's memory, 12 GB here) that fit "
            "is not tiled; the 64-channel one was (estimate 15.5 GB), and peaked at 2.5 GB tiled.",
        ),
        files_section(
            "Seams of the default tiling", ["seam_1024.json"],
            "Seam metric (gradient energy across tile boundaries over the energy elsewhere; 1 = no trace, above 1 = "
            "visible seams). Measured after only 50 iterations per tile (an early, blurry state of the fit: PSNR "
            "12.5 dB) because of the time this machine had; the clean and noisy images are scored at the same "
            "boundaries for comparison. A measurement at full fit length is still to be made. "
            "Command: `.venv/bin/python benchmarks/seam.py --iters 50 --json benchmarks/results/seam_1024.json`.",
        ),
    ):
        if section:
            out.append(section)
    (ROOT / "docs" / "benchmarks.md").write_text("\n".join(out).rstrip() + "\n")


if __name__ == "__main__":
    main()
