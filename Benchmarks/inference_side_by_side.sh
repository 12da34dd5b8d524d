#!/usr/bin/env bash
# Inference images per second, scn against PyTorch, alternated ROUNDS times at each size: scn with its fused
# inference chain (the default) and layer by layer (SCN_INFERENCE=layers); PyTorch eager as installed, eager
# channels-last, and channels-last through torch.jit.optimize_for_inference (batch norm folded, oneDNN fusions).
# Batch 64, ResNet-18, ImageNet stem, fp32. Prints one line per run: size, variant, inference img/s.
# Usage: Benchmarks/inference_side_by_side.sh PYTHON [ROUNDS] [SIZES]   (a Python with torch)
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:?usage: $0 PYTHON [ROUNDS] [SIZES]}
rounds=${2:-3}
sizes=${3:-48 112}
swift build -c release --product scn >/dev/null
scn=.build/release/scn
rate() { python3 -c 'import json,sys; print(json.load(sys.stdin)["infer_images_per_second"])'; }
for size in $sizes; do
    batches=40; [ "$size" -ge 112 ] && batches=16
    common="--input $size --batch 64 --steps 1 --warmup 3 --infer-batches $batches"
    for round in $(seq "$rounds"); do
        echo "$size scn-fused $($scn bench $common --json | rate)"
        echo "$size scn-layers $(SCN_INFERENCE=layers $scn bench $common --json | rate)"
        echo "$size pytorch $($python Benchmarks/pytorch_resnet_bench.py $common | rate)"
        echo "$size pytorch-channels-last $($python Benchmarks/pytorch_resnet_bench.py $common --channels-last | rate)"
        echo "$size pytorch-channels-last-optimized $($python Benchmarks/pytorch_resnet_bench.py $common --channels-last --optimize-for-inference | rate)"
    done
done
