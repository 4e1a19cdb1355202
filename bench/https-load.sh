#!/usr/bin/env bash
# Load benchmark of the HTTPS channel: N concurrent POSTs (default 200) of valid cXML
# invoices with distinct invoice numbers through the real receive-cxml binary under
# `cargo lambda watch` (S watch servers, default 4, each with C function instances, default
# 4; requests spread round robin), against DynamoDB Local and moto S3;
# then the real ingest handler on every object written. Asserts N x 200 OK, N objects under
# incoming/acme/https/, N invoices booked (no duplicates), and prints wall time and p50 / p99
# / max latency per POST (client side: request sent -> Response read).
# The binaries are debug builds (argon2 and blake2 are compiled optimised even there, see
# Cargo.toml), so the numbers are an upper bound of what Lambda does per request.
# All N are launched at once and stay in flight together (IN_FLIGHT, default N). One
# `cargo lambda watch` stops dispatching when ~100 or more requests arrive at once (60 fine,
# 120 hang from the start) -- a limit of the local emulator, not of Lambda -- so the load is
# spread over several servers, as Lambda spreads it over many sandboxes: keep N / S below ~60.
# Usage: bash bench/https-load.sh [N] [SERVERS] [INSTANCES] [IN_FLIGHT]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export HTTPS_LOAD_N="${1:-200}"
export HTTPS_LOAD_SERVERS="${2:-4}"
export HTTPS_LOAD_CONCURRENCY="${3:-4}"
export HTTPS_LOAD_IN_FLIGHT="${4:-$HTTPS_LOAD_N}"
bash infra/stack.sh start >/dev/null
cargo build -q --bin receive-cxml
cargo test -q -p integration-tests --test https_lambda https_load -- --ignored --nocapture 2>&1 | grep -E "^HTTPS load|panicked|FAILED|test result"
