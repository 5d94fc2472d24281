"""Data terms per noise: plain MSE, the noise-matched term, and the blind setting, side by side.

Each clean image (a centre crop of one of the DIP paper's ground truths) is corrupted with the project's
own seeded noise models at the levels of issue #9 (Gaussian sigma 25, Poisson peak 30, salt-and-pepper 0.1,
speckle 0.2), then denoised three ways with the default preset and ``--stop auto`` (the product as a user
runs it):

- ``mse``: the paper's loss, ``denoise --noise N --loss mse`` (the stop rule estimates a Gaussian sigma);
- ``matched``: ``denoise --noise N`` with the level given (the noise's own data term and expected residual);
- ``blind``: ``denoise`` with nothing said about the noise (``--noise unknown``).

For Gaussian noise ``mse`` and ``matched`` are the same setting and run once. The ground truth only
scores; 'oracle' is the best PSNR seen along the run (every 10 iterations, up to where it stopped).

    .venv/bin/python benchmarks/studies/noise_study.py --threads 1 --json benchmarks/results/noise_study_crop128.json \
        --markdown benchmarks/results/noise_study_crop128.md
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import _path  # noqa: F401  (puts benchmarks/ on sys.path: common, docgen)
from common import DATA, centre_crop, markdown_table, results_meta
from deepprior import api, io

NOISES = {"gaussian": {"sigma": 25.0}, "poisson": {"peak": 30.0}, "salt-pepper": {"amount": 0.1},
          "speckle": {"sigma": 0.2}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--images", nargs="+", default=["F16", "kodim03", "peppers"])
    ap.add_argument("--noises", nargs="+", default=list(NOISES))
    ap.add_argument("--settings", nargs="+", default=["mse", "matched", "blind"])
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--iters", type=int, default=None)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, required=True)
    ap.add_argument("--markdown", type=Path)
    args = ap.parse_args()
    rows = json.loads(args.json.read_text())["rows"] if args.json.exists() else []
    done = {(r["image"], r["noise"], r["setting"]) for r in rows}
    for name in args.images:
        gt_path = args.data / "dip-paper/denoising/sigma25" / f"{name}_GT.png"
        clean = centre_crop(io.load_image(gt_path).pixels, args.crop)
        for noise in args.noises:
            level = NOISES[noise]
            noisy = api.degrade(clean, noise=noise, seed=args.seed, **level).image
            for setting in args.settings:
                if (noise == "gaussian" and setting == "mse") or (name, noise, setting) in done:
                    continue
                kw: dict = {"noise": noise, "loss": "mse"} if setting == "mse" else (
                    {"noise": noise, **level} if setting == "matched" else {})
                t0 = time.perf_counter()
                r = api.denoise(noisy, reference=clean, num_iter=args.iters, threads=args.threads, seed=args.seed,
                                **kw)
                seconds = time.perf_counter() - t0
                scored = [h for h in r.fit.history if h.get("psnr") is not None]
                best = max(scored, key=lambda h: h["psnr"])
                row = {"image": name, "noise": noise, "level": level, "setting": setting,
                       "loss": r.config["loss"], "input_psnr": r.input_psnr, "psnr": r.psnr, "ssim": r.ssim,
                       "iterations": r.fit.iterations, "stopped_at": r.fit.stopped_at,
                       "stop": r.config["stop"], "oracle_psnr": best["psnr"], "oracle_iteration": best["iteration"],
                       "seconds": round(seconds, 1)}
                rows.append(row)
                print(f"{name:8s} {noise:12s} {setting:8s} {r.input_psnr:6.2f} -> {r.psnr:6.2f} dB "
                      f"({r.fit.iterations} it, oracle {best['psnr']:.2f} @ {best['iteration']}, {seconds:.0f} s)",
                      flush=True)
                out = {"meta": results_meta(__file__, args, table="folder"), "rows": rows}
                io.write_bytes_atomic(args.json, json.dumps(out, indent=1).encode())
    if args.markdown:
        io.write_bytes_atomic(args.markdown, to_markdown(rows).encode())


def to_markdown(rows: list[dict]) -> str:
    settings = ["mse", "matched", "blind"]
    by: dict[tuple[str, str], dict[str, dict]] = {}
    for r in rows:
        by.setdefault((r["noise"], r["image"]), {})[r["setting"]] = r
    means: dict[str, dict[str, list[float]]] = {}
    body = []
    for (noise, image), cell in by.items():
        if noise == "gaussian" and "matched" in cell:
            cell["mse"] = cell["matched"]
        first = next(iter(cell.values()))
        vals = []
        for s in settings:
            c = cell.get(s)
            vals.append("–" if c is None else f"{c['psnr']:.2f} (oracle {c['oracle_psnr']:.2f})")
            if c is not None:
                means.setdefault(noise, {}).setdefault(s, []).append(c["psnr"])
        its = " / ".join(str(cell[s]["iterations"]) if s in cell else "–" for s in settings)
        body.append([noise, image, f"{first['input_psnr']:.2f}", *vals, its])
    summary = []
    for noise, m in means.items():
        mm = {s: (sum(v) / len(v) if v else float("nan")) for s, v in m.items()}
        g = [mm.get(s, float("nan")) for s in settings]
        summary.append([noise, *(f"{v:.2f}" for v in g), f"{g[1] - g[0]:+.2f}", f"{g[2] - g[1]:+.2f}"])
    return (markdown_table(["noise", "image", "input", "MSE", "matched", "blind",
                            "iterations (MSE / matched / blind)"], body) + "\n\n"
            + markdown_table(["noise", "mean MSE", "mean matched", "mean blind", "matched - MSE", "blind - matched"],
                             summary) + "\n")


if __name__ == "__main__":
    main()
