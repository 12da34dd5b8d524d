#!/usr/bin/env bash
# How far apart two trained models are on the same test faces, against how far apart two seeds are: trains
# the baseline (seeds 1 and 2) and SCN (this project's variant, seed 1) on the first LIMIT FERPlus training
# images with NOISE injected label noise, then compares them pairwise with `scn compare` (paired bootstrap
# intervals of the accuracy difference, McNemar's exact test; docs/RESULTS.md "Is a difference real?").
# Resumable, as noise_comparison.sh.
# Usage: Benchmarks/paired_comparison.sh DATA_ROOT OUT_DIR [LIMIT] [EPOCHS] [NOISE]   (8000 16 0.3 by default)
#   Runs: OUT_DIR/ferplusEPOCHS-limitLIMIT-noiseNOISE[-seed2]-{baseline,scn-official}.
set -euo pipefail
cd "$(dirname "$0")/.."
data=$1; out=$2; limit=${3:-8000}; epochs=${4:-16}; noise=${5:-0.3}
swift build -c release --product scn >/dev/null
scn=.build/release/scn
source Benchmarks/train_and_test.sh
name=$out/ferplus$epochs-limit$limit-noise$noise
for spec in "1 baseline" "1 scn-official" "2 baseline"; do
    set -- $spec
    options=$([ $2 = baseline ] && echo "--method baseline" || scn_variant_options $epochs)
    train_and_test $name$(seed_suffix $1)-$2 ferplus $data $(ferplus_common_options $epochs $1 $noise) --limit $limit $options
done
compare() { echo "== $1 against $2"; $scn compare "$1" "$2"; }
compare $name-baseline/test-predictions.jsonl $name-scn-official/test-predictions.jsonl
compare $name-baseline/test-mirror-average-predictions.jsonl $name-scn-official/test-mirror-average-predictions.jsonl
compare $name-baseline/test-predictions.jsonl $name-seed2-baseline/test-predictions.jsonl
compare $name-baseline/test-predictions.jsonl $name-baseline/test-mirror-average-predictions.jsonl
