# Sourced by the result scripts beside it (needs $scn, the scn binary).
# train_and_test RUN DATASET DATA [TRAIN OPTIONS...]: trains RUN with `scn train` (resuming it when RUN has a
# last checkpoint), then writes RUN/test.json and RUN/test-mirror-average.json (`--mirror-average`) from its
# best checkpoint on DATASET's test split.
# With STOP_AFTER=EPOCH in the environment, training stops after that epoch (`--stop-after`) and, the run
# being unfinished, there is no test yet: run the script again (without it, or with a later one) to go on.
train_and_test() {
    local run=$1 dataset=$2 data=$3
    shift 3
    local options=()
    if [ -f "$run/last.safetensors" ]; then options+=(--resume); fi
    if [ -n "${STOP_AFTER:-}" ]; then options+=(--stop-after "$STOP_AFTER"); fi
    $scn train --dataset "$dataset" --data "$data" --run "$run" "$@" "${options[@]}"
    local completed total
    completed=$(wc -l < "$run/metrics.jsonl")
    total=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["epochs"])' "$run/configuration.json")
    if [ "$completed" -lt "$total" ]; then
        echo "$run: $completed of $total epochs done; run the same command again to continue"
        return 0
    fi
    $scn eval --checkpoint "$run/best.safetensors" --dataset "$dataset" --data "$data" --split test --json > "$run/test.json"
    $scn eval --checkpoint "$run/best.safetensors" --dataset "$dataset" --data "$data" --split test --mirror-average --json \
        > "$run/test-mirror-average.json"
}
