"""Peak resident memory of an untiled fit (2 iterations) for a given size and preset.

    for s in 256 512; do for p in fast paper; do .venv/bin/python benchmarks/untiled_memory.py $s $p; done; done
"""

from __future__ import annotations

import resource
import sys

import numpy as np

import deepprior

size, preset = int(sys.argv[1]), sys.argv[2]
img = (np.random.default_rng(0).random((size, size, 3)) * 255).astype(np.uint8)
deepprior.denoise(img, num_iter=2, preset=preset, threads=1, stop="none")
print(size, preset, f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
