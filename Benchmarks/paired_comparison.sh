#!/usr/bin/env bash
# How far apart two trained models are on the same test faces, against how far apart two seeds are: trains
# the baseline and SCN (this project's variant) for each seed of SEEDS on the first LIMIT FERPlus training
# images with NOISE injected label noise, then compares them pairwise with `scn compare` (paired bootstrap
# intervals of the accuracy difference, McNemar's exact test; docs/RESULTS.md "Is a difference real?"):
# SCN against the baseline of each seed (one view and mirror-averaged), the second seed's baseline against
# the first's, and the first baseline against its own mirror average. Resumable, as noise_comparison.sh.
# Usage: [SEEDS="1 2"] Benchmarks/paired_comparison.sh DATA_ROOT OUT_DIR [LIMIT] [EPOCHS] [NOISE]   (8000 16 0.3 by default)
#   Runs: OUT_DIR/ferplusEPOCHS-limitLIMIT-noiseNOISE[-seedS]-{baseline,scn-official}.
set -euo pipefail
cd "$(dirname "$0")/.."
data=$1; out=$2; limit=${3:-8000}; epochs=${4:-16}; noise=${5:-0.3}
swift build -c release --product scn >/dev/null
scn=.build/release/scn
source Benchmarks/train_and_test.sh
name=$out/ferplus$epochs-limit$limit-noise$noise
seeds=(${SEEDS:-1 2})
for seed in "${seeds[@]}"; do
    for method in baseline scn-official; do
        options=$([ $method = baseline ] && echo "--method baseline" || scn_variant_options $epochs)
        train_and_test $name$(seed_suffix $seed)-$method ferplus $data $(ferplus_common_options $epochs $seed $noise) --limit $limit $options
    done
done
compare() { echo "== $1 against $2"; $scn compare "$1" "$2"; }
for seed in "${seeds[@]}"; do
    run=$name$(seed_suffix $seed)
    compare $run-baseline/test-predictions.jsonl $run-scn-official/test-predictions.jsonl
    compare $run-baseline/test-mirror-average-predictions.jsonl $run-scn-official/test-mirror-average-predictions.jsonl
done
first=$name$(seed_suffix ${seeds[0]})-baseline
for seed in "${seeds[@]:1}"; do compare $first/test-predictions.jsonl $name$(seed_suffix $seed)-baseline/test-predictions.jsonl; done
compare $first/test-predictions.jsonl $first/test-mirror-average-predictions.jsonl
