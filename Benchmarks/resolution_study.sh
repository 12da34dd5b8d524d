#!/usr/bin/env bash
# The baseline on clean FERPlus majority labels at another input size or stem, for the accuracy study in
# docs/RESULTS.md ("Toward 88%"). The 48x48 images are resized to INPUT; with the ImageNet stem the
# network's first block sees INPUT/4 pixels a side, with the small stem (3x3, stride 1, no max pool) INPUT.
# Resumable: run it again after an interruption.
# Usage: Benchmarks/resolution_study.sh DATA_ROOT OUT_DIR INPUT [EPOCHS] [STEM]
#   Run: OUT_DIR/ferplusEPOCHS-inputINPUT-STEM-baseline (STEM: imageNet or small).
set -euo pipefail
cd "$(dirname "$0")/.."
data=$1; out=$2; input=$3; epochs=${4:-8}; stem=${5:-imageNet}
swift build -c release --product scn >/dev/null
scn=.build/release/scn
source Benchmarks/train_and_test.sh
run=$out/ferplus$epochs-input$input-$stem-baseline
train_and_test $run ferplus $data --method baseline --epochs $epochs --batch-size 64 --input $input --stem $stem \
    --lr 0.1 --schedule cosine --warmup 1 --augmentation crop-flip --seed 1
python3 Benchmarks/summarize_runs.py $run
