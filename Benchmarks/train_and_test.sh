# Sourced by the result scripts beside it (needs $scn, the scn binary).
# train_and_test RUN DATASET DATA [TRAIN OPTIONS...]: trains RUN with `scn train` (resuming it when RUN has a
# last checkpoint), then writes RUN/test.json and RUN/test-mirror-average.json (`--mirror-average`) from its
# best checkpoint on DATASET's test split.
train_and_test() {
    local run=$1 dataset=$2 data=$3
    shift 3
    local resume=()
    if [ -f "$run/last.safetensors" ]; then resume=(--resume); fi
    $scn train --dataset "$dataset" --data "$data" --run "$run" "$@" "${resume[@]}"
    $scn eval --checkpoint "$run/best.safetensors" --dataset "$dataset" --data "$data" --split test --json > "$run/test.json"
    $scn eval --checkpoint "$run/best.safetensors" --dataset "$dataset" --data "$data" --split test --mirror-average --json \
        > "$run/test-mirror-average.json"
}
