#!/usr/bin/env bash
# Distillation, for the accuracy study in docs/RESULTS.md ("Toward 88%"): one ResNet-18 trained on clean FERPlus
# with vote targets and affine-flip-erase (as augmentation_study.sh's best run), each image's target mixing in
# WEIGHT of a teacher ensemble's probabilities for it (`scn train --distill-from`). The teacher's predictions
# for the training images (`scn predict --json` with VIEWS, softened to TEMPERATURE) are made once, into
# RUN-teacher.jsonl, with the teacher's checkpoints listed in RUN-teacher-checkpoints.txt. Resumable: run it
# again (with STOP_AFTER=EPOCH it stops after that epoch, as resolution_study.sh).
# Usage: [WEIGHT=W] [TEMPERATURE=T] [VIEWS=V] [INPUT=I] [START_INPUT=S [RAMP_END=E]] [PRECISION=bfloat16] [SEED=S] [AVERAGE=DECAY] Benchmarks/distillation_study.sh DATA_ROOT OUT_DIR EPOCHS TEACHER_CHECKPOINT...
#   WEIGHT: the teacher's share of each target (0.5); TEMPERATURE: p^(1/T), normalized (1: as predicted);
#   VIEWS: the teacher's test-time views, one, mirror (default) or ten; INPUT: the student's input size (48);
#   START_INPUT, RAMP_END, PRECISION: the student's progressive resizing and convolution precision, as in
#   resolution_study.sh; SEED: the student's seed (1); AVERAGE as in noise_comparison.sh.
#   Run: OUT_DIR/ferplusEPOCHS[-inputI][-fromS-rampE]-affine-flip-erase-votes-distillW-TT-V[-bfloat16][-seedS]-baseline.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 4 ]; then
    echo "usage: [WEIGHT=W] [TEMPERATURE=T] [VIEWS=one|mirror|ten] [INPUT=I] [START_INPUT=S [RAMP_END=E]] [PRECISION=P] [SEED=S] [AVERAGE=DECAY] $0 DATA_ROOT OUT_DIR EPOCHS TEACHER_CHECKPOINT..." >&2
    exit 2
fi
data=$1; out=$2; epochs=$3; shift 3
weight=${WEIGHT:-0.5}; temperature=${TEMPERATURE:-1}; views=${VIEWS:-mirror}; input=${INPUT:-48}; seed=${SEED:-1}
start_input=${START_INPUT:-}; ramp_end=${RAMP_END:-$((epochs / 2))}; precision=${PRECISION:-float32}
progressive=()
if [ -n "$start_input" ]; then progressive=(--start-input "$start_input" --input-ramp-end "$ramp_end"); fi
case $views in
    one) view_options=() ;;
    mirror) view_options=(--mirror-average) ;;
    ten) view_options=(--mirror-average --shift-average) ;;
    *) echo "VIEWS=$views: expected one, mirror or ten" >&2; exit 2 ;;
esac
swift build -c release --product scn >/dev/null
scn=.build/release/scn
source Benchmarks/train_and_test.sh
run=$out/ferplus$epochs$([ "$input" = 48 ] || echo "-input$input")$([ -z "$start_input" ] || echo "-from$start_input-ramp$ramp_end")-affine-flip-erase-votes-distill$weight-T$temperature-$views$([ "$precision" = float32 ] || echo "-$precision")$(seed_suffix $seed)-baseline
teacher=$run-teacher.jsonl
if [ ! -f "$teacher" ]; then
    mkdir -p "$out"
    checkpoints=()
    for checkpoint in "$@"; do checkpoints+=(--checkpoint "$checkpoint"); done
    # Written whole, then renamed: an interrupted prediction leaves no teacher file behind.
    $scn predict "${checkpoints[@]}" "${view_options[@]}" --temperature "$temperature" --json "$data/FER2013Train" > "$teacher.partial"
    mv "$teacher.partial" "$teacher"
    printf '%s\n' "$@" > "$run-teacher-checkpoints.txt"
fi
train_and_test $run ferplus $data $(ferplus_common_options $epochs $seed 0 affine-flip-erase $input) --method baseline \
    --targets votes --distill-from $teacher --distill-weight $weight $(weight_average_options $epochs) \
    --precision $precision "${progressive[@]}"
