#!/usr/bin/env bash
# Rights-check benchmark (issue 5): a server on SQLite holding ROWS generated beneficiaries
# (imported into the demo insurer 880000011, cards exported to get real datamatrix tokens),
# loaded by rempart-bench as a practice machine (an optician's client certificate on the
# mutual-TLS listener) POSTing real checks (token + the patient's birth date and rank, OPTI,
# today). /healthz is measured in the same run as the baseline. Every answered check is
# ledgered (group commit) with its engagement; the script counts both afterwards.
#
#   bench/rights.sh [ROWS] [BODIES]     (defaults 1000000 and 20000)
#   CONCURRENCY=32 DURATION=20 bench/rights.sh
#   BENCH_CACHE=DIR bench/rights.sh   (keep the generated data set in DIR and copy it from
#                                      there next time: ~4 minutes saved per run)
#   BENCH_BIN=path/to/rempart bench/rights.sh   (measure that server binary)
#   PERF=1 bench/rights.sh     (also records the server with `perf record` for 10 s of the
#                               first guard-off and guard-on rounds; both flat profiles are
#                               printed at the end, to compare where the guard's cost goes)
#   CPUSTAT=1 bench/rights.sh  (also counts the server's CPU time with `perf stat` for 10 s of
#                               every round: CPU milliseconds per check, guard off and on, a
#                               steadier measure of the guard's cost than throughput on a
#                               saturated machine; and compares the CPU per check of the
#                               guard alone, rempart-guard-bench, run at the end, with the
#                               server's CPU per check with the guard off)
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
source bench/common.sh

make_data "$ROWS"
rights_bodies "$WORK/bodies.jsonl" "$BODIES" OPTI
machine optician
# Guard off: the baseline of the throughput target.
cat >"$WORK/guard-off.toml" <<TOML
$TLS_CONFIG

[guard]
enabled = false
TOML
guard_on_config "$WORK/guard-on.toml" optician

run_load() { # LABEL CONFIG
    start_server "$2"
    local before engagements
    before=$(sql "SELECT COUNT(*) FROM ledger_entries")
    engagements=$(sql "SELECT COUNT(*) FROM engagements")
    "$LOAD" --url "http://127.0.0.1:$PORT/healthz" --concurrency "$CONCURRENCY" --duration 5 --warmup 1 --label "healthz ($1)"
    if [[ -n "${CPUSTAT:-}" ]]; then
        (sleep 5; perf stat -x, -e task-clock -p "$SERVER_PID" -o "$WORK/cpu-$1.csv" -- sleep 10 >/dev/null 2>&1) &
    fi
    if [[ -n "${PERF:-}" && "$1" == *-1 ]]; then
        (sleep 5; perf record -F 999 -p "$SERVER_PID" -o "$WORK/perf-$1.data" -- sleep 10 >/dev/null 2>&1) &
    fi
    "$LOAD" --url "https://localhost:$TLS_PORT/api/v1/rights-checks" --body-file "$WORK/bodies.jsonl" \
        --client-cert "$WORK/machine/identity.pem" --ca "$DATA/ca/ca.pem" --expect 200 \
        --concurrency "$CONCURRENCY" --duration "$DURATION" --warmup 3 --label "rights checks ($1)" --json | tee "$WORK/rights-$1.json"
    stop_server
    python3 - "$DATA/rempart.sqlite3" "$before" "$WORK/rights-$1.json" "$1" "$engagements" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
after = db.execute("SELECT COUNT(*) FROM ledger_entries").fetchone()[0]
engagements = db.execute("SELECT COUNT(*) FROM engagements").fetchone()[0] - int(sys.argv[5])
r = json.loads(open(sys.argv[3]).read().strip().splitlines()[-1])
print(f"  {sys.argv[4]}: ledger entries written during the run (warm-up included): {after - int(sys.argv[2])}; "
      f"engagements: {engagements}; measured answers: {r['requests']} ok, {r['errors']} not 200")
PY
}

echo
echo "## load: /healthz then rights checks (c=$CONCURRENCY, ${DURATION}s, warm-up 3 s), guard off and on, twice each"
for round in 1 2; do
    run_load "guard-off-$round" "$WORK/guard-off.toml"
    run_load "guard-on-$round" "$WORK/guard-on.toml"
done
echo
echo "## the guard alone: rempart-guard-bench (its CPU per check, without HTTP, TLS or the database)"
"$TARGET/release/rempart-guard-bench" --concurrency "$CONCURRENCY" --patients "$BODIES" | tee "$WORK/guard-alone.json"
python3 - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
def rps(label):
    return json.loads(open(f"{w}/rights-{label}.json").read().strip().splitlines()[-1])["rps"]
off = [rps(f"guard-off-{i}") for i in (1, 2)]
on = [rps(f"guard-on-{i}") for i in (1, 2)]
print(f"guard off: {off[0]:.0f}, {off[1]:.0f} checks/s; guard on: {on[0]:.0f}, {on[1]:.0f} checks/s; "
      f"guard cost (mean of the two rounds): {100 * (1 - sum(on) / sum(off)):.1f} %")
import os
def cpu_ms_per_check(label):
    path = f"{w}/cpu-{label}.csv"
    if not os.path.exists(path):
        return None
    for line in open(path):
        parts = line.strip().split(",")
        if len(parts) > 2 and parts[2] == "task-clock":
            return float(parts[0]) / (rps(label) * 10)
    return None
cpu = {l: cpu_ms_per_check(l) for l in ("guard-off-1", "guard-on-1", "guard-off-2", "guard-on-2")}
if all(v is not None for v in cpu.values()):
    c_off = (cpu["guard-off-1"] + cpu["guard-off-2"]) / 2
    c_on = (cpu["guard-on-1"] + cpu["guard-on-2"]) / 2
    print("server CPU per check (perf stat task-clock over 10 s / checks in those 10 s): "
          + ", ".join(f"{l} {v:.3f} ms" for l, v in cpu.items())
          + f"; guard cost in CPU: {100 * (c_on / c_off - 1):.1f} %")
    alone = json.loads(open(f"{w}/guard-alone.json").read().strip().splitlines()[-1])
    print(f"the guard alone: {alone['cpu_us_per_check']:.2f} us of CPU per check = "
          f"{100 * alone['cpu_us_per_check'] / (c_off * 1000):.1f} % of the server's CPU per check with the guard off "
          f"({c_off * 1000:.0f} us)")
PY
if [[ -n "${PERF:-}" ]]; then
    wait
    for label in guard-off-1 guard-on-1; do
        echo
        echo "## perf, $label (flat, by shared object and symbol, >= 0.7 %)"
        perf report -i "$WORK/perf-$label.data" --no-children --sort dso,symbol --percent-limit 0.7 --stdio 2>/dev/null \
            | grep -v "^#" | grep -v "^$" | head -60
    done
fi
