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
# The load runs four times, alternating the guard off ([guard] enabled = false) and on (every
# check consulted, with its rate limits and baselines raised so that one machine doing
# thousands of checks a second is not stopped, as it would be by design): the difference is
# the guard's cost (issue 7: under 5 %).
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
    --insurer 880000011 --out "$WORK/cards" --no-images >/dev/null
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
TLS_CONFIG="tls_listen = \"127.0.0.1:$TLS_PORT\"
tls_cert = \"$DATA/ca/server.pem\"
tls_key = \"$DATA/ca/server-key.pem\"
tls_client_ca = \"$DATA/ca/ca.pem\""
# Guard off: the baseline of the throughput target.
cat >"$WORK/guard-off.toml" <<TOML
$TLS_CONFIG

[guard]
enabled = false
TOML
# Guard on, every check consulted (switches, suspensions, rate limits, signals), with limits
# and baselines raised so that one machine doing thousands of checks a second is not stopped:
# this measures the guard's cost, not its verdict.
cat >"$WORK/guard-on.toml" <<TOML
$TLS_CONFIG

[guard]
enabled = true
account_per_minute = 100000000
account_burst = 1000000
organisation_per_minute = 100000000
organisation_burst = 1000000

[guard.default_baseline]
distinct_10min = 100000000
distinct_24h = 1000000000

[guard.baselines.optician]
distinct_10min = 100000000
distinct_24h = 1000000000
TOML

ledger_count() {
    python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM ledger_entries').fetchone()[0])" "$DATA/rempart.sqlite3"
}

run_load() { # LABEL CONFIG
    "$BIN" --data-dir "$DATA" --config "$2" serve --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    wait_up "http://127.0.0.1:$PORT/healthz"
    local before
    before=$(ledger_count)
    "$LOAD" --url "http://127.0.0.1:$PORT/healthz" --concurrency "$CONCURRENCY" --duration 5 --warmup 1 --label "healthz ($1)"
    "$LOAD" --url "https://localhost:$TLS_PORT/api/v1/rights-checks" --body-file "$WORK/bodies.jsonl" \
        --client-cert "$WORK/machine/identity.pem" --ca "$DATA/ca/ca.pem" --expect 200 \
        --concurrency "$CONCURRENCY" --duration "$DURATION" --warmup 3 --label "rights checks ($1)" --json | tee "$WORK/rights-$1.json"
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
    python3 - "$DATA/rempart.sqlite3" "$before" "$WORK/rights-$1.json" "$1" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
after = db.execute("SELECT COUNT(*) FROM ledger_entries").fetchone()[0]
r = json.loads(open(sys.argv[3]).read().strip().splitlines()[-1])
print(f"  {sys.argv[4]}: ledger entries written during the run (warm-up included): {after - int(sys.argv[2])}; "
      f"measured answers: {r['requests']} ok, {r['errors']} not 200")
PY
}

echo
echo "## load: /healthz then rights checks (c=$CONCURRENCY, ${DURATION}s, warm-up 3 s), guard off and on, twice each"
for round in 1 2; do
    run_load "guard-off-$round" "$WORK/guard-off.toml"
    run_load "guard-on-$round" "$WORK/guard-on.toml"
done
python3 - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
def rps(label):
    return json.loads(open(f"{w}/rights-{label}.json").read().strip().splitlines()[-1])["rps"]
off = [rps(f"guard-off-{i}") for i in (1, 2)]
on = [rps(f"guard-on-{i}") for i in (1, 2)]
print(f"guard off: {off[0]:.0f}, {off[1]:.0f} checks/s; guard on: {on[0]:.0f}, {on[1]:.0f} checks/s; "
      f"guard cost (mean of the two rounds): {100 * (1 - sum(on) / sum(off)):.1f} %")
PY
