#!/usr/bin/env bash
# Beneficiary import benchmark (issue 3): `rempart import beneficiaries` of ROWS generated rows
# into the demo insurer 880000011, sealing, blind index and card issuance included — rows/s
# and peak RSS, on SQLite (a demo data directory) and on PostgreSQL (a fresh database on
# 127.0.0.1:5432, created and dropped here; skipped when psql cannot reach it).
#
#   bench/import.sh [ROWS]            (default 1000000)
#   PGURL_BASE=postgres://user:pass@127.0.0.1:5432 bench/import.sh   (default postgres://postgres@…)
#   SKIP_SQLITE=1 / SKIP_PG=1 / SKIP_REIMPORT=1 / SKIP_KEYS=1 bench/import.sh   (leave a part out)
#   BENCH_BIN=path/to/rempart bench/import.sh   (measure that binary; no build)
#
# Per backend: the import (rows/s, peak RSS, CPU), the database size, the same file imported
# again (every row unsealed and compared: all unchanged), then `rempart keys rotate` (re-wraps
# the data keys) and `rempart keys reseal` (re-encrypts every row) over the imported rows.
# Builds release binaries (in $CARGO_TARGET_DIR when set), writes into a temporary directory,
# targets only 127.0.0.1. Targets: >= 50,000 rows/s into SQLite; peak RSS < 300 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
PGURL_BASE=${PGURL_BASE:-postgres://postgres@127.0.0.1:5432}
PGDB="rempart_bench_$$"
WORK=$(mktemp -d /tmp/rempart-bench-import.XXXXXX)
SERVER_PID=""
PG_CREATED=""
cleanup() {
    [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null
    wait 2>/dev/null || true
    [[ -n "$PG_CREATED" ]] && psql -q "$PGURL_BASE/postgres" -c "DROP DATABASE IF EXISTS $PGDB" >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT

if [[ -n "${BENCH_BIN:-}" ]]; then
    BIN=$BENCH_BIN
else
    cargo build --release -q -p server
    BIN=${CARGO_TARGET_DIR:-target}/release/rempart
fi

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit:  $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates || echo ' (+ uncommitted changes in crates/)')"
echo "date:    $(date -u +%Y-%m-%dT%H:%MZ)"

echo
echo "## rempart gen beneficiaries --count $ROWS --insurer 880000011"
"$BIN" gen beneficiaries --count "$ROWS" --seed 1 --insurer 880000011 --out "$WORK/people.csv"
ls -l "$WORK/people.csv" | awk '{printf "file size %.1f MB\n", $5/1e6}'

# The demo insurer and its contracts: `rempart demo` seeds them, then is stopped.
seed_demo() { # DIR [--database-url URL]
    local dir=$1
    shift
    local port=$((20000 + RANDOM % 20000))
    "$BIN" demo --data-dir "$dir" --listen "127.0.0.1:$port" "$@" >"$WORK/demo.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 600); do
        curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
        sleep 0.1
    done
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

# LABEL COMMAND…: runs COMMAND (prefixed with /usr/bin/time -v here), its JSON summary on
# stdout; prints what it did, the elapsed time, rows/s, peak RSS and CPU.
timed() {
    local label=$1
    shift
    if ! /usr/bin/time -v "$@" >"$WORK/out.json" 2>"$WORK/time.txt"; then
        echo "$label: failed"
        tail -5 "$WORK/time.txt"
        return 1
    fi
    python3 - "$label" "$WORK/out.json" "$WORK/time.txt" <<'EOF'
import json, re, sys
label, out, t = sys.argv[1], sys.argv[2], open(sys.argv[3]).read()
wall = re.search(r"Elapsed \(wall clock\) time.*: (.*)", t).group(1)
parts = [float(p) for p in wall.split(":")]
secs = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
user = float(re.search(r"User time \(seconds\): ([\d.]+)", t).group(1))
system = float(re.search(r"System time \(seconds\): ([\d.]+)", t).group(1))
try:
    r = json.load(open(out))
except Exception:
    r = {}
rows = 0
if "read" in r:
    print(f"{label}: read {r['read']}, inserted {r['inserted']}, updated {r['updated']}, "
          f"unchanged {r['unchanged']}, rejected {r['rejected']}")
    rows = r["read"]
elif "scanned" in r:
    print(f"{label}: scanned {r['scanned']}, re-sealed {r['resealed']}")
    rows = r["scanned"]
elif r:
    print(f"{label}: {json.dumps(r)}")
print(f"{label}: elapsed {secs:.1f} s" + (f", {rows / secs:,.0f} rows/s" if rows else "")
      + f", peak RSS {rss / 1024:.0f} MiB, CPU user {user:.1f} s + system {system:.1f} s")
EOF
}

run_backend() { # LABEL DIR [--database-url URL]
    local label=$1 dir=$2
    shift 2
    echo
    echo "## $label: rempart import beneficiaries --insurer 880000011 ($ROWS rows)"
    echo "load at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
    timed "import" "$BIN" --data-dir "$dir" "$@" import beneficiaries --insurer 880000011 \
        --json "$WORK/people.csv"
    if [[ -f "$dir/rempart.sqlite3" ]]; then
        du -cb "$dir"/rempart.sqlite3* | awk 'END {printf "database file (+ WAL): %.0f MB\n", $1/1e6}'
    fi
    if [[ -z "${SKIP_REIMPORT:-}" ]]; then
        timed "re-import (no-op)" "$BIN" --data-dir "$dir" "$@" import beneficiaries \
            --insurer 880000011 --json "$WORK/people.csv"
    fi
    if [[ -z "${SKIP_KEYS:-}" ]]; then
        timed "keys rotate" "$BIN" --data-dir "$dir" "$@" keys rotate --json
        timed "keys reseal" "$BIN" --data-dir "$dir" "$@" keys reseal --json
    fi
}

if [[ -z "${SKIP_SQLITE:-}" ]]; then
    seed_demo "$WORK/sqlite"
    run_backend "SQLite" "$WORK/sqlite"
fi

if [[ -n "${SKIP_PG:-}" ]]; then
    echo
    echo "## PostgreSQL: skipped (SKIP_PG)"
elif psql -q "$PGURL_BASE/postgres" -c "CREATE DATABASE $PGDB" >/dev/null 2>&1; then
    PG_CREATED=1
    seed_demo "$WORK/pg" --database-url "$PGURL_BASE/$PGDB"
    run_backend "PostgreSQL" "$WORK/pg" --database-url "$PGURL_BASE/$PGDB"
else
    echo
    echo "## PostgreSQL: skipped ($PGURL_BASE unreachable)"
fi
