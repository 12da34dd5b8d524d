#!/usr/bin/env bash
# The baseline of noise_comparison.sh with a weight average over the last 3/8 of the schedule (`--weight-average
# DECAY --weight-average-start EPOCHS*5/8`, the epochs in which relabel_rules.sh's averageD and teacherD forks
# keep theirs), to compare SCN with a weight average against a baseline with one. The average does not change
# the training: the run's trained weights follow the plain baseline's exactly, so where noise_comparison.sh's
# baseline has kept its checkpoint after those epochs, the run forks from it and trains only the rest.
# Resumable: run it again.
# Usage: Benchmarks/averaged_baseline.sh DATA_ROOT OUT_DIR NOISE [EPOCHS] [DECAY] [SEED]
#   Run: OUT_DIR/ferplusEPOCHS-noiseNOISE[-seedSEED]-baseline-averageDECAY
set -euo pipefail
cd "$(dirname "$0")/.."
data=$1; out=$2; noise=$3; epochs=${4:-40}; decay=${5:-0.999}; seed=${6:-1}
swift build -c release --product scn >/dev/null
scn=.build/release/scn
source Benchmarks/train_and_test.sh
start=$((epochs * 5 / 8))
baseline=$out/ferplus$epochs-noise$noise$(seed_suffix $seed)-baseline
run=$baseline-average$decay
fork=()
[ -f "$run/last.safetensors" ] || [ ! -f "$baseline/epoch-$start.safetensors" ] || fork=(--fork "$baseline/epoch-$start.safetensors")
train_and_test $run ferplus $data $(ferplus_common_options $epochs $seed $noise) --method baseline \
    --weight-average $decay --weight-average-start $start "${fork[@]}"
python3 Benchmarks/summarize_runs.py $run
