#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs the local stack tools, lints the SAM
# template, starts DynamoDB Local + moto, runs every unit, integration and end-to-end test
# (the e2e tests run the real ingest-cxml binary under `cargo lambda watch`), stops the stack.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# A clean build gains nothing from incremental compilation; without it the target dir is
# about half the size (CI runs on the developer's machine, beside its other checkouts).
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

T0=$SECONDS
step() { printf '\n==> [%ds] %s\n' "$((SECONDS - T0))" "$*"; }

step "install local stack tools (idempotent)"
bash infra/install.sh

step "format (cargo fmt --check)"
cargo fmt --all -- --check
echo "cargo fmt: clean"

step "lint template.yaml (cfn-lint, template checks, sam validate --lint)"
bash infra/lint-template.sh
echo "cfn-lint + sam validate --lint: template.yaml ok"

step "start local stack"
started_here=0
if ! bash infra/stack.sh status >/dev/null 2>&1; then started_here=1; fi
bash infra/stack.sh start >/dev/null
# shellcheck disable=SC1091
. .stack/run/env
cleanup() { if [ "$started_here" = 1 ] && [ "${KEEP_STACK:-0}" != 1 ]; then bash infra/stack.sh stop >/dev/null 2>&1 || true; fi; }
trap cleanup EXIT
export PATH="$ROOT/.stack/venv/bin:$PATH"

step "clippy (warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

step "build (debug) — the function binaries alone too, as cargo lambda watch runs them"
cargo build --workspace --all-targets
cargo build -p ingest-cxml -p ingest-mail -p submit-vendor-invoice -p poll-transaction-status --bins
# exactly as `cargo lambda watch` builds it (`cargo run --bin receive-cxml` at the root)
cargo build --bin receive-cxml

step "tests"
status=0
cargo test --workspace --no-fail-fast 2>&1 | tee .stack/test.log || status=$?
# One closing line for the whole run.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "%d passed, %d failed\n", p, f }' .stack/test.log
printf '==> [%ds] done\n' "$((SECONDS - T0))"
exit "$status"
