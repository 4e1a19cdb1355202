#!/usr/bin/env bash
# Placing N purchase orders (default 100) through two workers at Amazon Business's placeOrder
# usage plan (0.5 requests/s, burst 10, per connected account): the real place-order handler
# in two independent workers (each its own Amazon Business client, as two Lambda instances),
# pacing shared only through the GCRA item in DynamoDB Local, against the emulator enforcing
# the plan. Asserts every PO placed once and zero 429s; prints the wall time and the rate
# achieved beyond the burst. Takes about (N - 10) / 0.485 seconds: ~3 minutes for 100.
# Usage: bash bench/order-load.sh [N]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export ORDER_LOAD_N="${1:-100}"
bash infra/stack.sh start >/dev/null
cargo test -q -p integration-tests --test ordering_local order_load -- --ignored --nocapture 2>&1 | grep -E "^ORDER load|panicked|FAILED|test result"
