#!/usr/bin/env bash
# Finding FER2013's wrong labels by cross-validation (docs/RESULTS.md, section 2): FOLDS baseline runs on
# FER2013's original labels, each leaving out one fold of the training split (`scn train --folds FOLDS
# --fold k`, otherwise section 2's common options), then every training label judged by the run that did
# not train on it (`scn eval/audit --out-of-fold`), beside the same figures of the baseline trained on the
# whole split. Resumable: run it again (finished runs are not trained again).
# Usage: [CHECKPOINT=last] Benchmarks/cross_validated_audit.sh DATA_ROOT OUT_DIR [FOLDS] [EPOCHS] [LIMIT] [AUGMENTATION]
#   LIMIT: only the first LIMIT training images (`--limit`); AUGMENTATION: crop-flip (default) or none.
#   CHECKPOINT: judge with each run's best.safetensors (default) or last.safetensors.
#   Runs: OUT_DIR/NAME (the whole split; with the defaults section 2's OUT_DIR/fer2013-baseline, which
#   results_ferplus.sh trains) and OUT_DIR/NAME-foldK-ofFOLDS, NAME = fer2013[-LIMIT][-noaug][-EPOCHS]-baseline.
#   Figures: OUT_DIR/NAME[-FOLDS-fold][-last]-train.json (eval on the training split: ROC AUC of 1-p(label)
#   for the labels that differ from the FERPlus majority) and the audits OUT_DIR/audit-NAME[-FOLDS-fold][-last]
#   (suspects.csv), summarized by suspect_precision.py.
set -euo pipefail
cd "$(dirname "$0")/.."
data=$1; out=$2; folds=${3:-2}; epochs=${4:-8}; limit=${5:-}; augmentation=${6:-crop-flip}; checkpoint=${CHECKPOINT:-best}
swift build -c release --product scn >/dev/null
scn=.build/release/scn
source Benchmarks/train_and_test.sh
common=$(ferplus_common_options $epochs 1 0 $augmentation)
selection=(--dataset fer2013 --data $data ${limit:+--limit $limit})
name=fer2013${limit:+-$limit}$([ "$augmentation" = none ] && echo -noaug)$([ "$epochs" = 8 ] || echo "-$epochs")-baseline
# train_once RUN [OPTIONS...]: trains and tests RUN unless it has its test figures already.
train_once() { [ -f "$1/test.json" ] || train_and_test "$1" fer2013 $data $common ${limit:+--limit $limit} --method baseline "${@:2}"; }
train_once "$out/$name"
runs=()
for k in $(seq 1 "$folds"); do
    runs+=("$out/$name-fold$k-of$folds")
    train_once "$out/$name-fold$k-of$folds" --folds $folds --fold $k
done
audits=()
for kind in cross-validated whole; do
    if [ $kind = cross-validated ]; then
        figures=$name-$folds-fold; members=(--out-of-fold)
        for run in "${runs[@]}"; do members+=(--checkpoint "$run/$checkpoint.safetensors"); done
    else
        figures=$name; members=(--checkpoint "$out/$name/$checkpoint.safetensors")
    fi
    [ "$checkpoint" = best ] || figures=$figures-$checkpoint
    $scn eval "${members[@]}" "${selection[@]}" --split train --json > "$out/$figures-train.json"
    $scn audit "${members[@]}" "${selection[@]}" --rank-by label-probability --output "$out/audit-$figures" >/dev/null
    audits+=("$out/audit-$figures/suspects.csv")
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); accuracy, auc = d["accuracy"], d["wrong_label_auc_label_probability"]
print(f"{sys.argv[2]}: accuracy against the given labels {100 * accuracy:.2f}%, "
      f"ROC AUC of 1-p(label) for labels that differ from the FERPlus majority {auc:.3f}")' "$out/$figures-train.json" "$figures"
done
python3 Benchmarks/suspect_precision.py "${audits[@]}"
