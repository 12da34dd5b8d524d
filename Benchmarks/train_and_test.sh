# Sourced by the result scripts beside it (needs $scn, the scn binary).
# train_and_test RUN DATASET DATA [TRAIN OPTIONS...]: trains RUN with `scn train` (resuming it when RUN has a
# last checkpoint), then writes RUN/test.json and RUN/test-mirror-average.json (`--mirror-average`) from its
# best checkpoint on DATASET's test split, and where the run kept a weight average, RUN/test-trained.json and
# RUN/test-trained-mirror-average.json from best-trained.safetensors (the trained weights the run without the
# average would have selected). Beside each, RUN/test[-trained][-mirror-average]-predictions.jsonl holds every
# test image's outputs (`scn eval --predictions`), for `scn compare` of two runs.
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
    local checkpoint suffix
    for checkpoint in best best-trained; do
        [ -f "$run/$checkpoint.safetensors" ] || continue
        suffix=$([ $checkpoint = best ] || echo -trained)
        $scn eval --checkpoint "$run/$checkpoint.safetensors" --dataset "$dataset" --data "$data" --split test --json \
            --predictions "$run/test$suffix-predictions.jsonl" > "$run/test$suffix.json"
        $scn eval --checkpoint "$run/$checkpoint.safetensors" --dataset "$dataset" --data "$data" --split test --mirror-average --json \
            --predictions "$run/test$suffix-mirror-average-predictions.jsonl" > "$run/test$suffix-mirror-average.json"
    done
}

# print_accuracy FILE: one line for an `scn eval --json` output: FILE, its accuracy and mean class accuracy.
print_accuracy() {
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print("%s: %.2f%% (%.2f%% mean class)" % (sys.argv[1], 100 * d["accuracy"], 100 * d["mean_class_accuracy"]))' "$1"
}

# seed_suffix SEED: the run-name suffix of a seed, "-seedSEED", empty for seed 1 (the runs of docs/RESULTS.md
# keep their names).
seed_suffix() {
    [ "$1" = 1 ] || echo "-seed$1"
}

# The options of the FERPlus noise comparison (docs/RESULTS.md section 1), shared by the scripts beside it.
# ferplus_common_options EPOCHS SEED NOISE [AUGMENTATION] [INPUT]: the training options both methods use (NOISE 0:
# clean labels; AUGMENTATION crop-flip and INPUT 48 unless given).
ferplus_common_options() {
    echo "--epochs $1 --batch-size 64 --input ${5:-48} --lr 0.1 --schedule cosine --warmup 1 --augmentation ${4:-crop-flip} --seed $2" \
        "$([ "$3" != 0 ] && echo "--noise $3")"
}
# weight_average_options EPOCHS: with AVERAGE=DECAY in the environment, a weight average of that decay from 5/8
# of the schedule (`--weight-average DECAY --weight-average-start EPOCHS*5/8`); nothing without it.
weight_average_options() {
    if [ -n "${AVERAGE:-}" ]; then echo "--weight-average $AVERAGE --weight-average-start $(($1 * 5 / 8))"; fi
}
# scn_variant_options EPOCHS: this project's SCN variant in the official loss form; relabeling starts after
# 5/8 of the schedule.
scn_variant_options() {
    echo "--method scn --relabel-start $(($1 * 5 / 8)) --alpha-scaling batch-mean --baseline-warmup 2" \
        "--relabel-confidence 0.9 --relabel-patience 2 --loss-form official"
}
# comparison_method_options METHOD EPOCHS: the training options of a method of the noise comparisons: baseline,
# scn-official (scn_variant_options), scn-official-marginM (the same with the rank loss's margin M) or
# scn-official-group-by-loss (the same with the groups chosen by the loss, --group-by loss).
comparison_method_options() {
    case $1 in
        baseline) echo "--method baseline" ;;
        scn-official) scn_variant_options $2 ;;
        scn-official-margin*) echo "$(scn_variant_options $2) --margin ${1#scn-official-margin}" ;;
        scn-official-group-by-loss) echo "$(scn_variant_options $2) --group-by loss" ;;
        *) echo "unknown method $1 (baseline, scn-official, scn-official-marginM, scn-official-group-by-loss)" >&2; return 1 ;;
    esac
}
