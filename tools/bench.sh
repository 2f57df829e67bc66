#!/usr/bin/env bash
# Runs every benchmark program in BUILD_DIR/bin (bench_*). Each prints our figure, its anchor's and the ratio.
set -euo pipefail
build=${1:-build}
for bin in "$build"/bin/bench_*; do
  echo "== $(basename "$bin")"
  "$bin"
done
