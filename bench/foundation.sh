#!/usr/bin/env bash
# Foundation benchmarks (issue 2): the generator's rows/s and peak memory, and the server's
# /healthz requests/s and latency — the baseline later benchmarks compare against.
#
#   bench/foundation.sh [ROWS]        (default 1000000)
#
# Builds release binaries, writes into a temporary directory, targets only 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
WORK=$(mktemp -d /tmp/rempart-bench.XXXXXX)
SERVER_PID=""
cleanup() { [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

cargo build --release -q -p server -p bench
BIN=target/release/rempart
LOAD=target/release/rempart-bench

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit:  $(git rev-parse --short HEAD)"

echo
echo "## rempart gen beneficiaries --count $ROWS"
/usr/bin/time -f "elapsed %e s, peak RSS %M KiB" "$BIN" gen beneficiaries --count "$ROWS" --seed 1 --out "$WORK/people.csv" 2>&1 | tail -n 2
ls -l "$WORK/people.csv" | awk '{printf "file size %.1f MB\n", $5/1e6}'

echo
echo "## /healthz (server on SQLite, demo data)"
PORT=$((20000 + RANDOM % 20000))
"$BIN" demo --data-dir "$WORK/data" --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 600); do
    curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
for c in 1 32; do
    "$LOAD" --url "http://127.0.0.1:$PORT/healthz" --concurrency "$c" --duration 10 --warmup 2 --label "healthz c=$c"
done
