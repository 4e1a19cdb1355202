#!/usr/bin/env bash
# The daily Amazon Business import of one company with N invoices (default 5,000; plus one
# credit memo per 50) in its window: one pass of the real import (ImportRunner, as the
# import-company function runs it) against DynamoDB Local, moto S3 and the emulator enforcing
# the Reconciliation API's usage plans (2 requests/s, burst 10, per operation and account),
# with getTransactions pages of PAGE transactions (default 100). Asserts every invoice stored
# once and zero 429s; prints the wall time, the requests per operation and the peak memory.
# The PDFs are not part of it: they follow at the document API's pace (about one a minute).
# Usage: bash bench/import-load.sh [N] [PAGE]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export IMPORT_LOAD_N="${1:-5000}" IMPORT_LOAD_PAGE="${2:-100}"
bash infra/stack.sh start >/dev/null
cargo test -q -p integration-tests --test import_local import_load -- --ignored --nocapture 2>&1 | grep -E "^IMPORT load|panicked|FAILED|test result"
