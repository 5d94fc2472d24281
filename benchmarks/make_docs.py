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
    ("Colour denoising, sigma 25 (the paper's noisy images), 128x128 centre crops", "denoise_sigma25_crop128_fast.md",
     "Published DIP and CBM3D outputs are scored on the same crop by the same code. The published DIP was fitted "
     "on the whole image; a crop gives the network less of the image to learn from, so crop figures are lower "
     "than the full-size ones for every method that fits the crop alone. PSNR-vs-iteration curves with the stop "
     "point marked, and a bar chart: `benchmarks/results/plots_denoise_sigma25/`."),
    ("Colour denoising, sigma 50, 128x128 centre crops", "denoise_sigma50_crop128_fast.md", None),
    ("Pixel restoration, 50 % missing (Table 1), 128x128 centre crops", "pixels_crop128_fast.md", None),
    ("Super-resolution x4, Set5 and Set14, 128x128 centre crops of the ground truth", "sr_x4_crop128_fast.md",
     "The low-resolution input is made from the cropped GT by Pillow's antialiased bicubic; Y-channel PSNR with a "
     "4-pixel border cropped. Some published SR outputs are shifted against their GT (see shared/data/README.md)."),
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
    return "\n".join(lines)


def stopping_section() -> str:
    fixed_path = RESULTS / "denoise_sigma25_crop128_fast.json"
    stop_path = RESULTS / "stop_mns-adaptive_sigma25_crop128_limit3.json"
    if not (fixed_path.exists() and stop_path.exists()):
        return ""
    fixed = {r["image"]: r["deepprior"] for r in json.loads(fixed_path.read_text())["rows"]}
    rows = json.loads(stop_path.read_text())["rows"]
    lines = [
        "## Automatic stopping (partial evaluation)",
        "",
        "The same crops and settings, run once to the fixed 1500 iterations (`--stop none`, the table above) and "
        "once with `--stop mns-adaptive` (sigma given). 'Oracle peak' is the best PSNR of the fixed run, sampled "
        "every 10 iterations (it needs the ground truth); the gap is how far each way of stopping lands below it.",
        "",
        "| image | fixed 1500: PSNR | oracle peak (iteration) | gap | mns-adaptive: PSNR | iterations | gap |",
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
        "Command: `deepprior bench denoise --crop 128 --sigmas 25 --limit 3 --stop mns-adaptive --no-baselines "
        "--threads 1 --json benchmarks/results/stop_mns-adaptive_sigma25_crop128_limit3.json`, run at commit "
        f"{json.loads(stop_path.read_text())['meta']['commit']} when the rule checked every iteration (it now "
        "checks every 10 iterations, see below).",
        "",
        "Replaying the method-noise rule (static threshold 0.978 sigma) on the histories of all 9 fixed runs above "
        "shows what the check interval does; `mns-adaptive`'s threshold differs from the static one only near "
        "black and white. This is a replay at 10-iteration resolution, not an online run:",
        "",
        (RESULTS / "simulate_mns_sigma25_crop128.md").read_text().strip()
        if (RESULTS / "simulate_mns_sigma25_crop128.md").exists() else "",
        "",
        "Command: `.venv/bin/python benchmarks/simulate_mns.py benchmarks/results/denoise_sigma25_crop128_fast.json`. "
        "Hence `auto` = `mns-adaptive` with checks every 10 iterations for denoising. Not yet measured: the other "
        "rules online, sigma 50, Poisson, salt-and-pepper, speckle, pixel restoration, super-resolution.",
        "",
    ]
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
        files_section(
            "Memory: tiled fits", ["tiling_memory.txt"],
            "Peak resident memory (`/usr/bin/time -v`) of `deepprior denoise --tile 256 --iters 2 --stop none` "
            "(preset `fast`) on two sizes of the same photograph. Command: `bash benchmarks/tiling_memory.sh`. "
            "Untiled fits, measured with 2 iterations (`fast` / `paper`): 576 / 873 MB at 256x256 and 1039 / 2278 MB "
            "at 512x512, i.e. about 420 MB plus 37 (fast) to 56 (paper) bytes per pixel per network channel.",
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
