#!/usr/bin/env bash
# Payment-run benchmarks (issue 6), LINES accepted invoice lines over PROFESSIONALS payees:
#
# 1. the pure core: domain::payments in one process (no database, no network) — build the
#    run (one transfer per professional), write the pain.001.001.09, every remittance
#    statement, bill the insurers — with the time to generate the input as the baseline;
# 2. end to end, as an operator runs it: rempart-payment-lines writes the lines into a SQLite
#    data directory through the store's claim transaction (as invoices are written; timed,
#    the baseline of the store's speed), then `rempart payments run` (claim the lines in one
#    transaction, unseal the payees' IBANs, build, write every file, record the transfers)
#    and `rempart billing statement`, each timed with its peak RSS; a second run of the same
#    date must pay nothing.
#
#   bench/payments.sh [LINES] [PROFESSIONALS]      (default 1000000 20000)
#   STAGES="core e2e" bench/payments.sh             (both by default)
#
# Target: a payment run over 1 million lines in under a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${1:-1000000}
PROFESSIONALS=${2:-20000}
STAGES=${STAGES:-"core e2e"}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
WORK=$(mktemp -d /tmp/rempart-bench-payments.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

cargo build --release -q -p domain --example payment_run_bench
cargo build --release -q -p server -p bench

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit:  $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates bench || echo ' (+ uncommitted changes)')"
echo "date:    $(date -u +%Y-%m-%dT%H:%MZ)"

timed() { # LABEL COMMAND...: runs it under /usr/bin/time, prints wall clock and peak RSS
    local label=$1; shift
    /usr/bin/time -f "$label: %e s wall, %U s user, %S s system, peak RSS %M KiB" "$@"
}

if [[ " $STAGES " == *" core "* ]]; then
    echo
    echo "## 1. the pure core (domain::payments, in memory)"
    timed "whole process" "$TARGET_DIR/release/examples/payment_run_bench" "$LINES" "$PROFESSIONALS"
fi

if [[ " $STAGES " == *" e2e "* ]]; then
    BIN=$TARGET_DIR/release/rempart
    DATA=$WORK/data
    DAY=$(date -u +%Y-%m-%d)
    DEBTOR=(--debtor-name "REMPART SETTLEMENT" --debtor-iban FR7630001007941234567890185 --debtor-bic BDFEFRPPCCT)
    echo
    echo "## 2. end to end on SQLite: $LINES lines over $PROFESSIONALS pharmacies"
    timed "seed (claims through the store)" "$TARGET_DIR/release/rempart-payment-lines" \
        --data-dir "$DATA" --lines "$LINES" --practices "$PROFESSIONALS"
    du -sh "$DATA/rempart.sqlite3"
    timed "rempart payments run" "$BIN" --data-dir "$DATA" --log-format json payments run \
        --date "$DAY" --out "$WORK/out" "${DEBTOR[@]}" --json >"$WORK/run.json"
    python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(f\"run: {r['transfers']} transfers, {r['lines']} lines, {r['total']} EUR\")" "$WORK/run.json"
    du -sh "$WORK/out"
    timed "rempart payments run (again: nothing to pay)" "$BIN" --data-dir "$DATA" --log-format json \
        payments run --date "$DAY" --out "$WORK/out2" "${DEBTOR[@]}" --json >"$WORK/run2.json"
    python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert r['lines'] == 0, r; print('second run: 0 lines')" "$WORK/run2.json"
    timed "rempart billing statement (CSV)" "$BIN" --data-dir "$DATA" --log-format json billing statement \
        --insurer 880000011 --from "$DAY" --to "$DAY" --out "$WORK/bill.csv"
    ls -l "$WORK/bill.csv" | awk '{printf "bill: %.1f MB\n", $5/1e6}'
fi
