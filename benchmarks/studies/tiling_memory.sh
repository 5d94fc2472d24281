#!/usr/bin/env bash
# Peak memory of a tiled fit against image size (issue: any image size in bounded memory).
# Makes 2048x1366 and 3072x2048 photographs (scikit-image's astronaut, enlarged, with sigma-25 noise),
# then runs the same tiled command on each under /usr/bin/time -v. Output: benchmarks/results/tiling_memory.txt
set -eu
cd "$(dirname "$0")/../.."  # the repository
T=$(mktemp -d)
.venv/bin/python - "$T" <<'PY'
import sys
import numpy as np
from PIL import Image
from skimage import data
import deepprior
from deepprior import io
for w, h in ((2048, 1366), (3072, 2048)):
    big = np.asarray(Image.fromarray(data.astronaut()).resize((w, h), Image.Resampling.BICUBIC))
    io.save_image(f"{sys.argv[1]}/photo_{w}x{h}.png", deepprior.degrade(big, sigma=25, seed=0).image)
PY
out=benchmarks/results/tiling_memory.txt
: > "$out"
for size in 2048x1366 3072x2048; do
  cmd=".venv/bin/deepprior denoise $T/photo_$size.png -o $T/out_$size.png --tile 256 --iters 2 --stop none -q"
  /usr/bin/time -v $cmd 2> "$T/time_$size.txt"
  rss=$(grep "Maximum resident set size" "$T/time_$size.txt" | awk '{print $NF}')
  wall=$(grep "Elapsed (wall clock)" "$T/time_$size.txt" | awk '{print $NF}')
  echo "$size peak_rss_kb=$rss wall=$wall command: deepprior denoise photo_$size.png -o out.png --tile 256 --iters 2 --stop none -q" | tee -a "$out"
done
.venv/bin/python -c "
import deepprior.io as io
for s in ('2048x1366', '3072x2048'):
    print(s, 'output', io.load_image('$T/out_' + s + '.png').size_text)
" | tee -a "$out"
rm -rf "$T"
