#!/usr/bin/env bash
# Baseline against SCN where the baseline can memorize its wrong labels: the first LIMIT FERPlus training
# images with 30% injected noise, no augmentation, EPOCHS epochs (docs/RESULTS.md, "Where the baseline
# memorizes"). SCN twice, relabeling from a quarter of the schedule (the paper: epoch 10 of 40): this
# project's variant in the official loss form, and the paper's recipe (its defaults). Then, with a weight
# average from epoch 2 (per-step decay DECAY): the baseline with it, and the variant relabeling from the
# average's probabilities (`--relabel-probabilities averagedLogits`). Resumable: run it again after an
# interruption; finished runs (with their test figures) are skipped.
# Usage: [METHODS="..."] Benchmarks/memorization_study.sh DATA_ROOT OUT_DIR [EPOCHS] [LIMIT] [NOISE] [DECAY]
#   METHODS: a subset of "baseline scn-official scn-paper baseline-average scn-official-teacher" (all of them
#   by default). Runs: OUT_DIR/ferplusLIMIT-noiseNOISE-noaugEPOCHS-{baseline,scn-official,scn-paper,
#   baseline-averageDECAY,scn-official-teacherDECAY}.
set -euo pipefail
cd "$(dirname "$0")/.."
data=$1; out=$2; epochs=${3:-24}; limit=${4:-8000}; noise=${5:-0.3}; decay=${6:-0.998}
swift build -c release --product scn >/dev/null
scn=.build/release/scn
source Benchmarks/train_and_test.sh
common="--limit $limit --noise $noise --epochs $epochs --batch-size 64 --input 48 --lr 0.1 --schedule cosine --warmup 1 --augmentation none --seed 1"
paper="--method scn --relabel-start $((epochs / 4))"
variant="--method scn --relabel-start $((epochs / 4)) --alpha-scaling batch-mean --baseline-warmup 2 --relabel-confidence 0.9 --relabel-patience 2 --loss-form official"
average="--weight-average $decay --weight-average-start 2"
name=ferplus$limit-noise$noise-noaug$epochs
runs=()
for method in ${METHODS:-baseline scn-official scn-paper baseline-average scn-official-teacher}; do
    case $method in
        baseline) run=$out/$name-baseline; options="--method baseline" ;;
        scn-official) run=$out/$name-scn-official; options=$variant ;;
        scn-paper) run=$out/$name-scn-paper; options=$paper ;;
        baseline-average) run=$out/$name-baseline-average$decay; options="--method baseline $average" ;;
        scn-official-teacher) run=$out/$name-scn-official-teacher$decay; options="$variant $average --relabel-probabilities averagedLogits" ;;
        *) echo "unknown method '$method'" >&2; exit 1 ;;
    esac
    runs+=("$run")
    [ -f "$run/test-mirror-average.json" ] && continue
    train_and_test $run ferplus $data $common $options
done
python3 Benchmarks/summarize_runs.py "${runs[@]}"
