#!/usr/bin/env bash
# Runs every fuzz target in BUILD_DIR (default build-fuzz) for FUZZ_SECONDS (default 60) each,
# with its corpus in fuzz/corpus/<target>/ when present.
set -euo pipefail
build=${1:-build-fuzz}
seconds=${FUZZ_SECONDS:-60}
cd "$(dirname "$0")/.."
status=0
for bin in "$build"/bin/fuzz_*; do
  name=$(basename "$bin")
  corpus="fuzz/corpus/${name#fuzz_}"
  work=$(mktemp -d)
  [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
  echo "== $name (${seconds}s)"
  if ! "$bin" -max_total_time="$seconds" -print_final_stats=1 "$work" 2>&1 | tail -n 12; then status=1; fi
  rm -rf "$work"
done
exit $status
