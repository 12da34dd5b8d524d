#!/usr/bin/env bash
# How far apart two trained models are on the same test faces, against how far apart two seeds are: trains
# the baseline and SCN (this project's variant) for each seed of SEEDS on the first LIMIT FERPlus training
# images with NOISE injected label noise, then compares them pairwise with `scn compare` (paired bootstrap
# intervals of the accuracy difference, McNemar's exact test; docs/RESULTS.md "Is a difference real?"):
# SCN against the baseline of each seed (one view and mirror-averaged), the second seed's baseline against
# the first's, and the first baseline against its own mirror average; with two seeds or more, the two methods
# over all the seeds (`scn compare --first ... --second ...`). Resumable, as noise_comparison.sh.
# Another SCN variant against the same baselines: SCN_OPTIONS adds to (and overrides) the variant's training
# options, and SCN_NAME names its runs (SCN_NAME=scn-class-mean SCN_OPTIONS="--alpha-scaling class-mean").
# Usage: [SEEDS="1 2"] [SCN_NAME=... SCN_OPTIONS=...] Benchmarks/paired_comparison.sh DATA_ROOT OUT_DIR [LIMIT] [EPOCHS] [NOISE]
#   (8000 16 0.3 by default). Runs: OUT_DIR/ferplusEPOCHS-limitLIMIT-noiseNOISE[-seedS]-{baseline,SCN_NAME (scn-official)}.
set -euo pipefail
cd "$(dirname "$0")/.."
data=$1; out=$2; limit=${3:-8000}; epochs=${4:-16}; noise=${5:-0.3}
swift build -c release --product scn >/dev/null
scn=.build/release/scn
source Benchmarks/train_and_test.sh
name=$out/ferplus$epochs-limit$limit-noise$noise
seeds=(${SEEDS:-1 2})
scn_name=${SCN_NAME:-scn-official}
for seed in "${seeds[@]}"; do
    for method in baseline $scn_name; do
        options=$([ $method = baseline ] && echo "--method baseline" || echo "$(scn_variant_options $epochs) ${SCN_OPTIONS:-}")
        train_and_test $name$(seed_suffix $seed)-$method ferplus $data $(ferplus_common_options $epochs $seed $noise) --limit $limit $options
    done
done
compare() { echo "== $1 against $2"; $scn compare "$1" "$2"; }
for seed in "${seeds[@]}"; do
    run=$name$(seed_suffix $seed)
    compare $run-baseline/test-predictions.jsonl $run-$scn_name/test-predictions.jsonl
    compare $run-baseline/test-mirror-average-predictions.jsonl $run-$scn_name/test-mirror-average-predictions.jsonl
done
first=$name$(seed_suffix ${seeds[0]})-baseline
for seed in "${seeds[@]:1}"; do compare $first/test-predictions.jsonl $name$(seed_suffix $seed)-baseline/test-predictions.jsonl; done
compare $first/test-predictions.jsonl $first/test-mirror-average-predictions.jsonl
# The methods over all the seeds: each seed's pair, their mean difference, its t interval over the seeds and
# the two-level bootstrap's (one view, then mirror-averaged).
if [ ${#seeds[@]} -gt 1 ]; then
    for views in "" -mirror-average; do
        echo "== baseline against SCN over seeds ${seeds[*]}${views:+, mirror-averaged}"
        $scn compare --first $(for seed in "${seeds[@]}"; do echo $name$(seed_suffix $seed)-baseline/test$views-predictions.jsonl; done) \
            --second $(for seed in "${seeds[@]}"; do echo $name$(seed_suffix $seed)-$scn_name/test$views-predictions.jsonl; done)
    done
fi
