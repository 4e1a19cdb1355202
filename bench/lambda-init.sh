#!/usr/bin/env bash
# Each Lambda function's cold-start init time and its deployable arm64 zip size.
#
#   bash bench/lambda-init.sh [RUNS]        (default 15 runs per function)
#   SKIP_ZIP=1 bash bench/lambda-init.sh    (init times only)
#
# Init time = process start → the function's first poll of the Lambda Runtime API
# (`GET /2018-06-01/runtime/invocation/next`): everything the binary does before it can take
# an event (configuration, SDK clients, TLS setup). Measured on the release build for this
# machine (x86_64; the arm64 build is the same code) against a local stub of the Runtime API
# that records the poll and never answers; then the process is killed. Median / min / max of
# RUNS. No network is used: AWS endpoints point at a closed loopback port (nothing is called
# during init).
#
# Zip size = `cargo lambda build --release --arm64 --output-format zip` (release profile: LTO,
# codegen-units 1, strip), the artifact `sam deploy` uploads. Needs the aarch64 Rust target
# (added here with rustup if missing) and cargo-lambda + zig (`bash infra/install.sh`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUNS="${1:-15}"
PROFILE="${PROFILE:-release}"   # PROFILE=debug to try the script quickly
export PATH="$ROOT/.stack/venv/bin:$PATH"

# Functions: every functions/*/Cargo.toml (its package name is its binary name).
mapfile -t FUNCTIONS < <(for f in functions/*/Cargo.toml; do sed -n 's/^name = "\(.*\)"/\1/p' "$f" | head -1; done)

# The minimum environment each function needs to reach its first poll (one place).
fn_env() {
  case "$1" in
    ingest-cxml) echo "TABLE_NAME=bench" ;;
    submit-vendor-invoice | poll-transaction-status)
      echo "TABLE_NAME=bench LWA_CLIENT_ID=bench-client LWA_CLIENT_SECRET=bench-secret SPAPI_ENDPOINT=http://127.0.0.1:9 LWA_ENDPOINT=http://127.0.0.1:9/auth/o2/token" ;;
    *) echo "TABLE_NAME=bench" ;;
  esac
}

echo "building $PROFILE binaries: ${FUNCTIONS[*]}" >&2
args=()
for f in "${FUNCTIONS[@]}"; do args+=(-p "$f"); done
if [ "$PROFILE" = release ]; then cargo build -q --release "${args[@]}" --bins; else cargo build -q "${args[@]}" --bins; fi

printf '%-26s %10s %10s %10s %14s\n' function "init p50" min max "arm64 zip"
for f in "${FUNCTIONS[@]}"; do
  # shellcheck disable=SC2046
  init="$(env -i PATH="$PATH" HOME="$HOME" $(fn_env "$f") python3 - "$ROOT/target/$PROFILE/$f" "$RUNS" <<'PY'
import http.server, os, socket, statistics, subprocess, sys, threading, time
binary, runs = sys.argv[1], int(sys.argv[2])
first = {}
class Stub(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.endswith("/runtime/invocation/next") and "t" not in first:
            first["t"] = time.perf_counter()
            first["ev"].set()
        time.sleep(5)  # never answers in time: the function just waits for its event
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stub)
srv.daemon_threads = True
threading.Thread(target=srv.serve_forever, daemon=True).start()
env = dict(os.environ)
env.update({
    "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{srv.server_address[1]}",
    "AWS_LAMBDA_FUNCTION_NAME": "bench", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512", "AWS_LAMBDA_LOG_GROUP_NAME": "bench", "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
    "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_EC2_METADATA_DISABLED": "true", "RUST_LOG": "error",
})
times = []
for i in range(runs + 1):
    first.clear(); first["ev"] = threading.Event()
    t0 = time.perf_counter()
    p = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ok = first["ev"].wait(10)
    p.kill(); _, err = p.communicate()
    if not ok:
        sys.exit(f"no Runtime API poll within 10 s: {err.decode(errors='replace')[-500:]}")
    if i > 0:  # the first run warms the page cache
        times.append((first["t"] - t0) * 1000)
print(f"{statistics.median(times):.1f} {min(times):.1f} {max(times):.1f}")
PY
)"
  read -r p50 lo hi <<<"$init"
  zip="-"
  if [ "${SKIP_ZIP:-0}" != 1 ]; then
    rustup target list --installed | grep -q aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu >&2
    cargo lambda build -q --release --arm64 --output-format zip -p "$f" >&2
    zip="$(stat -c %s "target/lambda/$f/bootstrap.zip")"
  fi
  printf '%-26s %8s ms %7s ms %7s ms %14s\n' "$f" "$p50" "$lo" "$hi" "$zip"
done
