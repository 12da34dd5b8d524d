#!/usr/bin/env bash
# Ensembles of the 40-epoch FERPlus runs' best checkpoints (`scn eval --checkpoint A --checkpoint B ...`: the
# mean of the models' class probabilities), plain and mirror-averaged, as in docs/RESULTS.md ("Ensembles").
# Needs the runs of noise_comparison.sh (0.1 and 0.3, seeds 1 and 2) and relabel_rules.sh (0.1) in OUT_DIR.
# Usage: Benchmarks/ensemble_study.sh DATA_ROOT OUT_DIR
#   Writes OUT_DIR/ensembles/NAME.json and NAME-mirror.json per ensemble and prints accuracy and mean class
#   accuracy for each.
set -euo pipefail
cd "$(dirname "$0")/.."
data=$1; out=$2
swift build -c release --product scn >/dev/null
scn=.build/release/scn
source Benchmarks/train_and_test.sh
mkdir -p $out/ensembles
ensemble() {  # NAME RUN...
    local name=$1; shift
    local options=()
    for run in "$@"; do options+=(--checkpoint $out/$run/best.safetensors); done
    for mirror in "" --mirror-average; do
        local file=$out/ensembles/$name${mirror:+-mirror}.json
        $scn eval "${options[@]}" --dataset ferplus --data $data --split test --json $mirror > $file
        print_accuracy $file
    done
}
ten=ferplus40-noise0.1; thirty=ferplus40-noise0.3
ensemble noise0.1-baseline+scn $ten-baseline $ten-scn-official
ensemble noise0.3-baseline-seeds $thirty-baseline $thirty-seed2-baseline
ensemble noise0.3-scn-seeds $thirty-scn-official $thirty-seed2-scn-official
ensemble noise0.1-scn-margins $ten-scn-official $ten-scn-official-margin0.9 $ten-scn-official-margin0.95
ensemble noise0.1-all4 $ten-baseline $ten-scn-official $ten-scn-official-margin0.9 $ten-scn-official-margin0.95
ensemble noise0.3-all4 $thirty-baseline $thirty-seed2-baseline $thirty-scn-official $thirty-seed2-scn-official
