#!/usr/bin/env bash
# Payment-run benchmark (issue 6): domain::payments over LINES accepted invoice lines spread
# over PROFESSIONALS payees — build the run (one transfer per professional), write the
# pain.001.001.09, write every remittance statement, bill the insurers — with the time to
# generate the input in the same process as the baseline, and peak RSS.
#
#   bench/payments.sh [LINES] [PROFESSIONALS]      (default 1000000 20000)
#
# Pure computation in one process (no database, no network); the app layer's reads and
# writes of the store are not included. Target: a run over 1 million lines in under a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${1:-1000000}
PROFESSIONALS=${2:-20000}
TARGET_DIR=${CARGO_TARGET_DIR:-target}

cargo build --release -q -p domain --example payment_run_bench
BIN="$TARGET_DIR/release/examples/payment_run_bench"

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit:  $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates/domain || echo ' (+ uncommitted changes in crates/domain)')"
echo "date:    $(date -u +%Y-%m-%dT%H:%MZ)"
echo
TIME_OUT=$(mktemp /tmp/rempart-bench-payments.XXXXXX)
trap 'rm -f "$TIME_OUT"' EXIT
/usr/bin/time -v "$BIN" "$LINES" "$PROFESSIONALS" 2>"$TIME_OUT"
awk -F': ' '/Maximum resident set size/ {printf "peak RSS %.0f MiB\n", $2/1024}
            /Elapsed \(wall clock\)/ {print "process wall clock " $2}' "$TIME_OUT"
