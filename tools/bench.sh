#!/usr/bin/env bash
# Runs every benchmark program in BUILD_DIR/bin (bench_*). Each prints our figure, its anchor's and the ratio.
# The header and each benchmark's lines say when it ran, on what and under what load, so a table
# made from one run (docs/figures.md) can state its date and load average.
set -euo pipefail
build=${1:-build}
rev=$(git -C "$(dirname "$0")/.." rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "make bench: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $rev, $(nproc) cores, $(uname -m)," \
  "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
for bin in "$build"/bin/bench_*; do
  echo "== $(basename "$bin")  (start $(date -u +%H:%M:%S), load average $(cut -d' ' -f1-3 /proc/loadavg))"
  start=$(date +%s)
  "$bin"
  echo "== $(basename "$bin") took $(( $(date +%s) - start )) s (load average $(cut -d' ' -f1-3 /proc/loadavg))"
done
