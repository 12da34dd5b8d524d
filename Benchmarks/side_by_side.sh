#!/usr/bin/env bash
# Runs scn bench and the PyTorch peer one after the other at each size and prints one JSON line per run.
# Usage: Benchmarks/side_by_side.sh PYTHON   (a Python with torch; see docs/PERFORMANCE.md)
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-python3}
swift build -c release --product scn >/dev/null
scn=.build/release/scn
for size in 48 112 224; do
    steps=20; [ "$size" = 224 ] && steps=8
    $scn bench --input $size --batch 64 --steps $steps --json
    $python Benchmarks/pytorch_resnet_bench.py --input $size --batch 64 --steps $steps
done
$scn bench --input 224 --batch 64 --steps 8 --precision bfloat16 --json
$python Benchmarks/pytorch_resnet_bench.py --input 224 --batch 64 --steps 8 --channels-last
$python Benchmarks/pytorch_resnet_bench.py --input 224 --batch 64 --steps 8 --channels-last --bf16
