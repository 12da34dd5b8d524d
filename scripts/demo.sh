#!/usr/bin/env bash
# Sets everything up, builds the release tool and runs the demo: the baseline and SCN trained on drawn
# faces with 30% wrong labels, compared, with an HTML report in demo-run/report.html.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product scn
.build/release/scn demo --output demo-run "$@"
