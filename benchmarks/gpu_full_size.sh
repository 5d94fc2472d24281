#!/bin/bash
# Issue #6 on a CUDA machine: the per-iteration speed benchmark at 512 and 2048 (with torch.compile at 512), then
# the full-size sigma-25 curves of `fast` (3000 iterations) and of the paper configuration (1800), one
# process per image, all at once (an H100 ran nine paper fits at once: about 7 min for 3000 iterations).
#   bash benchmarks/gpu_full_size.sh DATA_DIR OUT_DIR
# DATA_DIR holds the paper's NAME_noisy.png and NAME_GT.png (../shared/data/dip-paper/denoising/sigma25).
# Merge OUT_DIR/fast_*.json rows into one file for benchmarks/make_docs.py (full_size_curves_h100.json).
set -u
data=$(realpath "$1"); out=$(realpath -m "$2"); mkdir -p "$out"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
for size in 512 2048; do
  extra=(); [ "$size" = 512 ] && extra=(--compile)
  python3 -m deepprior.cli bench speed --device cuda --size "$size" --warmup 5 --repeats 30 --rounds 2 "${extra[@]}" \
    --json "$out/speed_cuda_$size.json" --markdown "$out/speed_cuda_$size.md"
done
images="F16 baboon hill kodim01 kodim02 kodim03 kodim12 lena peppers"
for run in "fast 3000" "paper 1800"; do
  set -- $run
  for n in $images; do
    python3 benchmarks/full_size_curves.py --data "$data" --images "$n" --device cuda --threads 1 --iters "$2" \
      --preset "$1" --json "$out/$1_$n.json" > "$out/log_$1_$n.txt" 2>&1 &
  done
  wait
done
grep -h "final" "$out"/log_*.txt
