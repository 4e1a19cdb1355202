#!/usr/bin/env bash
# Load benchmark of vendor invoice submission: N shipped orders (default 300) through W
# concurrent worker processes (default 2; each is `invoicectl vendor work`, the real
# submit-vendor-invoice handler fed from the SQS queue as Lambda's event source mapping
# would) against the SP-API emulator at its 10 rps / burst 10 limit. The pacing is shared
# across the processes through the GCRA item in DynamoDB.
# Reports achieved submissions/s (from the emulator's own receive timestamps), 429s received,
# and duplicates (orders POSTed more than once; must be 0).
# Usage: bash bench/vendor-load.sh [ORDERS] [WORKERS]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
ORDERS="${1:-300}"
WORKERS="${2:-2}"

bash infra/stack.sh start >/dev/null
# shellcheck disable=SC1091
. .stack/run/env
cargo build -q -p invoicectl
CTL="$ROOT/target/debug/invoicectl"
RUN_ID="load-$(date +%s)"
export TABLE_NAME="$RUN_ID" BUCKET="$RUN_ID"
eval "$("$CTL" local init --vendor-queue "$RUN_ID" | grep '^VENDOR_QUEUE_URL=' | sed 's/^/export /')"
echo "seeding $ORDERS orders ..." >&2
"$CTL" vendor seed tests/fixtures/vendor/v01-shipped-order.json --account-id ACC-LOAD --copies "$ORDERS" > "/tmp/$RUN_ID.ids"
curl -fsS -X POST "$SPAPI_ENDPOINT/_emulator/reset" >/dev/null
# shellcheck disable=SC2046
"$CTL" vendor enqueue --reason load-test $(cat "/tmp/$RUN_ID.ids") >/dev/null
echo "running $WORKERS worker processes ..." >&2
start=$(date +%s.%N)
pids=()
for _ in $(seq 1 "$WORKERS"); do
  "$CTL" vendor work --until-empty --max-seconds 300 2>>"/tmp/$RUN_ID.workers.log" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
end=$(date +%s.%N)
curl -fsS "$SPAPI_ENDPOINT/_emulator/requests" > "/tmp/$RUN_ID.requests.json"
python3 - "$ORDERS" "$WORKERS" "$start" "$end" "/tmp/$RUN_ID.requests.json" <<'PY'
import json, sys
from collections import Counter
from datetime import datetime
orders, workers, start, end, path = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
reqs = [r for r in json.load(open(path)) if r.get("path") == "/vendor/payments/v1/invoices"]
ok = [r for r in reqs if r["status"] == 202]
throttled = sum(1 for r in reqs if r["status"] == 429)
other = Counter(r["status"] for r in reqs if r["status"] not in (202, 429))
ids = Counter(i for r in ok for i in r.get("invoice_ids", []))
dups = sum(c - 1 for c in ids.values() if c > 1)
ts = sorted(datetime.fromisoformat(r["at"].replace("Z", "+00:00")).timestamp() for r in ok)
span = ts[-1] - ts[0] if len(ts) > 1 else 0.0
# Sustained rate after the initial burst: requests beyond the first 10 over the time they took.
steady = (len(ts) - 10) / (ts[-1] - ts[9]) if len(ts) > 11 and ts[-1] > ts[9] else float("nan")
print(f"orders {orders}, worker processes {workers}, wall {end - start:.1f} s")
print(f"submitted (202): {len(ok)} distinct orders {len(ids)}; 429s: {throttled}; other statuses: {dict(other) or 'none'}; duplicates: {dups}")
print(f"rate: {len(ts) / span if span else float('nan'):.2f} req/s overall (first to last 202 over {span:.1f} s), {steady:.2f} req/s sustained after the burst")
ok_all = len(ids) == orders and dups == 0 and throttled == 0 and steady >= 9.5
print("target (>= 9.5 rps sustained, zero 429s, zero duplicates, all submitted):", "met" if ok_all else "MISSED")
PY
