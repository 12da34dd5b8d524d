#!/usr/bin/env bash
# Sets everything up and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build --build-tests
eval "$(.build/debug/scn env)"   # the library settings scn itself runs with
mkdir -p .build
swift test --skip-build --disable-swift-testing 2>&1 | tee .build/test.log
# One plain closing line with the counts of XCTest's last summary
# ("Executed N tests, with [S tests skipped and] F failures").
summary=$(grep -E "Executed [0-9]+ tests?, with ([0-9]+ tests? skipped and )?[0-9]+ failures?" .build/test.log | tail -1)
executed=$(echo "$summary" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')
failed=$(echo "$summary" | sed -E 's/.* ([0-9]+) failures?.*/\1/')
skipped=$(echo "$summary" | grep -oE "[0-9]+ tests? skipped" | grep -oE "^[0-9]+" || echo 0)
echo "tests: $((executed - skipped - failed)) passed, $skipped skipped, $failed failed"
