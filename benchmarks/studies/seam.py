"""Seam metric of the default tiling on a 1024x1024 photograph.

The photograph is scikit-image's astronaut enlarged to 1024x1024 (bicubic) with Gaussian noise (sigma 25,
seed 0); it is denoised with ``--tile 256 --overlap 16`` and the seam metric
(:func:`deepprior.tiling.seam_energy_ratio`: mean gradient energy across the tile boundaries over the mean
elsewhere; 1 = no trace of the tiling) is computed on the output, and on the clean and noisy images at the
same boundaries for comparison.

    .venv/bin/python benchmarks/studies/seam.py --iters 50 --json benchmarks/results/seam_1024.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

import deepprior
from deepprior.tiling import seam_energy_ratio


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iters", type=int, default=150)
    ap.add_argument("--tile", type=int, default=256)
    ap.add_argument("--overlap", type=int, default=16)
    ap.add_argument("--json", type=Path, required=True)
    args = ap.parse_args()
    clean = np.asarray(Image.fromarray(data.astronaut()).resize((1024, 1024), Image.Resampling.BICUBIC))
    noisy = deepprior.degrade(clean, sigma=25, seed=0).image
    r = deepprior.denoise(noisy, num_iter=args.iters, stop="none", tile=args.tile, overlap=args.overlap,
                          reference=clean, quiet=False)
    row = {
        "image": "astronaut enlarged to 1024x1024, sigma 25, seed 0",
        "tile": args.tile, "overlap": args.overlap, "iterations_per_tile": args.iters, "stop": "none",
        "seam_ratio_output": seam_energy_ratio(r.image.pixels, args.tile, args.overlap),
        "seam_ratio_clean": seam_energy_ratio(clean / 255.0, args.tile, args.overlap),
        "seam_ratio_noisy": seam_energy_ratio(noisy.pixels, args.tile, args.overlap),
        "psnr": r.psnr, "input_psnr": r.input_psnr, "seconds": r.fit.seconds, "tiles": len(r.config["tiling"]["tiles"]),
        "preset": r.preset, "precision": r.precision,
    }
    args.json.write_text(json.dumps(row, indent=1) + "\n")
    print(json.dumps(row, indent=1))


if __name__ == "__main__":
    main()
