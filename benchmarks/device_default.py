"""The CPU default's denoising, run on a lent GPU machine to measure its quality on many photographs (issue #29).

On this project's 2-core CPU the no-flag default (`deepprior denoise NOISY --sigma 25 -o OUT`: preset ``fast``,
tiles of 128 with overlap 16 at lr 0.01 on images of 384x384 pixels and more, the automatic stop) takes 30-50
minutes a photograph, so the quality of the default on the nine paper images and on McMaster could not all be
measured there. This script runs **the same settings** (preset, tiling rule, step size, stop, seed, float32;
PyTorch's default TF32 convolutions on CUDA unless ``--no-tf32``) on a CUDA device, several photographs at
once in separate processes, and scores each result. The results are the default's *algorithm* on another
device: not bit-identical to the CPU's images, and their times are the GPU's, not the CPU default's.

    python benchmarks/device_default.py --sets nine mcmaster --jobs 8 --deadline 540 --out .devrun

``--data`` holds ``sigma25/NAME_{noisy,GT}.png`` (the DIP paper's inputs) and ``mcmaster/N.tif`` (ground
truth; the sigma-25 noise is drawn by :func:`common.mcmaster_noisy`, so ``mcmaster_cbm3d.py`` denoises the same
noisy files). Results go to ``OUT/device_default_SET.json`` one image at a time; rerunning resumes. With
``--probe``, per-iteration times of one fit alone on the device come first (``OUT/device_probe.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from common import ROOT, centre_crop, mcmaster_noisy, run_jobs

NINE = ["kodim03", "lena", "peppers", "kodim02", "kodim01", "baboon", "kodim12", "F16", "hill"]
MCMASTER = [str(i) for i in range(1, 19)]


def load(data: Path, which: str, name: str, crop: int | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """The noisy and clean image (float32 in [0, 1]) and a fingerprint of the noisy one."""
    import hashlib

    from PIL import Image

    if which == "nine":
        noisy8 = np.asarray(Image.open(data / "sigma25" / f"{name}_noisy.png"))
        gt8 = np.asarray(Image.open(data / "sigma25" / f"{name}_GT.png"))
    else:
        gt8 = np.asarray(Image.open(data / "mcmaster" / f"{name}.tif").convert("RGB"))
        noisy8 = mcmaster_noisy(gt8, name)
    if crop is not None:
        noisy8, gt8 = centre_crop(noisy8, crop), centre_crop(gt8, crop)
    digest = hashlib.sha1(noisy8.tobytes()).hexdigest()[:12]
    return noisy8.astype(np.float32) / 255, gt8.astype(np.float32) / 255, digest


def default_options(shape: tuple[int, ...], device: str) -> dict[str, Any]:
    """The settings the CPU default uses for an image of this shape, given explicitly for ``device``."""
    from deepprior.tasks.denoise import TILE_RULE

    options: dict[str, Any] = {"sigma": 25, "preset": "fast", "precision": "fp32", "device": device}
    if TILE_RULE.applies(shape[0], shape[1]):
        options.update(tile=TILE_RULE.tile, overlap=TILE_RULE.overlap, lr=TILE_RULE.lr)
    else:
        options["tile"] = 0
    return options


def one(args: argparse.Namespace) -> None:
    """Restore one image (a child process) and write its row."""
    import torch

    from deepprior import api

    torch.backends.cuda.matmul.allow_tf32 = not args.no_tf32
    torch.backends.cudnn.allow_tf32 = not args.no_tf32
    which, name = args.one
    noisy, gt, digest = load(args.data, which, name, args.crop)
    options = default_options(noisy.shape, args.device)
    if args.num_iter is not None:
        options["num_iter"] = args.num_iter
    started = time.perf_counter()
    r = api.denoise(noisy, reference=gt, threads=1, **options)
    tiling = r.config["tiling"] or {}
    row = {"set": which, "image": name, "size": list(noisy.shape[:2]), "noisy_sha1": digest, "psnr": r.psnr,
           "ssim": r.ssim, "iterations": r.fit.iterations, "seconds": round(r.fit.seconds, 1),
           "call_s": round(time.perf_counter() - started, 1), "stop": r.config["stop"], "preset": r.preset,
           "precision": r.precision, "tf32": not args.no_tf32, "lr": r.config["fit"]["lr"],
           "tile": tiling.get("tile"), "overlap": tiling.get("overlap"), "why": tiling.get("why"),
           "device": torch.cuda.get_device_name() if args.device.startswith("cuda") else args.device,
           "torch": torch.__version__}
    args.json.write_text(json.dumps(row))
    print(f"{which} {name}: {r.psnr:.2f} dB, {r.fit.iterations} it, {r.fit.seconds:.0f} s", flush=True)


def probe(args: argparse.Namespace, out: Path) -> None:
    """Seconds per iteration alone on the device: the whole 512x512 photo (GPU default: preset paper), one
    160x160 tile (the CPU default's), and 16 such tiles fitted as one batch (one network call)."""
    import torch

    from deepprior import api

    noisy, _, _ = load(args.data, "nine", "lena", args.crop)
    tile = noisy[:160, :160]
    rows: dict[str, Any] = {"device": torch.cuda.get_device_name() if args.device.startswith("cuda") else args.device}

    def per_iter(fn: Any) -> float:
        short, long = (2, 4) if args.num_iter is not None else (10, 60)
        fn(short)  # warm-up: cuDNN's choice of kernels, allocations
        return (fn(long) - fn(short)) / (long - short)

    common = {"sigma": 25, "precision": "fp32", "device": args.device, "stop": "none", "threads": 1}
    rows["whole_512_paper_s_per_it"] = per_iter(
        lambda n: api.denoise(noisy, preset="paper", tile=0, num_iter=n, **common).fit.seconds)
    rows["tile_160_fast_s_per_it"] = per_iter(
        lambda n: api.denoise(tile, preset="fast", lr=0.01, tile=0, num_iter=n, **common).fit.seconds)
    starts = np.linspace(0, min(noisy.shape[:2]) - 160, 4).astype(int)
    tiles = [noisy[r:r + 160, c:c + 160] for r in starts for c in starts]

    def batched(n: int) -> float:
        started = time.perf_counter()
        api.denoise_many(tiles, preset="fast", lr=0.01, num_iter=n, batch_size=None, **common)
        return time.perf_counter() - started

    try:
        rows["batch16_tile_160_fast_s_per_it"] = per_iter(batched)
    except Exception as exc:  # noqa: BLE001 -- recorded, the probe goes on
        rows["batch16_error"] = f"{type(exc).__name__}: {exc}"
    (out / "device_probe.json").write_text(json.dumps(rows, indent=1))
    print("probe:", json.dumps(rows), flush=True)


def merge(out: Path, which: str, rows: list[dict[str, Any]], meta: dict[str, Any]) -> None:
    path = out / f"device_default_{which}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    tmp.replace(path)
    if os.environ.get("OUT"):
        shutil.copy(path, Path(os.environ["OUT"]) / path.name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT / ".devdata")
    ap.add_argument("--sets", nargs="+", choices=["nine", "mcmaster"], default=["nine", "mcmaster"])
    ap.add_argument("--images", nargs="+", default=None, help="only these images (of every set)")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--jobs", type=int, default=8, help="photographs restored at once (processes)")
    ap.add_argument("--deadline", type=float, default=540,
                    help="seconds from the start: no image starts that would end later (by the median time of "
                    "those done), and those still running then are stopped")
    ap.add_argument("--out", type=Path, default=ROOT / ".devrun")
    ap.add_argument("--probe", action="store_true", help="time one fit alone first")
    ap.add_argument("--no-tf32", action="store_true", help="strict float32 convolutions on CUDA")
    ap.add_argument("--num-iter", type=int, default=None, help="cap every fit (a smoke test of this script)")
    ap.add_argument("--crop", type=int, default=None, help="the centre of each image only (a smoke test)")
    ap.add_argument("--one", nargs=2, metavar=("SET", "NAME"), help=argparse.SUPPRESS)
    ap.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        one(args)
        return
    t0 = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.probe and not (args.out / "device_probe.json").exists():
        probe(args, args.out)
    from common import results_meta

    meta = results_meta(__file__, args)
    rows: dict[str, list[dict[str, Any]]] = {}
    queue: list[tuple[str, str]] = []
    for which in args.sets:
        path = args.out / f"device_default_{which}.json"
        rows[which] = json.loads(path.read_text())["rows"] if path.exists() else []
        done = {r["image"] for r in rows[which]}
        names = NINE if which == "nine" else MCMASTER
        queue += [(which, n) for n in names if n not in done and (args.images is None or n in args.images)]

    def start(item: tuple[str, str]) -> subprocess.Popen[bytes]:
        which, name = item
        part = args.out / f"part_{which}_{name}.json"
        part.unlink(missing_ok=True)
        cmd = [sys.executable, __file__, "--one", which, name, "--json", str(part), "--data", str(args.data),
               "--device", args.device] + (["--no-tf32"] if args.no_tf32 else [])
        cmd += [] if args.num_iter is None else ["--num-iter", str(args.num_iter)]
        cmd += [] if args.crop is None else ["--crop", str(args.crop)]
        return subprocess.Popen(cmd, env={**os.environ, "OMP_NUM_THREADS": "1"})

    def finish(item: tuple[str, str], returncode: int) -> bool:
        which, name = item
        part = args.out / f"part_{which}_{name}.json"
        if returncode != 0 or not part.exists():
            print(f"{which} {name}: failed ({returncode})", flush=True)
            return False
        rows[which].append({**json.loads(part.read_text()), "jobs_at_once": args.jobs})
        merge(args.out, which, rows[which], meta)
        return True

    queue = run_jobs(queue, start, finish, jobs=args.jobs, deadline=args.deadline - (time.perf_counter() - t0))
    for which, got in rows.items():
        if got:
            mean = sum(r["psnr"] for r in got) / len(got)
            print(f"{which}: {len(got)} images, mean {mean:.2f} dB", flush=True)
    print(f"{time.perf_counter() - t0:.0f} s in all; not started: {queue}", flush=True)


if __name__ == "__main__":
    main()
