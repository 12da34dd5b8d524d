#!/usr/bin/env bash
# Finding FER2013's wrong labels by cross-validation (docs/RESULTS.md, section 2): FOLDS baseline runs on
# FER2013's original labels, each leaving out one fold of the training split (`scn train --folds FOLDS
# --fold k`, otherwise section 2's common options), then every training label judged by the run that did
# not train on it (`scn eval/audit --out-of-fold`), beside the same figures of the baseline trained on the
# whole split (OUT_DIR/fer2013-baseline, results_ferplus.sh's run) where it exists. Resumable: run it again.
# Usage: Benchmarks/cross_validated_audit.sh DATA_ROOT OUT_DIR [FOLDS] [EPOCHS]
#   Runs: OUT_DIR/fer2013-baseline-foldK-ofFOLDS; figures: OUT_DIR/fer2013-baseline-FOLDS-fold-train.json
#   (eval on the training split: ROC AUCs for the labels that differ from the FERPlus majority) and the
#   audit OUT_DIR/audit-fer2013-baseline-FOLDS-fold (suspects.csv), summarized by suspect_precision.py.
set -euo pipefail
cd "$(dirname "$0")/.."
data=$1; out=$2; folds=${3:-2}; epochs=${4:-8}
swift build -c release --product scn >/dev/null
scn=.build/release/scn
source Benchmarks/train_and_test.sh
checkpoints=()
for k in $(seq 1 "$folds"); do
    run=$out/fer2013-baseline-fold$k-of$folds
    train_and_test $run fer2013 $data $(ferplus_common_options $epochs 1 0) --method baseline --folds $folds --fold $k
    checkpoints+=(--checkpoint "$run/best.safetensors")
done
audits=()
for kind in cross-validated whole; do
    if [ $kind = cross-validated ]; then
        name=fer2013-baseline-$folds-fold; members=(--out-of-fold "${checkpoints[@]}")
    else
        [ -f "$out/fer2013-baseline/best.safetensors" ] || continue
        name=fer2013-baseline; members=(--checkpoint "$out/fer2013-baseline/best.safetensors")
    fi
    $scn eval "${members[@]}" --dataset fer2013 --data $data --split train --json > "$out/$name-train.json"
    $scn audit "${members[@]}" --dataset fer2013 --data $data --rank-by label-probability --output "$out/audit-$name" >/dev/null
    audits+=("$out/audit-$name/suspects.csv")
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); accuracy, auc = d["accuracy"], d["wrong_label_auc_label_probability"]
print(f"{sys.argv[2]}: accuracy against the given labels {100 * accuracy:.2f}%, "
      f"ROC AUC of 1-p(label) for labels that differ from the FERPlus majority {auc:.3f}")' "$out/$name-train.json" "$name"
done
python3 Benchmarks/suspect_precision.py "${audits[@]}"
