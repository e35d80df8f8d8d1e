#!/usr/bin/env bash
# Adjudication engine benchmark (issue 6): the engine alone, on one core, over a realistic
# mix of claims under the demo contracts ESSENTIEL and CONFORT (docs/benchmarks.md,
# "Adjudication engine"). Target: at least 200,000 lines/s.
#
#   bench/adjudication.sh [SECONDS]     (default 10)
#
# Release build (cargo's bench profile); the measuring loop runs on one thread, pinned to
# CPU 0 with taskset when it is available. No network, no files written.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-10}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit:  $(git rev-parse --short HEAD)"
PIN=()
command -v taskset >/dev/null 2>&1 && PIN=(taskset -c 0)
cargo bench -q -p domain --bench adjudication --no-run
BIN=$(cargo bench -q -p domain --bench adjudication --no-run --message-format=json 2>/dev/null \
    | sed -n 's/.*"executable":"\([^"]*adjudication[^"]*\)".*/\1/p' | tail -n 1)
"${PIN[@]}" "$BIN" --seconds "$SECONDS_TO_RUN"
