#!/usr/bin/env bash
# Cold-start cost of every Lambda function of the repository:
#   (a) init time: process start -> first poll of the Lambda Runtime API
#       (GET /2018-06-01/runtime/invocation/next), release build for this machine, median /
#       min / max of RUNS starts. Each start runs the binary with AWS_LAMBDA_RUNTIME_API
#       pointing at a local stub (python3) that notes when the first poll arrives, never
#       answers it, and kills the process;
#   (b) deployment size: the arm64 zip `cargo lambda build --release --arm64 --output-format zip`
#       makes (what SAM deploys).
# The functions are found from functions/*/Cargo.toml (package and binary names read from the
# manifest), so a new function is measured without editing this script; what each one needs in
# its environment to reach its first poll is in function_env() below, the one place to edit.
#
# Usage: bash bench/lambda-init.sh [RUNS]      (RUNS defaults to 10)
#   SKIP_BUILD=1  reuse target/release binaries      SKIP_ZIP=1  only the init times
#   FUNCTIONS="ingest-cxml ..."  only these (directory names under functions/)
# cargo-lambda and zig come from the project's venv (bash infra/install.sh puts them in
# .stack/venv); the arm64 Rust target is added with rustup when it is missing. The arm64
# release build of every function takes long on 2 cores (LTO): run it in the background.
# Nothing leaves the machine: every endpoint points at a closed port on 127.0.0.1 and the
# credentials are dummies; nothing is called before the first poll anyway.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUNS="${1:-10}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
command -v python3 >/dev/null || { echo "python3 is required (the Runtime API stub)" >&2; exit 1; }

# A port nothing listens on (bound then released by the OS), for every endpoint a function may
# configure: a call that should not happen fails at once instead of leaving the machine.
CLOSED_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
CLOSED="http://127.0.0.1:$CLOSED_PORT"

# ---------------------------------------------------------------------------------------------
# Environment of each function at init (besides the Lambda runtime's own variables, below).
# One line per variable, NAME=value. Read each function's main.rs when adding one: it must be
# able to reach lambda_runtime::run() with these alone.
common_env() {
    # What Lambda itself sets, and an AWS SDK configuration that never looks further.
    cat <<EOF
AWS_LAMBDA_FUNCTION_NAME=$1
AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512
AWS_LAMBDA_FUNCTION_VERSION=\$LATEST
AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/$1
AWS_LAMBDA_LOG_STREAM_NAME=bench
AWS_REGION=us-east-1
AWS_DEFAULT_REGION=us-east-1
AWS_ACCESS_KEY_ID=x
AWS_SECRET_ACCESS_KEY=x
AWS_EC2_METADATA_DISABLED=true
AWS_ENDPOINT_URL=$CLOSED
RUST_LOG=info
EOF
}
function_env() {
    case "$1" in
        ingest-cxml | ingest-mail)
            echo "TABLE_NAME=bench-table"
            ;;
        receive-cxml)
            printf 'TABLE_NAME=bench-table\nBUCKET_NAME=bench-bucket\n'
            ;;
        submit-vendor-invoice | poll-transaction-status)
            # LWA credentials from the environment (LWA_SECRET_ID unset: no Secrets Manager call).
            cat <<EOF
TABLE_NAME=bench-table
LWA_CLIENT_ID=x
LWA_CLIENT_SECRET=x
LWA_REFRESH_TOKEN=x
SPAPI_ENDPOINT=$CLOSED
LWA_ENDPOINT=$CLOSED/auth/o2/token
EOF
            ;;
        *)
            # A function not listed yet: the variables the existing ones read.
            cat <<EOF
TABLE_NAME=bench-table
LWA_CLIENT_ID=x
LWA_CLIENT_SECRET=x
LWA_REFRESH_TOKEN=x
SPAPI_ENDPOINT=$CLOSED
LWA_ENDPOINT=$CLOSED/auth/o2/token
EOF
            ;;
    esac
}
# ---------------------------------------------------------------------------------------------

