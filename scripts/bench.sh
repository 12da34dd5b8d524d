#!/usr/bin/env bash
# Sets everything up and runs the engine benchmark (release build) at the given input size.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product scn
.build/release/scn bench --model resnet18 --input "${1:-48}" --batch 64 --json
