#!/usr/bin/env bash
# The clean-label baseline of noise_comparison.sh trained against each face's annotator vote distribution
# (`--targets votes`) instead of its majority label, tested like the other runs on the majority labels.
# Resumable: run it again.
# Usage: [AVERAGE=DECAY] Benchmarks/vote_targets.sh DATA_ROOT OUT_DIR [EPOCHS] [SEED]
#   Run: OUT_DIR/ferplusEPOCHS-votes[-seedSEED]-baseline, summarized beside noise_comparison.sh's
#   OUT_DIR/ferplusEPOCHS-noise0[-seedSEED]-baseline where that run exists.
#   AVERAGE=0.999: the run also keeps a weight average from epoch EPOCHS*5/8, as noise_comparison.sh's do.
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/.."
data=$1; out=$2; epochs=${3:-8}; seed=${4:-1}
swift build -c release --product scn >/dev/null
scn=.build/release/scn
source Benchmarks/train_and_test.sh
suffix=$(seed_suffix $seed)
run=$out/ferplus$epochs-votes$suffix-baseline
train_and_test $run ferplus $data $(ferplus_common_options $epochs $seed 0) --method baseline --targets votes \
    $(weight_average_options $epochs)
python3 Benchmarks/summarize_runs.py $out/ferplus$epochs-noise0$suffix-baseline* $run
