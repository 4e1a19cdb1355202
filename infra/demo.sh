#!/usr/bin/env bash
# The main jobs, locally, end to end on the bundled sample data, for two companies (tenants):
# acme and globex, each with its own cXML identities and its own Amazon vendor connection.
# Buyer side (cXML ingestion):
#   start DynamoDB Local + moto S3/SQS/Secrets Manager, create the table and bucket and the two
#   companies, check the samples offline, drop them into s3://<bucket>/incoming/ (each lands
#   with the company that registered its To identity; a scan and an attack land with nobody,
#   quarantined `unknown-company`), run the real ingest-cxml binary on the S3 events (cargo
#   lambda watch + cargo lambda invoke), redeliver the same event (nothing changes), send a
#   conflicting resend and a cancellation, then print each company's invoices and quarantine.
# Vendor side (SP-API submission): each company connects its vendor account (its refresh
#   token goes to Secrets Manager), seed sample orders for both, deliver them as one SQS event
#   to the real submit-vendor-invoice binary, which submits each company's orders with that
#   company's token and rate limit to the local SP-API emulator exactly once; show Invoice /
#   Marketplace Feed / Order Errors, redeliver (nothing is sent twice), poll.
# The dashboard: the real dashboard binary under the same cargo lambda watch, signed in through
#   the stack's stand-in issuer (each company's test users); the demo ends by printing its URL
#   and a test user's sign-in, and (at a terminal) keeps it up until Enter is pressed.
# KEEP_STACK=1 leaves the stack running afterwards for a look around (infra/stack.sh stop).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "install tools and start the local stack"
bash infra/install.sh
bash infra/stack.sh start >/dev/null
# shellcheck disable=SC1091
. .stack/run/env
export PATH="$ROOT/.stack/venv/bin:$PATH"
# Amazon Business (ordering) is the same emulator locally.
export AB_ENDPOINT="$SPAPI_ENDPOINT"
RUN_ID="$(date +%s)"
export TABLE_NAME="invoice-bridge-demo-$RUN_ID" BUCKET="invoice-bridge-demo-$RUN_ID"
export COMPANY_SECRETS_PREFIX="invoice-bridge-demo-$RUN_ID/companies/"
WORK="$(mktemp -d)"
WATCH_PID=""
cleanup() {
  [ -n "$WATCH_PID" ] && { kill -INT -- "-$WATCH_PID" 2>/dev/null || true; sleep 1; kill -KILL -- "-$WATCH_PID" 2>/dev/null || true; }
  rm -rf "$WORK"
  if [ "${KEEP_STACK:-0}" != 1 ]; then bash infra/stack.sh stop >/dev/null 2>&1 || true; else echo "stack left running: . .stack/run/env; TABLE_NAME=$TABLE_NAME BUCKET=$BUCKET"; fi
}
trap cleanup EXIT

step "build invoicectl and the functions"
cargo build -q -p invoicectl -p ingest-cxml -p ingest-mail -p submit-vendor-invoice -p poll-transaction-status -p place-order --bins
# exactly as `cargo lambda watch` builds them (`cargo run --bin <name>` at the root)
cargo build -q --bin receive-cxml
cargo build -q --bin dashboard
CTL="$ROOT/target/debug/invoicectl"
# The table, the bucket and the dashboard's HMAC key (a secret in Secrets Manager, as deployed).
eval "$("$CTL" local init --dashboard-secret "invoice-bridge-demo-$RUN_ID/dashboard-key")"
export DASHBOARD_SECRET_ID

step "two companies: acme and globex, each with the cXML identities it receives invoices as"
"$CTL" company create acme --name "Acme Corp" --cxml-identity NetworkID:AN99887766554 \
  --cxml-identity NetworkID:AN12345678901 --cxml-identity NetworkID:AN02004455667 --cxml-identity BuyerNumber:NW-AP >/dev/null
"$CTL" company create globex --name "Globex Ltd" --cxml-identity DUNS:Northwind --cxml-identity NetworkID:NORTHWIND >/dev/null
echo "an identity belongs to one company: registering acme's for another company is refused:"
"$CTL" company create initech --name Initech --cxml-identity NetworkID:AN99887766554 || true
"$CTL" company list

