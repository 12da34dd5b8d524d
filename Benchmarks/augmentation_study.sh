#!/usr/bin/env bash
# The clean FERPlus baseline of noise_comparison.sh with another augmentation (and, optionally, the annotator
# votes as targets), for the accuracy study in docs/RESULTS.md ("Toward 88%"). Resumable: run it again.
# Usage: [AVERAGE=DECAY] Benchmarks/augmentation_study.sh DATA_ROOT OUT_DIR AUGMENTATION [EPOCHS] [TARGETS]
#   AUGMENTATION: none, crop-flip, official or affine-flip-erase; TARGETS: labels (default) or votes.
#   Run: OUT_DIR/ferplusEPOCHS-AUGMENTATION[-votes]-baseline, summarized beside noise_comparison.sh's clean
#   baseline and vote_targets.sh's run where they exist. AVERAGE as in noise_comparison.sh.
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/.."
data=$1; out=$2; augmentation=$3; epochs=${4:-8}; targets=${5:-labels}
swift build -c release --product scn >/dev/null
scn=.build/release/scn
source Benchmarks/train_and_test.sh
run=$out/ferplus$epochs-$augmentation$([ "$targets" = labels ] || echo "-$targets")-baseline
train_and_test $run ferplus $data $(ferplus_common_options $epochs 1 0 $augmentation) --method baseline \
    --targets $targets $(weight_average_options $epochs)
python3 Benchmarks/summarize_runs.py $out/ferplus$epochs-noise0-baseline* $out/ferplus$epochs-votes-baselin[e] $run
