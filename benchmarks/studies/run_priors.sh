#!/usr/bin/env bash
# The priors' measurements (docs/benchmarks.md): every network on every task, and the Deep Decoder's
# reference point (astronaut, sigma 30, k = 128, 1900 iterations of Adam at 0.01, lowest-loss network).
# One thread per fit; results in benchmarks/results/.
set -u
cd "$(dirname "$0")/../.."  # the repository
R=benchmarks/results
D=.venv/bin/deepprior
.venv/bin/python benchmarks/studies/nets_tasks.py --threads 1 --json $R/nets_tasks_crop128.json \
    --markdown $R/nets_tasks_crop128.md
A=../shared/data/deep-decoder/astronaut.png
T=$(mktemp -d)
$D degrade $A -o $T/astronaut_sigma30.png --sigma 30 --seed 0
$D denoise $T/astronaut_sigma30.png -o $T/astronaut_decoder.png --sigma 30 --net decoder --iters 1900 \
   --precision fp32 --threads 2 --reference $A --report $R/deep_decoder_astronaut_sigma30.json --quiet
