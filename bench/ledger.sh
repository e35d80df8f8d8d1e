#!/usr/bin/env bash
# Access-ledger benchmarks (issues 5 and 7), on SQLite in a temporary data directory:
#   1. appends through the real group-commit writer (rempart-ledger-bench: 256 recorders in
#      flight, as concurrent rights checks would be), up to COUNT entries;
#   2. `rempart ledger verify` over the whole ledger (re-encode, re-hash, rebuild the tree,
#      check every signed checkpoint);
#   3. `rempart incident scope` over the whole ledger: one account, no window (a full scan),
#      then a one-minute window (bisection, then the slice only).
#
#   bench/ledger.sh [COUNT]          (default 10000000; about 4.5 GB of disk)
#   Also times inclusion proofs in the whole tree from the leaves, the proof tiles' derivation,
#   and the same proofs from the tiles (rempart-ledger-bench --proofs 20).
#
# Targets: appends >= 20,000/s; verify of 10 million entries < 60 s; scope of 10 million
# entries < 60 s. Builds release binaries (in $CARGO_TARGET_DIR when set).
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-10000000}
WORK=$(mktemp -d /tmp/rempart-bench-ledger.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cargo build --release -q -p server -p bench
TARGET=${CARGO_TARGET_DIR:-target}
BIN=$TARGET/release/rempart
FILL=$TARGET/release/rempart-ledger-bench

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit:  $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates bench || echo ' (+ uncommitted changes)')"
echo "date:    $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "## appends: $COUNT entries"
"$FILL" --data-dir "$WORK/data" --count "$COUNT" --proofs 20
du -sh "$WORK/data/rempart.sqlite3"
echo
echo "## rempart ledger verify"
/usr/bin/time -f "verify: %e s, peak RSS %M KiB" "$BIN" --data-dir "$WORK/data" ledger verify --json | tail -3
echo
echo "## rempart incident scope: one account, the whole ledger"
/usr/bin/time -f "scope (full scan): %e s, peak RSS %M KiB" "$BIN" --data-dir "$WORK/data" incident scope \
    --account 00000000-0000-0000-0000-0000000003e8 --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print({k: d[k] for k in ("entries_read", "entries_in_scope", "people", "seconds")})'
FROM=$(python3 - "$WORK/data/rempart.sqlite3" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n = db.execute("SELECT MAX(leaf_index) FROM ledger_entries").fetchone()[0]
print(db.execute("SELECT at FROM ledger_entries WHERE leaf_index = ?", (n // 2,)).fetchone()[0])
PY
)
echo
echo "## rempart incident scope: the same account, one minute from the middle of the ledger ($FROM)"
TO=$(python3 -c "import datetime,sys; t=datetime.datetime.fromisoformat(sys.argv[1].replace('Z','+00:00')); print((t+datetime.timedelta(minutes=1)).isoformat().replace('+00:00','Z'))" "$FROM")
/usr/bin/time -f "scope (one minute): %e s, peak RSS %M KiB" "$BIN" --data-dir "$WORK/data" incident scope \
    --account 00000000-0000-0000-0000-0000000003e8 --from "$FROM" --to "$TO" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print({k: d[k] for k in ("entries_read", "entries_in_scope", "people", "seconds")})'
