#!/usr/bin/env bash
# The FERPlus / FER2013 result runs of docs/RESULTS.md, one after the other (about 12 minutes each on
# 2 cores). Usage: Benchmarks/results_ferplus.sh DATA_ROOT OUT_DIR [EPOCHS]
set -euo pipefail
cd "$(dirname "$0")/.."
data=$1; out=$2; epochs=${3:-8}
swift build -c release --product scn >/dev/null
scn=.build/release/scn
source Benchmarks/train_and_test.sh
common="--epochs $epochs --batch-size 64 --input 48 --lr 0.1 --schedule cosine --warmup 1 --augmentation crop-flip --seed 1"
for labels in fer2013 ferplus; do
    for method in baseline scn; do
        run=$out/$labels-$method
        train_and_test $run $labels $data --method $method --relabel-start 5 $common
        [ "$labels" = fer2013 ] && $scn eval --checkpoint $run/best.safetensors --dataset fer2013 --data $data --split train --json > $run/train-labels.json
        cat $run/test.json
    done
done
