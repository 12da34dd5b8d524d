#!/usr/bin/env bash
# Convolution layout and precision side by side: channels-last vs oneDNN's preferred (blocked) layouts, fp32
# vs bf16, at 224x224, 96x96 and 48x48, then PyTorch fp32 (as installed
# and channels-last) and bf16 autocast at the same sizes.
# Usage: Benchmarks/layouts.sh [PYTHON]   (PYTHON: an interpreter with torch; skipped when not given)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product scn >/dev/null
scn=.build/release/scn
grep -m1 "model name" /proc/cpuinfo
for input in 224 96 48; do
    for precision in float32 bfloat16; do
        for layout in channels-last preferred; do
            printf "scn input=%s precision=%s layout=%s: " $input $precision $layout
            SCN_CONV_LAYOUT=$layout $scn bench --input $input --batch 64 --precision $precision --steps 10 --json
        done
    done
done
if [ $# -ge 1 ]; then
    for input in 224 96 48; do
        for flags in "" "--channels-last" "--bf16 --channels-last"; do
            printf "pytorch input=%s %s: " $input "$flags"
            "$1" Benchmarks/pytorch_resnet_bench.py --input $input --batch 64 --steps 10 $flags
        done
    done
fi
