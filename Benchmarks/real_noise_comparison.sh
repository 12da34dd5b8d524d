#!/usr/bin/env bash
# Baseline against SCN (this project's variant, official loss form) on real label noise, as in docs/RESULTS.md
# section 2, at any epoch count: trained on FER2013's original labels (32.3% of those with a FERPlus majority
# disagree with it), validated and tested on the FERPlus majority. The options are section 1's
# (noise_comparison.sh's), with relabeling from 5/8 of the schedule. Resumable: run it again after an
# interruption and each run continues from its last checkpoint (STOP_AFTER=EPOCH trains in parts). About 140 s
# per epoch per run on the Zen 3 machine at 48x48 (28,281 training images).
# Besides test[-trained].json, each finished run gets train-labels[-trained].json: `scn eval --split train` on
# FER2013's labels, with the ROC AUC of 1-alpha and of 1-p(label) for the labels FERPlus's majority calls wrong.
# Usage: [AVERAGE=DECAY] [METHODS=...] Benchmarks/real_noise_comparison.sh DATA_ROOT OUT_DIR [EPOCHS] [SEED]
#   Runs: OUT_DIR/fer2013-epochsEPOCHS[-seedSEED]-{baseline,scn-official}. METHODS and AVERAGE as in noise_comparison.sh.
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/.."
data=$1; out=$2; epochs=${3:-40}; seed=${4:-1}
swift build -c release --product scn >/dev/null
scn=.build/release/scn
source Benchmarks/train_and_test.sh
common=$(ferplus_common_options $epochs $seed 0)
name=fer2013-epochs$epochs$(seed_suffix $seed)
for method in ${METHODS:-baseline scn-official}; do
    run=$out/$name-$method
    options=$(comparison_method_options $method $epochs)
    train_and_test $run fer2013 $data $common $options --keep-checkpoints $((epochs * 5 / 8)) \
        $(weight_average_options $epochs)
    [ -f "$run/test.json" ] || continue
    for checkpoint in best best-trained; do
        [ -f "$run/$checkpoint.safetensors" ] || continue
        suffix=$([ $checkpoint = best ] || echo -trained)
        [ ! -f "$run/train-labels$suffix.json" ] || continue
        $scn eval --checkpoint "$run/$checkpoint.safetensors" --dataset fer2013 --data "$data" --split train --json \
            > "$run/train-labels$suffix.json.partial"
        mv "$run/train-labels$suffix.json.partial" "$run/train-labels$suffix.json"
    done
done
python3 Benchmarks/summarize_runs.py $out/$name-*
