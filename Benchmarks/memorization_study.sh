#!/usr/bin/env bash
# Baseline against SCN where the baseline can memorize its wrong labels: the first LIMIT FERPlus training
# images with 30% injected noise, no augmentation, EPOCHS epochs (docs/RESULTS.md, "Where the baseline
# memorizes"). SCN twice, relabeling from a quarter of the schedule (the paper: epoch 10 of 40): this
# project's variant in the official loss form, and the paper's recipe (its defaults). Resumable: run it
# again after an interruption; finished runs (with their test figures) are skipped.
# Usage: Benchmarks/memorization_study.sh DATA_ROOT OUT_DIR [EPOCHS] [LIMIT] [NOISE]
#   Runs: OUT_DIR/ferplusLIMIT-noiseNOISE-noaugEPOCHS-{baseline,scn-official,scn-paper}.
set -euo pipefail
cd "$(dirname "$0")/.."
data=$1; out=$2; epochs=${3:-24}; limit=${4:-8000}; noise=${5:-0.3}
swift build -c release --product scn >/dev/null
scn=.build/release/scn
source Benchmarks/train_and_test.sh
common="--limit $limit --noise $noise --epochs $epochs --batch-size 64 --input 48 --lr 0.1 --schedule cosine --warmup 1 --augmentation none --seed 1"
paper="--method scn --relabel-start $((epochs / 4))"
variant="--method scn --relabel-start $((epochs / 4)) --alpha-scaling batch-mean --baseline-warmup 2 --relabel-confidence 0.9 --relabel-patience 2 --loss-form official"
name=ferplus$limit-noise$noise-noaug$epochs
for method in baseline scn-official scn-paper; do
    run=$out/$name-$method
    [ -f "$run/test-mirror-average.json" ] && continue
    case $method in baseline) options="--method baseline";; scn-official) options=$variant;; scn-paper) options=$paper;; esac
    train_and_test $run ferplus $data $common $options
done
python3 Benchmarks/summarize_runs.py $out/$name-baseline $out/$name-scn-official $out/$name-scn-paper
