#!/usr/bin/env bash
# The published crop benchmarks (docs/benchmarks.md), in two queues of one thread each, so that two
# fits share the 2-core machine without oversubscribing it. Results land in benchmarks/results/.
# Usage: bash benchmarks/run_crops.sh A   (or B); each queue can be re-run: finished files are kept.
set -u
cd "$(dirname "$0")/.."
R=benchmarks/results
D=.venv/bin/deepprior
mkdir -p "$R"
case "${1:-A}" in
A)
  $D bench denoise --crop 128 --sigmas 25 --threads 1 --json $R/denoise_sigma25_crop128_fast.json \
     --markdown $R/denoise_sigma25_crop128_fast.md --plots $R/plots_denoise_sigma25
  $D bench denoise --crop 128 --sigmas 50 --threads 1 --json $R/denoise_sigma50_crop128_fast.json \
     --markdown $R/denoise_sigma50_crop128_fast.md
  $D bench sr --crop 128 --scales 4 --threads 1 --json $R/sr_x4_crop128_fast.json \
     --markdown $R/sr_x4_crop128_fast.md
  ;;
B)
  .venv/bin/python benchmarks/presets_crop.py --crop 128 --images F16 --presets fast paper --threads 1 \
     --json $R/presets_crop128.json
  $D bench pixels --crop 128 --threads 1 --json $R/pixels_crop128_fast.json --markdown $R/pixels_crop128_fast.md
  ;;
esac
