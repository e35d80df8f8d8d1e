# Shared set-up of the HTTP benchmarks (sourced by bench/rights.sh and bench/invoices.sh).
# A server on SQLite in a temporary directory, holding the demo and ROWS generated
# beneficiaries of the demo insurer 880000011 with their cards (real datamatrix tokens), and a
# practice machine's client certificate for the mutual-TLS listener. Loopback only.
#
# After sourcing: $WORK (removed on exit, the server stopped), $BIN, $LOAD, $DATA, $PORT,
# $TLS_PORT, $TODAY, and the functions below.

WORK=$(mktemp -d /tmp/rempart-bench.XXXXXX)
SERVER_PID=""
bench_cleanup() {
    [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap bench_cleanup EXIT

cargo build --release -q -p server -p bench
TARGET=${CARGO_TARGET_DIR:-target}
# BENCH_BIN=path/to/rempart: measure that server binary (an A/B of two builds); the load
# generator is still this tree's.
BIN=${BENCH_BIN:-$TARGET/release/rempart}
LOAD=$TARGET/release/rempart-bench
DATA=$WORK/data
PORT=$((20000 + RANDOM % 20000))
TLS_PORT=$((20000 + RANDOM % 20000))
TODAY=$(date -u +%Y-%m-%d)

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

# make_data ROWS: the demo, ROWS generated beneficiaries imported into 880000011, their cards
# in $WORK/cards/cards.csv.
# BENCH_CACHE=DIR keeps that data set in DIR/data-ROWS (about 2 GB for a million rows) and
# copies it from there on the next run instead of building it again (about four minutes for a
# million rows): for repeated runs while investigating, not for recorded figures' first run.
make_data() {
    local cache=""
    [[ -n "${BENCH_CACHE:-}" ]] && cache="$BENCH_CACHE/data-$1"
    if [[ -n "$cache" && -f "$cache/done" ]]; then
        echo
        echo "## data: $1 generated beneficiaries, copied from $cache (BENCH_CACHE)"
        cp -a "$cache/data" "$DATA"
        cp -a "$cache/cards" "$WORK/cards"
        return
    fi
    build_data "$1"
    if [[ -n "$cache" ]]; then
        rm -rf "$cache" && mkdir -p "$cache"
        cp -a "$DATA" "$cache/data" && cp -a "$WORK/cards" "$cache/cards" && touch "$cache/done"
    fi
}

build_data() { # ROWS
    echo
    echo "## data: demo, then $1 generated beneficiaries into 880000011, then the cards"
    "$BIN" demo --data-dir "$DATA" --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    wait_up "http://127.0.0.1:$PORT/healthz"
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
    "$BIN" gen beneficiaries --count "$1" --seed 1 --insurer 880000011 --out "$WORK/people.csv"
    /usr/bin/time -f "import: %e s, peak RSS %M KiB" "$BIN" --data-dir "$DATA" import beneficiaries \
        --insurer 880000011 --json "$WORK/people.csv" >/dev/null
    /usr/bin/time -f "cards export: %e s, peak RSS %M KiB" "$BIN" --data-dir "$DATA" cards export \
        --insurer 880000011 --out "$WORK/cards" --no-images >/dev/null
}

# rights_bodies OUT N DOMAIN: N rights-check bodies (one per line) of distinct patients whose
# card is valid today: token, birth date and rank (one that tells them apart in the family).
rights_bodies() {
    python3 - "$WORK/cards/cards.csv" "$1" "$2" "$TODAY" "$3" <<'PY'
import csv, json, random, sys
src, out, n, today, domain = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
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
                            "domain": domain, "care_date": today}) + "\n")
print(f"bodies: {min(n, len(rows))} distinct patients (of {len(rows)} cards valid today)")
PY
}

# machine PROFESSION: `rempart ca init`, then a client certificate for the first practice of
# PROFESSION in the demo ($WORK/machine/identity.pem), and the TLS listener's settings in
# $TLS_CONFIG.
machine() {
    echo
    echo "## machine identity: rempart ca init, ca issue for a $1 practice of the demo"
    "$BIN" --data-dir "$DATA" ca init >/dev/null
    local am
    am=$(python3 - "$DATA/rempart.sqlite3" "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT am_number FROM practices WHERE profession = ? ORDER BY am_number LIMIT 1", (sys.argv[2],)).fetchone()[0])
PY
)
    "$BIN" --data-dir "$DATA" ca issue --org "$am" --name "bench $1 software" --out "$WORK/machine" >/dev/null
    cat "$WORK/machine/cert.pem" "$WORK/machine/key.pem" >"$WORK/machine/identity.pem"
    TLS_CONFIG="tls_listen = \"127.0.0.1:$TLS_PORT\"
tls_cert = \"$DATA/ca/server.pem\"
tls_key = \"$DATA/ca/server-key.pem\"
tls_client_ca = \"$DATA/ca/ca.pem\""
}

# guard_on_config FILE PROFESSION: the TLS listener, and the guard on with its rate limits and
# baselines raised so that one machine doing thousands of requests a second is not stopped
# (this measures the guard's cost, not its verdict).
guard_on_config() {
    cat >"$1" <<TOML
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

[guard.baselines.$2]
distinct_10min = 100000000
distinct_24h = 1000000000
TOML
}

# start_server CONFIG: `rempart serve` on $PORT (and the TLS listener of CONFIG).
start_server() {
    "$BIN" --data-dir "$DATA" --config "$1" serve --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    wait_up "http://127.0.0.1:$PORT/healthz"
}

stop_server() {
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
}

# sql QUERY: one value from the SQLite database.
sql() {
    python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])" "$DATA/rempart.sqlite3" "$1"
}