SAMPLES=(tests/fixtures/cxml/samples/*.xml tests/fixtures/cxml/demo/d1-emailed-scan.pdf tests/fixtures/cxml/demo/d2-xxe-attack.xml)

step "offline check of what suppliers sent (invoicectl check)"
"$CTL" check "${SAMPLES[@]}" || true

step "start the function under cargo lambda watch (Lambda Runtime API on 127.0.0.1)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
# The dashboard is a function of the same watch server, reached at its function URL; the
# stack's issuer (AUTH_* from .stack/run/env) signs its people in.
export DASHBOARD_BASE_URL="http://127.0.0.1:$PORT/lambda-url/dashboard"
setsid cargo lambda watch --ignore-changes -A 127.0.0.1 -P "$PORT" --env-var "TABLE_NAME=$TABLE_NAME" --env-var "BUCKET_NAME=$BUCKET" --env-var "COMPANY_SECRETS_PREFIX=$COMPANY_SECRETS_PREFIX" >"$WORK/watch.log" 2>&1 &
WATCH_PID=$!
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.2; done
invoke() { cargo lambda invoke ingest-cxml -A 127.0.0.1 -P "$PORT" --data-file "$1"; echo; }

step "drop ${#SAMPLES[@]} documents into s3://$BUCKET/incoming/ (no company prefix: the To identity decides) and invoke with the S3 event"
"$CTL" local drop "${SAMPLES[@]}" > "$WORK/event1.json"
invoke "$WORK/event1.json" | python3 -m json.tool

step "S3 delivers the same event again: nothing is written twice"
invoke "$WORK/event1.json" | python3 -c 'import json,sys; r=json.load(sys.stdin)["records"]; print({x["outcome"] for x in r}, len(r), "records")'

step "a resend of 1QX7ZK4MPL2T with different content, and a cancellation of invoice 5120"
"$CTL" local drop tests/fixtures/cxml/demo/d3-s01-resent-with-other-shipping.xml tests/fixtures/cxml/demo/d4-s04-cancellation.xml > "$WORK/event2.json"
invoke "$WORK/event2.json" | python3 -m json.tool

step "function logs (structured JSON, one line per document)"
grep -E '^\{' "$WORK/watch.log" | grep -v AWS_LAMBDA_MAX_CONCURRENCY | cut -c1-220

for co in acme globex; do
  step "$co: booked invoices (invoicectl invoices list --company $co)"
  "$CTL" invoices list --company "$co"
  step "$co: cancelled invoices"
  "$CTL" invoices list --company "$co" --status Cancelled
  step "$co: quarantine (invoicectl quarantine list --company $co)"
  "$CTL" quarantine list --company "$co"
done
step "documents of no company (invoicectl quarantine list --company _unassigned)"
"$CTL" quarantine list --company _unassigned
step "acme's invoice with its lines and journal entries (globex cannot see it)"
"$CTL" invoices show --company globex 'NetworkID:AN01011737571#1QX7ZK4MPL2T' 2>&1 || true
"$CTL" invoices show --company acme 'NetworkID:AN01011737571#1QX7ZK4MPL2T' | python3 -c '
import json,sys
d=json.load(sys.stdin); i=d["invoice"]
print(i["invoice_id"], i["status"], i["currency"], "net", i["net"], "archived at", i["document_key"])
for l in d["lines"]: print("  line", l["line_number"], l["quantity"], "x", l["unit_price"], "=", l["subtotal"], l["category"], "|", (l["description"] or "")[:50])
for e in d["entries"]: print("  %-6s %-32s %10s %s" % (e["side"], e["account"], e["amount"]["amount"], e["kind"]))'
step "S3: archive/, quarantine/ and what is left in incoming/"
.stack/venv/bin/python - <<PY
import boto3, os
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"])
for p in ("incoming/", "archive/", "quarantine/"):
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=os.environ["BUCKET"], Prefix=p).get("Contents", [])]
    print(f"{p:12} {len(keys)} object(s)")
    for k in keys[:12]: print("   ", k)
PY

# ------------------------------------------------------------------------------------------
# The other channels: an e-mail (SES stores the raw message under mail/<company>/) and a cXML
# POST over HTTPS; both end as documents under incoming/<company>/ for the same ingestion.
s3_event() {
  python3 - "$BUCKET" "$@" <<'PY'
import json, sys, urllib.parse
bucket, keys = sys.argv[1], sys.argv[2:]
recs = [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventTime": "2026-12-01T10:00:00.000Z",
         "eventName": "ObjectCreated:Put", "userIdentity": {"principalId": "local"},
         "requestParameters": {"sourceIPAddress": "127.0.0.1"}, "responseElements": {"x-amz-request-id": "local", "x-amz-id-2": "local"},
         "s3": {"s3SchemaVersion": "1.0", "configurationId": "local",
                "bucket": {"name": bucket, "ownerIdentity": {"principalId": "local"}, "arn": "arn:aws:s3:::" + bucket},
                "object": {"key": urllib.parse.quote_plus(k, safe="/"), "size": 1, "eTag": "local", "sequencer": "%016X" % i}}}
        for i, k in enumerate(keys)]
print(json.dumps({"Records": recs}))
PY
}
s3_put() { .stack/venv/bin/python -c 'import boto3,os,sys; boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"]).upload_file(sys.argv[1], os.environ["BUCKET"], sys.argv[2])' "$1" "$2"; }
s3_keys() { .stack/venv/bin/python -c 'import boto3,os,sys; print("\n".join(o["Key"] for o in boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"]).list_objects_v2(Bucket=os.environ["BUCKET"], Prefix=sys.argv[1]).get("Contents", [])))' "$1"; }

step "e-mail: acme's invoice address and allowed senders; a supplier's mail with a cXML attachment arrives (SES → mail/acme/)"
"$CTL" company set-mail acme --address invoices@acme.example --allow northwind.example
echo "offline, what ingestion will do with it under acme's settings (invoicectl mail inspect):"
"$CTL" mail inspect --allow northwind.example tests/fixtures/mail/m01-cxml-attachment.eml || true
s3_put tests/fixtures/mail/m01-cxml-attachment.eml mail/acme/m01.eml
s3_event mail/acme/m01.eml > "$WORK/mail-event.json"
cargo lambda invoke ingest-mail -A 127.0.0.1 -P "$PORT" --data-file "$WORK/mail-event.json"; echo
mailed="$(s3_keys incoming/acme/mail/ | head -1)"
echo "the attachment is now $mailed; the usual ingestion takes it (the same invoice as the S3 drop: one invoice, whatever the channel)"
s3_event "$mailed" > "$WORK/mail-ingest.json"
cargo lambda invoke ingest-cxml -A 127.0.0.1 -P "$PORT" --data-file "$WORK/mail-ingest.json"; echo

step "HTTPS: a supplier POSTs cXML to the receive-cxml endpoint with its Sender credential"
echo 's3cr3t-do-not-store' | "$CTL" company add-sender acme --identity NetworkID:northwind-procure --secret-stdin
URL="http://127.0.0.1:$PORT/lambda-url/receive-cxml/cxml"
curl -sS -X POST "$URL" -H 'content-type: text/xml; charset=UTF-8' --data-binary @tests/fixtures/https/post-invoice.xml; echo
echo "the same payloadID again gets the same answer (nothing stored twice):"
curl -sS -X POST "$URL" -H 'content-type: text/xml' --data-binary @tests/fixtures/https/post-invoice.xml | grep -o '<Status[^>]*>'
echo "a wrong SharedSecret:"
sed 's/s3cr3t-do-not-store/wrong/; s/demo-post-1@/demo-post-2@/' tests/fixtures/https/post-invoice.xml | curl -sS -X POST "$URL" -H 'content-type: text/xml' --data-binary @- | grep -o '<Status[^>]*>'
posted="$(s3_keys incoming/acme/https/ | head -1)"
echo "stored as $posted; the usual ingestion books it:"
s3_event "$posted" > "$WORK/post-ingest.json"
cargo lambda invoke ingest-cxml -A 127.0.0.1 -P "$PORT" --data-file "$WORK/post-ingest.json"; echo
"$CTL" invoices show --company acme 'NetworkID:AN01011737571#DEMO-POST-1' | python3 -c 'import json,sys; i=json.load(sys.stdin)["invoice"]; print(i["invoice_id"], i["status"], "channel", i["source"]["channel"], "payloadID", i["source"].get("payload_id"))'

# ------------------------------------------------------------------------------------------
# Vendor side
step "vendor: each company connects its own Amazon vendor account (refresh token → Secrets Manager)"
echo 'Atzr|acme-demo-refresh-token' | "$CTL" company connect-vendor acme --refresh-token-stdin
echo 'Atzr|globex-demo-refresh-token' | "$CTL" company connect-vendor globex --refresh-token-stdin
step "vendor: seed sample orders (order, Amazon account, sellers, locations, delivery locations)"
V=tests/fixtures/vendor
"$CTL" vendor seed --company acme "$V/v01-shipped-order.json" --account-id ACC-1 --order-id 100045
"$CTL" vendor seed --company acme "$V/v02-address-from-delivery-locations.json" --account-id ACC-2 --order-id 100046
"$CTL" vendor seed --company acme "$V/v01-shipped-order.json" --account-id ACC-1 --order-id 100047
"$CTL" vendor seed --company acme "$V/v03-no-seller-for-vendor-id.json" --account-id ACC-3 --order-id 100048
"$CTL" vendor seed --company acme "$V/v04-not-eligible.json" --account-id ACC-4 --order-id 100049
"$CTL" vendor seed --company globex "$V/v01-shipped-order.json" --account-id ACC-1 --order-id 100050
"$CTL" vendor seed --company globex "$V/v02-address-from-delivery-locations.json" --account-id ACC-2 --order-id 100051
"$CTL" vendor seed --company globex "$V/v05-numeric-ids.json" --account-id ACC-5 --order-id 100045
echo "offline preview of one (invoicectl vendor preview):"
"$CTL" vendor preview "$V/v02-address-from-delivery-locations.json" | python3 -c 'import json,sys; p=json.load(sys.stdin); print(json.dumps(p["payload"]["invoices"][0]["shipToParty"], indent=1))'
echo "the emulator will refuse order 100047 at once (business-rule 400) and fail 100046 later, in Amazon's processing"
curl -fsS -X POST "$SPAPI_ENDPOINT/_emulator/reset" >/dev/null
curl -fsS -X POST "$SPAPI_ENDPOINT/_emulator/faults" -H 'content-type: application/json' \
  -d '{"invalid_invoice_ids": {"100047": [{"code": "InvalidInput", "message": "Purchase order 3DY3TK6T is already fully invoiced.", "details": ""}]},
       "reject_invoice_ids": {"100046": [{"code": "INVALID_SHIP_TO", "message": "Ship-to location AMZ-SBD1 does not match the purchase order."}]}}' >/dev/null

sqs_event() {
  python3 - "$@" <<'PY'
import json, sys
# Arguments are company:order; the order id goes as a JSON number, as ERPs send it.
pairs = [a.split(":") for a in sys.argv[1:]]
recs = [{"messageId": f"demo-{c}-{o}", "receiptHandle": f"rh-{c}-{o}", "body": json.dumps({"company": c, "order_id": int(o), "reason": "shipped"}),
         "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0", "SenderId": "demo", "ApproximateFirstReceiveTimestamp": "0"},
         "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
         "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:vendor-submit", "awsRegion": "us-east-1"} for c, o in pairs]
print(json.dumps({"Records": recs}))
PY
}
step "vendor: one SQS batch of 8 orders of both companies to the real submit-vendor-invoice binary (cargo lambda invoke)"
sqs_event acme:100045 acme:100046 acme:100047 acme:100048 acme:100049 globex:100050 globex:100051 globex:100045 > "$WORK/sqs.json"
cargo lambda invoke submit-vendor-invoice -A 127.0.0.1 -P "$PORT" --data-file "$WORK/sqs.json"; echo
step "vendor: the same batch delivered again (SQS at-least-once): nothing is sent twice"
cargo lambda invoke submit-vendor-invoice -A 127.0.0.1 -P "$PORT" --data-file "$WORK/sqs.json"; echo
curl -fsS "$SPAPI_ENDPOINT/_emulator/stats" | python3 -c '
import json,sys
s=json.load(sys.stdin)
print("emulator received submitInvoices:", s["submit"], "token requests:", s["token"])
for p, v in sorted(s.get("partners", {}).items()): print("  selling partner", p, "submitInvoices", v.get("submit"))'
show_status() {
{ "$CTL" vendor status --company acme 100045 100046 100047 100048 100049; "$CTL" vendor status --company globex 100050 100051 100045; } > "$WORK/status.jsonl"
python3 - "$WORK/status.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    i, f = d["invoice"] or {}, d["feed"] or {}
    print("{} order {}: invoice {} / sent by integration {} / feed {} {} {}".format(
        d["company"], d["order_id"], i.get("status", "-"), i.get("sent_by_integration") or "-",
        f.get("feed_type", "-"), f.get("status", ""), f.get("external_id", "")))
    if i.get("integration_error"):
        print("   integration error:", i["integration_error"])
    for e in d["order_errors"]:
        print("   order error [{}] {}: {}".format(e["source"], e["code"], e["message"]))
PY
}
step "vendor: Invoice / Marketplace Feed / Order Errors after submission (invoicectl vendor status)"
show_status
scheduled='{"version":"0","id":"demo","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2025-11-20T10:05:00Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:123456789012:rule/poll"],"detail":{}}'
step "vendor: EventBridge schedule runs the real poll-transaction-status binary (first pass: Amazon still Processing)"
cargo lambda invoke poll-transaction-status -A 127.0.0.1 -P "$PORT" --data-ascii "$scheduled"; echo
step "vendor: next scheduled pass: transactions resolved"
cargo lambda invoke poll-transaction-status -A 127.0.0.1 -P "$PORT" --data-ascii "$scheduled"; echo
step "vendor: final state — Sent/Uploaded, or Error with a readable reason"
show_status
step "vendor: function logs"
grep -E '^\{' "$WORK/watch.log" | grep -E 'submitted|skipped|rejected|cannot make|already exists|polling pass' | cut -c1-200

# ------------------------------------------------------------------------------------------
# Purchase orders through the Amazon Business Ordering API, and the e-invoices matched to them
step "Amazon Business: acme connects its account (refresh token → Secrets Manager)"
echo 'Atzr|acme-business-demo' | "$CTL" company connect-amazon-business acme --region NA --refresh-token-stdin
po_event() {
  python3 - "$1" <<'PY'
import json, sys
po = json.load(open(sys.argv[1]))
rec = {"messageId": "demo-po-" + po["po_number"], "receiptHandle": "rh-po", "body": json.dumps({"company": "acme", "po": po}),
       "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0", "SenderId": "demo", "ApproximateFirstReceiveTimestamp": "0"},
       "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
       "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:place-order", "awsRegion": "us-east-1"}
print(json.dumps({"Records": [rec]}))
PY
}
step "Amazon Business: PO-4711 (tests/fixtures/po/po-4711.json, two lines with GL distributions) to the real place-order binary, delivered twice"
po_event tests/fixtures/po/po-4711.json > "$WORK/po.json"
cargo lambda invoke place-order -A 127.0.0.1 -P "$PORT" --data-file "$WORK/po.json"; echo
cargo lambda invoke place-order -A 127.0.0.1 -P "$PORT" --data-file "$WORK/po.json"; echo
curl -fsS "$SPAPI_ENDPOINT/_emulator/stats" | python3 -c 'import json,sys; print("emulator received placeOrder:", json.load(sys.stdin).get("place_order"), "(one order for two deliveries)")'
grep -E '^\{' "$WORK/watch.log" | grep -E 'PO placed|already placed|PO refused' | cut -c1-220
einvoice() {
  curl -fsS -X POST "$SPAPI_ENDPOINT/_emulator/ordering/orders/acme-PO-4711/einvoice" -H 'content-type: application/json' \
    -d "{\"company\": \"acme\", \"invoice_id\": \"$1\", \"variant\": \"$2\"}" | python3 -c 'import json,sys; sys.stdout.write(json.load(sys.stdin)["xml"])' > "$WORK/$1.xml"
}
step "Amazon Business e-invoices the order (cXML, PO number and line numbers in it): ingested and matched to PO-4711"
einvoice ABDEMO1 exact
"$CTL" local drop --company acme --ingest "$WORK/ABDEMO1.xml"
"$CTL" invoices show --company acme 'NetworkID:AN01011737571#ABDEMO1' | python3 -c '
import json,sys
d=json.load(sys.stdin); m=d["invoice"]["matching"]
print("match:", m["status"], "against", m["po_number"], [(l["invoice_line"], l["po_line"], l["status"]) for l in m["lines"]])
print("journal (GL coding from the PO distributions):")
for e in d["entries"]: print("  ", e["side"], e["account"], e["amount"]["amount"], e["amount"]["currency"], " ".join(e.get("segments") or []))'
step "a second e-invoice of the same order, at a higher price: open exceptions a clerk can read — billed twice, price, tax (invoicectl invoices exceptions)"
einvoice ABDEMO2 higher-price
"$CTL" local drop --company acme --ingest "$WORK/ABDEMO2.xml" >/dev/null
"$CTL" invoices exceptions --company acme

# ------------------------------------------------------------------------------------------
# The daily Amazon Business import: acme's purchase invoices, with lines, PDFs and entries
step "Amazon Business import: acme turns automatic import on, from 20 days before today (at most 30 before the connection)"
"$CTL" company set-import acme --auto-import on --start-date "$(date -u -d '-20 days' +%F)" --gl-key "GL code" --cost-center-key "Cost center"
"$CTL" company set-import acme --start-date "$(date -u -d '-45 days' +%F)" 2>&1 | sed 's/^/  refused as expected: /' || true
step "Amazon Business import: 10 invoices and 2 credit memos in acme's Reconciliation feed at the emulator"
curl -fsS -X POST "$SPAPI_ENDPOINT/_emulator/business/seed" -H 'content-type: application/json' \
  -d "{\"refresh_token\": \"Atzr|acme-business-demo\", \"generate\": {\"count\": 10, \"from\": \"$(date -u -d '-15 days' +%F)\", \"days\": 10, \"lines\": 2, \"prefix\": \"ABIMP-\", \"credit_memo_every\": 5}}"; echo
step "Amazon Business import: one daily pass (invoicectl import run --company acme), PDFs fetched at the document rate"
IMPORT_POLL_BASE_SECONDS=1 "$CTL" import run --company acme --max-seconds 120
step "the next day's pass: nothing is imported twice"
IMPORT_POLL_BASE_SECONDS=1 "$CTL" import run --company acme --max-seconds 60 | python3 -c 'import json,sys; r=json.load(sys.stdin); print({k: r[k] for k in ("transactions","invoices_new","invoices_completed","flagged","watermark")})'
step "acme's imported invoice ABIMP-0000001: supplier Amazon Business, category Purchases, To process, lines, PDF, balanced entries"
"$CTL" invoices show --company acme 'NetworkID:AN01011737571#ABIMP-0000001' | python3 -c '
import json,sys
d=json.load(sys.stdin); i=d["invoice"]; p=i["purchase"]
print(i["supplier_name"], "|", p["category"], "|", p["review"], "|", i["invoice_id"], i["invoice_date"], i["net"], i["currency"], "| due", p.get("due_date"), p.get("payment_status"))
print("PDF:", i["documents"] or "pending")
for l in d["lines"]: print("  line", l["line_number"], l.get("supplier_part_id"), (l.get("description") or "")[:40], l.get("quantity"), l.get("unit_price"))
for e in d["entries"]: print("  ", e["side"], e["account"], e["amount"]["amount"], e["amount"]["currency"])'
step "where acme's import stands (invoicectl import status --company acme)"
"$CTL" import status --company acme | python3 -c 'import json,sys; d=json.load(sys.stdin); c=d["cursor"]; print("watermark:", c.get("watermark"), "| run in progress:", bool(c.get("run")), "| open PDF tasks:", d["pdf_tasks_open"], "| issues:", d["issues_total"]); print("last pass:", (d["status"].get("last_report") or {}).get("end"))'

# ------------------------------------------------------------------------------------------
# The dashboard
step "dashboard: the real dashboard binary under cargo lambda watch; alice (acme, approver) signs in through the stack's issuer"
DASH="$DASHBOARD_BASE_URL"
ALICE="$(python3 infra/dashboard_signin.py "$DASH" alice alice-password)"
GINA="$(python3 infra/dashboard_signin.py "$DASH" gina gina-password)"
api() { curl -fsS -H "Authorization: Bearer $1" "$DASH$2"; }
for who in ALICE GINA; do
  api "${!who}" "/api/invoices?size=100" | python3 -c '
import json,sys
d=json.load(sys.stdin); inv=d["invoices"]
print(sys.argv[1], "sees", len(inv), "invoices on the first page:", ", ".join(sorted({i["invoice_number"] for i in inv}))[:160])' "$who"
done
ONE="$(api "$GINA" "/api/invoices?size=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["invoices"][0]["links"]["self"])')"
echo "alice asks for globex's invoice ($ONE): HTTP $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ALICE" "http://127.0.0.1:$PORT$ONE") (as if it did not exist)"
echo "acme's totals: $(api "$ALICE" /api/invoices/totals | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["count"], "invoices,", {c: v["net"] for c, v in d["per_currency"].items()})')"

printf '\n\033[1mThe dashboard: %s/invoices\033[0m\n' "$DASH"
echo "  sign in as alice / alice-password (acme, approver), victor / victor-password (acme, viewer),"
echo "  or gina / gina-password (globex, approver) — the stack's issuer lists its test users on its sign-in page."
if [ -t 0 ] && [ -t 1 ]; then
  read -r -p "  It stays up until you press Enter. " _ || true
fi
