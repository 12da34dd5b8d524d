#!/usr/bin/env bash
# Ten-view test figures (`--mirror-average --shift-average`) of the 40-epoch progressive 96x96 runs (48 -> 96
# pixels, bf16, vote targets, affine-flip-erase, weight average; resolution_study.sh with the options of
# docs/RESULTS.md "Toward 88%: progressive resizing") for each seed given, alone and as ensembles (the mean of
# the models' class probabilities): every seed's weight average (best.safetensors), every seed's trained
# weights (best-trained.safetensors), and all of them. With OTHER=RUN (another run: a student of these seeds
# from distillation_study.sh, or a run at another input size from resolution_study.sh; each member is tested
# at its own input size), also RUN alone and the seeds' trained weights together with RUN's trained weights
# and with both RUN's checkpoints.
# Usage: [OTHER=RUN] Benchmarks/progressive_ensemble.sh DATA_ROOT OUT_DIR SEED...
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
if [ -n "${OTHER:-}" ]; then
    other=$(basename "$OTHER")
    ten_views $OTHER/test-ten-views.json $OTHER/best.safetensors
    ten_views $OTHER/test-trained-ten-views.json $OTHER/best-trained.safetensors
    ten_views $out/ensembles/progressive96-seeds$names-trained+$other-trained.json "${trained[@]}" $OTHER/best-trained.safetensors
    ten_views $out/ensembles/progressive96-seeds$names-trained+$other-both.json "${trained[@]}" \
        $OTHER/best.safetensors $OTHER/best-trained.safetensors
fi