# "<dir> <package> <binary>" for every function (the first [[bin]], else the package name).
mapfile -t FNS < <(python3 - "${FUNCTIONS:-}" <<'PY'
import glob, os, sys, tomllib
only = set(sys.argv[1].split())
for manifest in sorted(glob.glob("functions/*/Cargo.toml")):
    d = os.path.basename(os.path.dirname(manifest))
    if only and d not in only:
        continue
    with open(manifest, "rb") as f:
        m = tomllib.load(f)
    pkg = m["package"]["name"]
    bins = m.get("bin") or [{"name": pkg}]
    print(d, pkg, bins[0].get("name", pkg))
PY
)
[[ ${#FNS[@]} -gt 0 ]] || { echo "no function found under functions/*/Cargo.toml" >&2; exit 1; }

PKG_ARGS=()
for f in "${FNS[@]}"; do
    read -r _ pkg _ <<<"$f"
    PKG_ARGS+=(-p "$pkg")
done

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    echo "building release binaries (cargo build --release ${PKG_ARGS[*]}) ..." >&2
    cargo build --release "${PKG_ARGS[@]}" >&2
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/lambda-init.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

# init_times BINARY ENVFILE: RUNS starts against the stub; prints "median min max" in ms.
init_times() {
    python3 - "$1" "$2" "$RUNS" <<'PY'
import os, select, signal, socket, statistics, subprocess, sys, time
binary, envfile, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
with open(envfile) as f:
    for line in f:
        line = line.rstrip("\n")
        if line:
            k, v = line.split("=", 1)
            env[k] = v
POLL = b"GET /2018-06-01/runtime/invocation/next"
times = []
for run in range(runs):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    env["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:%d" % srv.getsockname()[1]
    errpath = os.path.join(os.path.dirname(envfile), "stderr")
    with open(errpath, "wb") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen([binary], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    polled, conns, buf = None, [], {}
    deadline = t0 + 30
    while polled is None and time.perf_counter() < deadline and p.poll() is None:
        ready, _, _ = select.select([srv] + conns, [], [], 0.1)
        for s in ready:
            if s is srv:
                c, _ = srv.accept()
                conns.append(c)
                buf[c] = b""
                continue
            data = s.recv(4096)
            if not data:
                conns.remove(s)
                continue
            buf[s] += data
            if buf[s].startswith(POLL):
                polled = time.perf_counter()  # noted, never answered
                break
    p.send_signal(signal.SIGKILL)
    p.wait()
    for c in conns:
        c.close()
    srv.close()
    if polled is None:
        with open(errpath, "rb") as f:
            tail = f.read()[-2000:].decode(errors="replace")
        sys.exit("no Runtime API poll within 30 s (exit status %s); stderr:\n%s" % (p.returncode, tail))
    times.append((polled - t0) * 1000)
print("%.1f %.1f %.1f" % (statistics.median(times), min(times), max(times)))
PY
}

declare -A INIT
for f in "${FNS[@]}"; do
    read -r dir pkg bin <<<"$f"
    { common_env "$bin"; function_env "$dir"; } >"$TMP/env"
    echo "init: $dir ($RUNS starts) ..." >&2
    if out="$(init_times "$TARGET_DIR/release/$bin" "$TMP/env" 2>"$TMP/init.err")"; then
        INIT[$dir]="$out"
    else
        echo "init: $dir did not reach its first poll:" >&2
        cat "$TMP/init.err" >&2
        INIT[$dir]="- - -"
    fi
done

declare -A ZIP
if [[ "${SKIP_ZIP:-0}" != 1 ]]; then
    [[ -x "$ROOT/.stack/venv/bin/cargo-lambda" ]] || { echo "cargo-lambda missing: run bash infra/install.sh (or SKIP_ZIP=1)" >&2; exit 1; }
    export PATH="$ROOT/.stack/venv/bin:$PATH"
    if ! rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu; then
        rustup target add aarch64-unknown-linux-gnu >&2
    fi
    for f in "${FNS[@]}"; do
        read -r dir pkg bin <<<"$f"
        echo "zip: cargo lambda build --release --arm64 --output-format zip -p $pkg ..." >&2
        if cargo lambda build --release --arm64 --output-format zip -p "$pkg" >&2; then
            zipfile="$TARGET_DIR/lambda/$bin/bootstrap.zip"
            ZIP[$dir]="$(stat -c %s "$zipfile" 2>/dev/null || echo -)"
        else
            ZIP[$dir]="-"
        fi
    done
fi

printf '\n%-28s %10s %8s %8s %14s\n' function "init ms" min max "arm64 zip B"
for f in "${FNS[@]}"; do
    read -r dir _ _ <<<"$f"
    read -r med lo hi <<<"${INIT[$dir]}"
    printf '%-28s %10s %8s %8s %14s\n' "$dir" "$med" "$lo" "$hi" "${ZIP[$dir]:-skipped}"
done
echo "(init: host $(uname -m) release build, median of $RUNS starts from process start to the first Runtime API poll)"
