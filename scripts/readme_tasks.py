"""README pictures of the paper's two other tasks, on the examples the DIP reference code ships with.

    .venv/bin/python scripts/readme_tasks.py --out docs/images

- ``jpeg.png``: ``snail.jpg`` (400x261, a heavily compressed JPEG) | ``deepprior jpeg`` (the reference's
  light network, 2400 iterations) | both enlarged 3x on a detail. No ground truth exists for this image.
- ``flash-no-flash.png``: flash | no-flash | ``deepprior flash-no-flash`` (601 iterations, lr 0.1), on the
  cave pair shrunk to half size (387x353) so that the fit takes minutes on a 2-core CPU.

The run's settings and times go to ``tasks.json`` beside the pictures.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from PIL import Image

import deepprior
from deepprior import io

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "dip-repo"


def strip(images: list[np.ndarray], height: int) -> np.ndarray:
    tiles = []
    for im in images:
        pil = Image.fromarray(np.round(np.clip(im, 0, 1) * 255).astype(np.uint8))
        w = round(pil.width * height / pil.height)
        tiles.append(np.asarray(pil.resize((w, height), Image.Resampling.NEAREST)))
        tiles.append(np.full((height, 4, 3), 255, np.uint8))
    return np.concatenate(tiles[:-1], axis=1)


def half(path: Path) -> np.ndarray:
    pil = Image.open(path).convert("RGB")
    return np.asarray(pil.resize((pil.width // 2, pil.height // 2), Image.Resampling.LANCZOS)) / 255.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=Path("docs/images"))
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--only", choices=["jpeg", "flash"], default=None)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    info_path = args.out / "tasks.json"
    info = json.loads(info_path.read_text()) if info_path.exists() else {}

    if args.only in (None, "jpeg"):
        t = time.perf_counter()
        r = deepprior.jpeg(args.data / "snail.jpg", threads=args.threads)
        before, after = io.load_image(args.data / "snail.jpg").pixels, r.image.pixels
        detail = (slice(60, 160), slice(150, 300))
        io.save_image(args.out / "jpeg.png", strip([before, after], 261))
        io.save_image(args.out / "jpeg_detail.png", strip([before[detail], after[detail]], 300))
        info["jpeg"] = {"command": "deepprior jpeg snail.jpg -o out.png", "preset": r.preset,
                        "iterations": r.fit.iterations, "seconds": round(time.perf_counter() - t, 1),
                        "precision": r.precision, "threads": r.threads}
        io.write_bytes_atomic(info_path, json.dumps(info, indent=1).encode())

    if args.only in (None, "flash"):
        flash, noflash = half(args.data / "cave01_00_flash.jpg"), half(args.data / "cave01_01_noflash.jpg")
        t = time.perf_counter()
        r = deepprior.flash_no_flash(flash, noflash, threads=args.threads)
        io.save_image(args.out / "flash-no-flash.png", strip([flash, noflash, r.image.pixels], 300))
        info["flash-no-flash"] = {
            "command": "deepprior flash-no-flash flash.png noflash.png -o out.png (both shrunk to 387x353)",
            "preset": r.preset, "iterations": r.fit.iterations, "seconds": round(time.perf_counter() - t, 1),
            "precision": r.precision, "threads": r.threads}
        io.write_bytes_atomic(info_path, json.dumps(info, indent=1).encode())


if __name__ == "__main__":
    main()
