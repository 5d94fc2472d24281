"""How well the blind noise-level function reads the true noise level, per block size and crop size.

Centre crops of the DIP paper's ground truths, corrupted by the project's seeded noise models (Poisson
peak 30, speckle 0.2, Gaussian sigma 25); prints the fitted standard deviation against the true one (0-255
scale) at intensities 0.2, 0.5 and 0.8, for 8x8 and 4x4 blocks. No fitting: it runs in seconds.

    .venv/bin/python benchmarks/studies/level_function.py
"""

from __future__ import annotations

import argparse
import math

import torch

import _path  # noqa: F401  (puts benchmarks/ on sys.path: common, docgen)
from common import DATA, centre_crop
from deepprior import api, io
from deepprior.errors import ConfigError
from deepprior.physics.stats import estimate_level_function

NOISES = (("poisson", {"peak": 30.0}, lambda v: math.sqrt(v / 30)), ("speckle", {"sigma": 0.2}, lambda v: 0.2 * v),
          ("gaussian", {"sigma": 25.0}, lambda v: 25 / 255))


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    for crop in (32, 128):
        for name in ("F16", "kodim03", "peppers", "lena", "baboon"):
            clean = centre_crop(io.load_image(DATA / "dip-paper/denoising/sigma25" / f"{name}_GT.png").pixels, crop)
            for noise, level, true in NOISES:
                y = torch.from_numpy(api.degrade(clean, noise=noise, seed=0, **level).image.pixels).float()
                y = y.permute(2, 0, 1)[None] if y.dim() == 3 else y[None, None]
                cells = [f"{crop:4d} {name:8s} {noise:8s}"]
                for block in (8, 4):
                    try:
                        a, b, c = estimate_level_function(y, block=block)
                    except ConfigError as err:
                        cells.append(f"{block}x{block}: {err}"[:40])
                        continue
                    cells.append(f"{block}x{block}: " + " ".join(
                        f"{255 * math.sqrt(max(a + b * v + c * v * v, 0)):5.1f}/{255 * true(v):4.1f}"
                        for v in (0.2, 0.5, 0.8)))
                print("  ".join(cells))


if __name__ == "__main__":
    main()
