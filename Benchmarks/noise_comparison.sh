#!/usr/bin/env bash
# Baseline against SCN (this project's variant, official loss form) on FERPlus with injected label noise,
# as in docs/RESULTS.md section 1. Resumable: run it again after an interruption and each run continues
# from its last checkpoint. About 90 s per epoch per run on 2 cores at 48x48. Each run also keeps its checkpoint
# after 5/8 of the epochs (epoch-N.safetensors), from which relabel_rules.sh and averaged_baseline.sh fork.
# Usage: [AVERAGE=DECAY] [METHODS=...] Benchmarks/noise_comparison.sh DATA_ROOT OUT_DIR NOISE [EPOCHS] [SEED]
#   NOISE: 0 (clean labels) or a rate such as 0.3. Runs: OUT_DIR/ferplusEPOCHS-noiseNOISE-{baseline,scn-official},
#   with -seedSEED before the method when SEED is not 1.
#   AVERAGE=0.999: both runs also keep a weight average from that same epoch (`--weight-average 0.999
#   --weight-average-start EPOCHS*5/8`), which does not change their training: each run then gives its plain
#   figures (best-trained.safetensors, test-trained.json) and the average's (best.safetensors, test.json).
#   METHODS: the runs to train, "baseline scn-official" by default; METHODS=scn-official trains SCN alone
#   where the baseline exists already (as averaged_baseline.sh's run, which trains the same weights). The
#   summary lists every baseline run of that name beside SCN (-baseline and -baseline-averageDECAY).
#   METHODS=scn-official-marginM trains the same SCN variant with the rank loss's margin M (`--margin M`; the
#   official code's 0.07, against the paper's 0.15 by default); METHODS=scn-official-group-by-loss the same
#   variant with its groups chosen by the loss (`--group-by loss`).
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/.."
data=$1; out=$2; noise=$3; epochs=${4:-8}; seed=${5:-1}
swift build -c release --product scn >/dev/null
scn=.build/release/scn
source Benchmarks/train_and_test.sh
common=$(ferplus_common_options $epochs $seed $noise)
name=ferplus$epochs-noise$noise$(seed_suffix $seed)
for method in ${METHODS:-baseline scn-official}; do
    run=$out/$name-$method
    options=$(comparison_method_options $method $epochs)
    train_and_test $run ferplus $data $common $options --keep-checkpoints $((epochs * 5 / 8)) \
        $(weight_average_options $epochs)
done
python3 Benchmarks/summarize_runs.py $out/$name-baseline* $out/$name-scn-officia[l] $out/$name-scn-official-margin* $out/$name-scn-official-group-by-*
