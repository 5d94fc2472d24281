"""Make the README's before/after pictures from images that ship with scikit-image.

    .venv/bin/python scripts/readme_figures.py --out docs/images
    .venv/bin/python scripts/readme_figures.py --only inpaint     # remake one; the others' figures are kept

Each picture is ``corrupted | restored | clean`` side by side; the PSNR figures go to ``figures.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

import deepprior
import deepprior.metrics
from deepprior import io


def strip(images: list[np.ndarray], height: int) -> np.ndarray:
    """Scale each image to ``height`` (nearest, so pixels stay visible) and place them side by side."""
    tiles = []
    for im in images:
        im = np.clip(im, 0, 1)
        if im.shape[2] == 1:
            im = np.repeat(im, 3, axis=2)
        pil = Image.fromarray(np.round(im * 255).astype(np.uint8))
        w = round(pil.width * height / pil.height)
        tiles.append(np.asarray(pil.resize((w, height), Image.Resampling.NEAREST)))
        tiles.append(np.full((height, 4, 3), 255, np.uint8))
    return np.concatenate(tiles[:-1], axis=1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=Path("docs/images"))
    ap.add_argument("--iters", type=int, default=1200)
    ap.add_argument("--only", nargs="+", choices=["denoise", "inpaint", "super-resolve"], default=None)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    saved = args.out / "figures.json"
    figures = json.loads(saved.read_text()) if args.only and saved.exists() else {}
    todo = set(args.only or ["denoise", "inpaint", "super-resolve"])
    if "denoise" in todo:
        denoise_figure(args, figures)
    if "inpaint" in todo:
        inpaint_figure(args, figures)
    if "super-resolve" in todo:
        super_resolve_figure(args, figures)
    io.write_bytes_atomic(saved, (json.dumps(figures, indent=2) + "\n").encode())
    print(json.dumps(figures, indent=2))


def denoise_figure(args: argparse.Namespace, figures: dict) -> None:
    clean = data.astronaut()[40:168, 180:308]
    noisy = deepprior.degrade(clean, sigma=25, seed=0).image
    r = deepprior.denoise(noisy, sigma=25, num_iter=args.iters, reference=clean)
    io.save_image(args.out / "denoise.png", strip([noisy.pixels, r.image.pixels, clean / 255.0], 256))
    figures["denoise"] = {"input_psnr": r.input_psnr, "psnr": r.psnr, "iterations": r.fit.iterations,
                          "seconds": r.fit.seconds, "preset": r.preset, "precision": r.precision}


def inpaint_figure(args: argparse.Namespace, figures: dict) -> None:
    cam = data.camera()[100:228, 180:308]
    d = deepprior.degrade(cam, drop=0.5, seed=0)
    r = deepprior.inpaint(d.image, mask=d.mask, num_iter=args.iters, reference=cam)
    io.save_image(args.out / "inpaint.png", strip([d.image.pixels, r.image.pixels, cam[:, :, None] / 255.0], 256))
    figures["inpaint"] = {"input_psnr": r.input_psnr, "psnr": r.psnr, "iterations": r.fit.iterations,
                          "stopped_at": r.fit.stopped_at, "stop": r.config["stop"]["name"],
                          "keep_known": r.config["keep_known"], "seconds": r.fit.seconds, "preset": r.preset,
                          "precision": r.precision}


def super_resolve_figure(args: argparse.Namespace, figures: dict) -> None:
    hr = data.chelsea()[60:252, 120:312]
    lr = deepprior.degrade(hr, downscale=4).image
    r = deepprior.super_resolve(lr, scale=4, num_iter=args.iters, reference=hr)
    bicubic = np.asarray(
        Image.fromarray(np.round(lr.pixels * 255).astype(np.uint8)).resize((192, 192), Image.Resampling.BICUBIC)
    ) / 255.0
    io.save_image(args.out / "super-resolve.png", strip([bicubic, r.image.pixels, hr / 255.0], 256))
    figures["super-resolve"] = {"bicubic_psnr": deepprior.metrics.psnr(bicubic, hr / 255.0), "psnr": r.psnr,
                                "iterations": r.fit.iterations, "seconds": r.fit.seconds, "preset": r.preset,
                                "precision": r.precision}


if __name__ == "__main__":
    main()
