#!/usr/bin/env bash
# Ten-view test figures (`--mirror-average --shift-average`) of the 40-epoch progressive 96x96 runs (48 -> 96
# pixels, bf16, vote targets, affine-flip-erase, weight average; resolution_study.sh with the options of
# docs/RESULTS.md "Toward 88%: progressive resizing") for each seed given, alone and as ensembles (the mean of
# the models' class probabilities): every seed's weight average (best.safetensors), every seed's trained
# weights (best-trained.safetensors), and all of them. With STUDENT=RUN (a run of distillation_study.sh, whose
# teacher these seeds may be), also RUN alone and the seeds' trained weights together with RUN's.
# Usage: [STUDENT=RUN] Benchmarks/progressive_ensemble.sh DATA_ROOT OUT_DIR SEED...
#   Writes RUN/test[-trained]-ten-views.json per run (kept if there) and OUT_DIR/ensembles/progressive96-*.json,
#   and prints accuracy and mean class accuracy for each.
set -euo pipefail
cd "$(dirname "$0")/.."
data=$1; out=$2; shift 2
swift build -c release --product scn >/dev/null
scn=.build/release/scn
source Benchmarks/train_and_test.sh
mkdir -p $out/ensembles
ten_views() {  # OUTPUT CHECKPOINT...
    local file=$1; shift
    if [ ! -f $file ]; then
        local options=()
        for checkpoint in "$@"; do options+=(--checkpoint $checkpoint); done
        $scn eval "${options[@]}" --dataset ferplus --data $data --split test --mirror-average --shift-average --json > $file.partial
        mv $file.partial $file
    fi
    print_accuracy $file
}
averages=(); trained=(); names=""
for seed in "$@"; do
    run=$out/ferplus40-input96-from48-ramp24-imageNet-affine-flip-erase-votes-bfloat16$(seed_suffix $seed)-baseline
    ten_views $run/test-ten-views.json $run/best.safetensors
    ten_views $run/test-trained-ten-views.json $run/best-trained.safetensors
    averages+=($run/best.safetensors); trained+=($run/best-trained.safetensors); names+="-$seed"
done
ten_views $out/ensembles/progressive96-seeds$names-averages.json "${averages[@]}"
ten_views $out/ensembles/progressive96-seeds$names-trained.json "${trained[@]}"
ten_views $out/ensembles/progressive96-seeds$names-all.json "${averages[@]}" "${trained[@]}"
if [ -n "${STUDENT:-}" ]; then
    student=$(basename "$STUDENT")
    ten_views $STUDENT/test-ten-views.json $STUDENT/best.safetensors
    ten_views $STUDENT/test-trained-ten-views.json $STUDENT/best-trained.safetensors
    ten_views $out/ensembles/progressive96-seeds$names-trained+$student-trained.json "${trained[@]}" $STUDENT/best-trained.safetensors
    ten_views $out/ensembles/progressive96-seeds$names-trained+$student-both.json "${trained[@]}" \
        $STUDENT/best.safetensors $STUDENT/best-trained.safetensors
fi
