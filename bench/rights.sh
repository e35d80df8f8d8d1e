#!/usr/bin/env bash
# Rights-check benchmark (issue 5): a server on SQLite holding ROWS generated beneficiaries
# (imported into the demo insurer 880000011, cards exported to get real datamatrix tokens),
# loaded by rempart-bench as a practice machine (an optician's client certificate on the
# mutual-TLS listener) POSTing real checks (token + the patient's birth date and rank, OPTI,
# today). /healthz is measured in the same run as the baseline. Every answered check is
# ledgered (group commit); the script counts the ledger entries afterwards.
#
#   bench/rights.sh [ROWS] [BODIES]     (defaults 1000000 and 20000)
#   CONCURRENCY=32 DURATION=20 bench/rights.sh
#
# The guard is turned off for the run ([guard] enabled = false): its per-account rate limit
# (60/min) and signals would, by design, stop one machine doing 2,000 checks/s.
# Builds release binaries (in $CARGO_TARGET_DIR when set), works in a temporary directory,
# targets only 127.0.0.1. Target: >= 2,000 checks/s with p99 < 50 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
BODIES=${2:-20000}
CONCURRENCY=${CONCURRENCY:-32}
DURATION=${DURATION:-20}
WORK=$(mktemp -d /tmp/rempart-bench-rights.XXXXXX)
SERVER_PID=""
cleanup() {
    [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --release -q -p server -p bench
TARGET=${CARGO_TARGET_DIR:-target}
BIN=$TARGET/release/rempart
LOAD=$TARGET/release/rempart-bench
DATA=$WORK/data

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit:  $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates bench || echo ' (+ uncommitted changes)')"
echo "date:    $(date -u +%Y-%m-%dT%H:%MZ)"

wait_up() { # URL
    for _ in $(seq 1 1200); do
        curl -fsSk "$1" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "server did not start"; tail -20 "$WORK/server.log"; exit 1
}

echo
echo "## data: demo, then $ROWS generated beneficiaries into 880000011, then the cards"
PORT=$((20000 + RANDOM % 20000))
"$BIN" demo --data-dir "$DATA" --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_up "http://127.0.0.1:$PORT/healthz"
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
"$BIN" gen beneficiaries --count "$ROWS" --seed 1 --insurer 880000011 --out "$WORK/people.csv"
/usr/bin/time -f "import: %e s, peak RSS %M KiB" "$BIN" --data-dir "$DATA" import beneficiaries \
    --insurer 880000011 --json "$WORK/people.csv" >/dev/null
/usr/bin/time -f "cards export: %e s, peak RSS %M KiB" "$BIN" --data-dir "$DATA" cards export \
    --insurer 880000011 --out "$WORK/cards" >/dev/null
TODAY=$(date -u +%Y-%m-%d)
python3 - "$WORK/cards/cards.csv" "$WORK/bodies.jsonl" "$BODIES" "$TODAY" <<'PY'
import csv, json, random, sys
src, out, n, today = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
rows = []
with open(src, newline="") as f:
    for r in csv.DictReader(f):
        if not (r["valid_from"] <= today <= r["valid_to"]):
            continue
        dates, ranks = r["birth_dates"].split(";"), r["birth_ranks"].split(";")
        pairs = list(zip(dates, ranks))
        for d, k in pairs:
            if pairs.count((d, k)) == 1:
                rows.append((r["token"], d, int(k)))
                break
random.Random(1).shuffle(rows)
with open(out, "w") as f:
    for token, d, k in rows[:n]:
        f.write(json.dumps({"card": {"token": token}, "patient": {"birth_date": d, "birth_rank": k},
                            "domain": "OPTI", "care_date": today}) + "\n")
print(f"bodies: {min(n, len(rows))} distinct patients (of {len(rows)} cards valid today)")
PY

echo
echo "## machine identity: rempart ca init, ca issue for an optician practice of the demo"
"$BIN" --data-dir "$DATA" ca init >/dev/null
OPTICIAN_AM=$(python3 - "$DATA/rempart.sqlite3" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT am_number FROM practices WHERE profession = 'optician' ORDER BY am_number LIMIT 1").fetchone()[0])
PY
)
"$BIN" --data-dir "$DATA" ca issue --org "$OPTICIAN_AM" --name "bench optician software" --out "$WORK/machine" >/dev/null
cat "$WORK/machine/cert.pem" "$WORK/machine/key.pem" >"$WORK/machine/identity.pem"

TLS_PORT=$((20000 + RANDOM % 20000))
cat >"$WORK/rempart.toml" <<TOML
tls_listen = "127.0.0.1:$TLS_PORT"
tls_cert = "$DATA/ca/server.pem"
tls_key = "$DATA/ca/server-key.pem"
tls_client_ca = "$DATA/ca/ca.pem"

[guard]
enabled = false
TOML
ls "$DATA/ca" >"$WORK/ca.txt"

echo
echo "## load: /healthz, then rights checks (c=$CONCURRENCY, ${DURATION}s, warm-up 3 s)"
"$BIN" --data-dir "$DATA" --config "$WORK/rempart.toml" serve --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_up "http://127.0.0.1:$PORT/healthz"
BEFORE=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM ledger_entries').fetchone()[0])" "$DATA/rempart.sqlite3")
"$LOAD" --url "http://127.0.0.1:$PORT/healthz" --concurrency "$CONCURRENCY" --duration 10 --warmup 2 --label "healthz"
"$LOAD" --url "https://localhost:$TLS_PORT/api/v1/rights-checks" --body-file "$WORK/bodies.jsonl" \
    --client-cert "$WORK/machine/identity.pem" --ca "$DATA/ca/ca.pem" --expect 200 \
    --concurrency "$CONCURRENCY" --duration "$DURATION" --warmup 3 --label "rights checks" --json | tee "$WORK/rights.json"
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
python3 - "$DATA/rempart.sqlite3" "$BEFORE" "$WORK/rights.json" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
after = db.execute("SELECT COUNT(*) FROM ledger_entries").fetchone()[0]
engagements = db.execute("SELECT COUNT(*) FROM engagements").fetchone()[0]
r = json.loads(open(sys.argv[3]).read().strip().splitlines()[-1])
print(f"ledger entries written during the run (warm-up included): {after - int(sys.argv[2])}; "
      f"measured answers: {r['requests']} ok, {r['errors']} not 200; engagements stored: {engagements}")
PY
