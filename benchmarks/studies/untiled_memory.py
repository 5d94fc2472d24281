"""Peak resident memory of an untiled fit (2 iterations) for a given size and preset.

Automatic tiling is kept off (a memory budget of 64 GB), so the figure is the whole image's fit.

    for s in 256 512 1024 2048; do .venv/bin/python benchmarks/studies/untiled_memory.py $s fast; done
    for s in 256 512 1024; do .venv/bin/python benchmarks/studies/untiled_memory.py $s paper; done
"""

from __future__ import annotations

import argparse
import resource

import numpy as np

import deepprior


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("size", type=int, help="side of the square random image")
    ap.add_argument("preset")
    args = ap.parse_args()
    size, preset = args.size, args.preset
    img = (np.random.default_rng(0).random((size, size, 3)) * 255).astype(np.uint8)
    r = deepprior.denoise(img, num_iter=2, preset=preset, threads=1, stop="none", max_memory="64GB")
    assert r.config["tiling"] is None, r.config["tiling"]  # untiled
    print(size, preset, f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
