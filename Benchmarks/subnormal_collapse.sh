#!/usr/bin/env bash
# Seconds per epoch with IEEE subnormal floats kept and flushed to zero (SubnormalFlushing), in the case
# that produces them: the paper's SCN recipe on the memorization-study subset (8,000 FERPlus images, 30%
# injected noise, no augmentation), whose importance weights collapse toward 1e-28 in epoch 2
# (docs/RESULTS.md, "Where the baseline memorizes"). Trains the first EPOCHS epochs of its 24-epoch schedule
# twice into OUT_DIR/subnormals-{keep,flush} and prints epoch, seconds and alpha for both side by side.
# Usage: Benchmarks/subnormal_collapse.sh DATA_ROOT OUT_DIR [EPOCHS]
set -euo pipefail
cd "$(dirname "$0")/.."
data=$1; out=$2; epochs=${3:-3}
swift build -c release --product scn >/dev/null
scn=.build/release/scn
for mode in keep flush; do
    run=$out/subnormals-$mode
    rm -rf "$run"
    SCN_SUBNORMALS=$mode $scn train --dataset ferplus --data "$data" --run "$run" --limit 8000 --noise 0.3 --epochs 24 \
        --stop-after "$epochs" --batch-size 64 --input 48 --lr 0.1 --schedule cosine --warmup 1 --augmentation none \
        --seed 1 --method scn --relabel-start 6 > "$run.log"
done
python3 - "$out/subnormals-keep/metrics.jsonl" "$out/subnormals-flush/metrics.jsonl" <<'PY'
import json, sys
keep, flush = ([json.loads(line) for line in open(path)] for path in sys.argv[1:])
print("epoch  seconds kept  seconds flushed  alpha mean kept  alpha mean flushed  val kept  val flushed")
for k, f in zip(keep, flush):
    print(f"{k['epoch']:5d}  {k['seconds']:12.1f}  {f['seconds']:15.1f}  {k['alphaMean']:15.3g}  {f['alphaMean']:18.3g}"
          f"  {100 * k['validationAccuracy']:7.2f}%  {100 * f['validationAccuracy']:10.2f}%")
PY
