#!/usr/bin/env bash
# Invoice benchmark (issue 6): a server on SQLite holding ROWS generated beneficiaries (the
# demo insurer 880000011, as bench/rights.sh), loaded by rempart-bench as a pharmacy's
# software (a client certificate on the mutual-TLS listener) POSTing real invoices
# (`POST /api/v1/invoices`, each with its own Idempotency-Key): PATIENTS rights checks (PHAR,
# today) first give as many engagement numbers, then each engagement is invoiced VARIANTS
# times with different amounts (no two invoices alike: none is a duplicate). Every invoice is
# adjudicated under the patient's contract, its counters and lines written in one
# transaction, and ledgered before the answer leaves. /healthz is measured in the same run as
# the baseline; the guard is on (limits raised, as in bench/rights.sh).
#
#   bench/invoices.sh [ROWS] [PATIENTS] [VARIANTS]     (defaults 1000000 5000 10)
#   CONCURRENCY=32 DURATION=20 bench/invoices.sh
#   PERF=1 bench/invoices.sh     (also records the server with `perf record -g` for 10 s of
#                                 the measured load; the report is printed at the end)
#
# Target: at least 1,000 invoices/s on SQLite with 1 million beneficiaries.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
PATIENTS=${2:-5000}
VARIANTS=${3:-10}
CONCURRENCY=${CONCURRENCY:-32}
DURATION=${DURATION:-20}
source bench/common.sh

make_data "$ROWS"
rights_bodies "$WORK/rights.jsonl" "$PATIENTS" PHAR
machine pharmacist
guard_on_config "$WORK/server.toml" pharmacist
start_server "$WORK/server.toml"

echo
echo "## engagements: $PATIENTS rights checks, then $VARIANTS invoices per engagement"
python3 - "$WORK" "$TLS_PORT" "$DATA/ca/ca.pem" "$VARIANTS" "$TODAY" <<'PY'
import http.client, json, ssl, sys
work, port, ca, variants, today = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
ctx = ssl.create_default_context(cafile=ca)
ctx.load_cert_chain(f"{work}/machine/identity.pem")
conn = http.client.HTTPSConnection("localhost", port, context=ctx)
engagements = []
for line in open(f"{work}/rights.jsonl"):
    conn.request("POST", "/api/v1/rights-checks", body=line, headers={"content-type": "application/json"})
    r = conn.getresponse()
    body = r.read()
    if r.status == 200:
        a = json.loads(body)
        if a.get("covered") and a.get("engagement"):
            engagements.append(a["engagement"])
with open(f"{work}/invoices.jsonl", "w") as f:
    # Variant-major order: consecutive requests are for different patients.
    for v in range(variants):
        for e in engagements:
            price = 1000 + 37 * v
            f.write(json.dumps({"engagement": e, "care_date": today, "lines": [
                {"kind": "other", "price_cents": price, "br_cents": price, "amo_cents": 650}]}) + "\n")
print(f"engagements: {len(engagements)}; invoice bodies: {len(engagements) * variants}")
PY

"$LOAD" --url "http://127.0.0.1:$PORT/healthz" --concurrency "$CONCURRENCY" --duration 5 --warmup 1 --label "healthz"
BEFORE=$(sql "SELECT COUNT(*) FROM invoices")
if [[ -n "${PERF:-}" ]]; then
    (sleep 5; perf record -F 499 -g -p "$SERVER_PID" -o "$WORK/perf.data" -- sleep 10 >/dev/null 2>&1) &
fi
"$LOAD" --url "https://localhost:$TLS_PORT/api/v1/invoices" --body-file "$WORK/invoices.jsonl" \
    --client-cert "$WORK/machine/identity.pem" --ca "$DATA/ca/ca.pem" --expect 201 \
    --idempotency-prefix "bench-$(date +%s)" \
    --concurrency "$CONCURRENCY" --duration "$DURATION" --warmup 3 --label "invoices"
stop_server
if [[ -n "${PERF:-}" ]]; then
    wait
    perf report -i "$WORK/perf.data" --no-children --percent-limit 1.5 --stdio 2>/dev/null | grep -v "^$" | head -120
fi
BODIES=$(wc -l <"$WORK/invoices.jsonl")
python3 - "$DATA/rempart.sqlite3" "$BEFORE" "$BODIES" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT status, COUNT(*) FROM invoices GROUP BY status").fetchall()
total = sum(n for _, n in rows)
print(f"invoices written during the run (warm-up included): {total - int(sys.argv[2])} "
      f"({', '.join(f'{s} {n}' for s, n in rows)}); bodies available: {sys.argv[3]}")
if total - int(sys.argv[2]) > int(sys.argv[3]):
    print("WARNING: the bodies wrapped around: later invoices were duplicates (rejected, cheaper)")
PY
