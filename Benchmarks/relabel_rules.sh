#!/usr/bin/env bash
# SCN's relabeling rule varied on one training history: each rule trains the rest of the schedule (`scn train
# --fork`) from the checkpoint of noise_comparison.sh's SCN run before relabeling starts (epoch 5/8 of the
# schedule; the one that run keeps, or else a prefix run trained here up to that epoch), and is tested like
# the other runs. Resumable: run it again.
# Usage: Benchmarks/relabel_rules.sh DATA_ROOT OUT_DIR NOISE [EPOCHS] [RULES] [SEED]
#   RULES, comma separated (default margin0.9,margin0.95): marginT relabels only where max P - P[label]
#   exceeds T (delta2; the variant's own is 0.2, with confidence 0.9 and patience 2: noise_comparison.sh's
#   SCN run); stopE stops relabeling from 0-based epoch E on (`--relabel-stop E`); averageD keeps a weight
#   average with per-step decay D from the fork on (`--weight-average D`: the same training, the average
#   validated and tested); teacherD also relabels from the average's probabilities
#   (`--relabel-probabilities averagedLogits`); parts joined by + combine (margin0.9+stop29).
#   Runs: OUT_DIR/ferplusEPOCHS-noiseNOISE[-seedSEED]-scn-official-RULE for each rule, and
#   OUT_DIR/ferplusEPOCHS-noiseNOISE[-seedSEED]-scn-official-prefix (the shared epochs) where the SCN run
#   OUT_DIR/ferplusEPOCHS-noiseNOISE[-seedSEED]-scn-official has not kept its checkpoint.
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/.."
data=$1; out=$2; noise=$3; epochs=${4:-40}; rules=${5:-margin0.9,margin0.95}; seed=${6:-1}
swift build -c release --product scn >/dev/null
scn=.build/release/scn
source Benchmarks/train_and_test.sh
start=$((epochs * 5 / 8))
name=ferplus$epochs-noise$noise$(seed_suffix $seed)-scn-official
shared=$out/$name/epoch-$start.safetensors
if [ ! -f "$shared" ]; then
    prefix=$out/$name-prefix
    shared=$prefix/epoch-$start.safetensors
    [ -f "$shared" ] || $scn train --dataset ferplus --data $data --run $prefix $(ferplus_common_options $epochs $seed $noise) \
        $(scn_variant_options $epochs) --stop-after $start --keep-checkpoints $start $([ -f "$prefix/last.safetensors" ] && echo --resume)
fi
for rule in ${rules//,/ }; do
    option=()
    for part in ${rule//+/ }; do
        case $part in
            margin*) option+=(--relabel-threshold "${part#margin}") ;;
            stop*) option+=(--relabel-stop "${part#stop}") ;;
            average*) option+=(--weight-average "${part#average}") ;;
            teacher*) option+=(--weight-average "${part#teacher}" --relabel-probabilities averagedLogits) ;;
            *) echo "unknown rule '$part': expected marginT, stopE, averageD or teacherD, joined by +" >&2; exit 1 ;;
        esac
    done
    run=$out/$name-$rule
    fork=()
    [ -f "$run/last.safetensors" ] || fork=(--fork "$shared" "${option[@]}")
    train_and_test $run ferplus $data $(ferplus_common_options $epochs $seed $noise) "${fork[@]}"
    python3 Benchmarks/relabel_analysis.py $data $run
done
python3 Benchmarks/summarize_runs.py $out/$name $out/$name-margin* $out/$name-stop* $out/$name-average* $out/$name-teacher*
