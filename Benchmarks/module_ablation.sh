#!/usr/bin/env bash
# The paper's ablation of SCN's modules (its Table 5) on FERPlus with injected label noise, over seeds: SCN (this
# project's variant, scn_variant_options in train_and_test.sh) with relabeling alone (the variant's rule, and the
# paper's rule: delta2 0.2 for every sample, the paper's "naive relabeling"), the importance weighting alone, the
# weighting and the rank loss, the weighting and relabeling, all three with the official code's smaller margin
# (0.07), and all three; each trained for every seed of SEEDS and compared with the baseline
# of the same seed (Benchmarks/paired_comparison.sh, which trains what is missing; resumable). Ends with one
# Markdown table: each variant's modules, mean accuracy, difference from the baseline with its Student t interval
# over the seeds and its two-level bootstrap interval, the seeds it wins, alpha's spread and wrong-label AUC in
# the last epoch, and its relabels.
# VARIANTS="scn-weighting-only scn-official" runs and tabulates only those rows (names below).
# Usage: [SEEDS="1 2 3 4"] [VARIANTS=...] Benchmarks/module_ablation.sh DATA_ROOT OUT_DIR [LIMIT] [EPOCHS] [NOISE]
#   (8000 16 0.3 by default; about 11 minutes of training per run at 48x48 on 2 Zen 3 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
data=$1; out=$2; limit=${3:-8000}; epochs=${4:-16}; noise=${5:-0.3}
export SEEDS=${SEEDS:-1 2 3 4}
source Benchmarks/train_and_test.sh
# name|modules (weighting, rank loss, relabeling)|options added to the variant's
all_variants=(
    "scn-relabel-only|relabeling|--no-importance-weighting --no-rank-regularization --relabel-scope all"
    "scn-relabel-only-paper-rule|relabeling, the paper's rule|--no-importance-weighting --no-rank-regularization --relabel-scope all --relabel-confidence 0 --relabel-patience 1"
    "scn-weighting-only|weighting|--no-rank-regularization --relabel-start $epochs"
    "scn-no-relabel|weighting, rank loss|--relabel-start $epochs"
    "scn-no-rank-loss|weighting, relabeling|--no-rank-regularization"
    "scn-margin0.07|weighting, rank loss with margin 0.07, relabeling|--margin 0.07"
    "scn-official|weighting, rank loss, relabeling|"
)
variants=()
for variant in "${all_variants[@]}"; do
    if [ -z "${VARIANTS:-}" ] || [[ " $VARIANTS " == *" ${variant%%|*} "* ]]; then variants+=("$variant"); fi
done
[ ${#variants[@]} -gt 0 ] || { echo "VARIANTS='$VARIANTS' names none of: ${all_variants[*]%%|*}" >&2; exit 1; }
for variant in "${variants[@]}"; do
    IFS='|' read -r name modules options <<< "$variant"
    SCN_NAME=$name SCN_OPTIONS=$options Benchmarks/paired_comparison.sh "$data" "$out" "$limit" "$epochs" "$noise" \
        > "$out/ablation-$name.log"
done
prefix=$out/ferplus$epochs-limit$limit-noise$noise
runs() { for seed in $SEEDS; do echo $prefix$(seed_suffix $seed)-$1; done; }
echo "| SCN modules | baseline | SCN | SCN - baseline | Student t interval | two-level bootstrap | seeds ahead / behind | alpha std, last epoch (AUC of 1-alpha) | relabels per run (right) |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for variant in "${variants[@]}"; do
    IFS='|' read -r name modules options <<< "$variant"
    .build/release/scn compare --json --first $(for run in $(runs baseline); do echo $run/test-predictions.jsonl; done) \
        --second $(for run in $(runs $name); do echo $run/test-predictions.jsonl; done) \
        | python3 Benchmarks/ablation_row.py "$modules" $(runs $name)
done
