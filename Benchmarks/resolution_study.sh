#!/usr/bin/env bash
# The baseline on clean FERPlus majority labels at another input size or stem, for the accuracy study in
# docs/RESULTS.md ("Toward 88%"). The 48x48 images are resized to INPUT; with the ImageNet stem the
# network's first block sees INPUT/4 pixels a side, with the small stem (3x3, stride 1, no max pool) INPUT.
# Resumable: run it again after an interruption (with STOP_AFTER=EPOCH it stops after that epoch, to train
# a run in parts).
# Usage: [AUGMENTATION=A] [TARGETS=votes] [AVERAGE=DECAY] [SEED=S] [START_INPUT=S [RAMP_END=E]] [PRECISION=bfloat16] Benchmarks/resolution_study.sh DATA_ROOT OUT_DIR INPUT [EPOCHS] [STEM]
#   AUGMENTATION: crop-flip (default), official or affine-flip-erase; TARGETS: labels (default) or votes
#   (as in augmentation_study.sh); AVERAGE as in noise_comparison.sh; SEED: the run's seed (1);
#   START_INPUT, RAMP_END: progressive resizing, training from START_INPUT up to INPUT at epoch RAMP_END
#   (`--start-input`, `--input-ramp-end`; RAMP_END defaults to half the epochs); PRECISION: the convolutions'
#   precision (`--precision`; float32 unless given, bfloat16 where the CPU has AVX-512 BF16).
#   Run: OUT_DIR/ferplusEPOCHS-inputINPUT[-fromS-rampE]-STEM[-AUGMENTATION][-votes][-bfloat16][-seedS]-baseline (STEM:
#   imageNet or small; the augmentation in the name unless it is crop-flip).
set -euo pipefail
cd "$(dirname "$0")/.."
data=$1; out=$2; input=$3; epochs=${4:-8}; stem=${5:-imageNet}
augmentation=${AUGMENTATION:-crop-flip}; targets=${TARGETS:-labels}; seed=${SEED:-1}
start_input=${START_INPUT:-}; ramp_end=${RAMP_END:-$((epochs / 2))}; precision=${PRECISION:-float32}
progressive=()
if [ -n "$start_input" ]; then progressive=(--start-input "$start_input" --input-ramp-end "$ramp_end"); fi
swift build -c release --product scn >/dev/null
scn=.build/release/scn
source Benchmarks/train_and_test.sh
run=$out/ferplus$epochs-input$input$([ -z "$start_input" ] || echo "-from$start_input-ramp$ramp_end")-$stem$([ "$augmentation" = crop-flip ] || echo "-$augmentation")$([ "$targets" = labels ] || echo "-$targets")$([ "$precision" = float32 ] || echo "-$precision")$(seed_suffix $seed)-baseline
train_and_test $run ferplus $data $(ferplus_common_options $epochs $seed 0 $augmentation $input) --method baseline \
    --stem $stem --targets $targets $(weight_average_options $epochs) --precision $precision "${progressive[@]}"
python3 Benchmarks/summarize_runs.py $run
