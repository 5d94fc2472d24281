#!/usr/bin/env bash
# The published crop benchmarks (docs/benchmarks.md). Each queue runs its fits one after another with one
# thread, so that two queues (or one queue and development work) share the 2-core machine without
# oversubscribing it. Results land in benchmarks/results/; the JSON is rewritten after every image.
# Usage: bash benchmarks/run_crops.sh A   (or A2, B, C)
set -u
cd "$(dirname "$0")/.."
R=benchmarks/results
D=.venv/bin/deepprior
mkdir -p "$R"
case "${1:-A}" in
A)  # the product default (--stop auto) on the paper's denoising set, then Table 1 and SR x4
  $D bench denoise --crop 128 --sigmas 50 --stop auto --threads 1 --json $R/denoise_sigma50_crop128_auto.json \
     --markdown $R/denoise_sigma50_crop128_auto.md --plots $R/plots_denoise_sigma50
  $D bench denoise --crop 128 --sigmas 25 --stop auto --threads 1 --json $R/denoise_sigma25_crop128_auto.json \
     --markdown $R/denoise_sigma25_crop128_auto.md
  ;&
A2)  # the second half of A alone: Table 1 pixels and SR x4
  $D bench pixels --crop 128 --stop auto --threads 1 --json $R/pixels_crop128_fast.json \
     --markdown $R/pixels_crop128_fast.md
  $D bench sr --crop 128 --scales 4 --stop auto --threads 1 --json $R/sr_x4_crop128_fast.json \
     --markdown $R/sr_x4_crop128_fast.md
  ;;
B)  # fixed iteration count (the preset's), for the oracle-gap evaluation of the stopping rules
  $D bench denoise --crop 128 --sigmas 25 --threads 1 --json $R/denoise_sigma25_crop128_fast.json \
     --markdown $R/denoise_sigma25_crop128_fast.md --plots $R/plots_denoise_sigma25
  $D bench denoise --crop 128 --sigmas 50 --threads 1 --json $R/denoise_sigma50_crop128_fast.json \
     --markdown $R/denoise_sigma50_crop128_fast.md
  ;;
C)
  .venv/bin/python benchmarks/presets_crop.py --crop 128 --images F16 --presets fast paper --threads 1 \
     --json $R/presets_crop128.json
  ;;
esac
