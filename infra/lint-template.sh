#!/usr/bin/env bash
# Lints the SAM template: cfn-lint, the project's own checks (infra/template_checks.py), and
# `sam validate --lint`, all from the project venv (infra/install.sh).
# Extra arguments are passed to cfn-lint; the first failing step's exit code is passed through
# (0 = clean, non-zero = errors and/or warnings; see `cfn-lint --help`).
# `sam validate --lint` runs offline: it needs no AWS credentials and no region (cfn-lint's
# default region, us-east-1, is used); template_checks.py also reads the template as `sam build`
# does. Telemetry is off.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CFN_LINT="$ROOT/.stack/venv/bin/cfn-lint"
if [ ! -x "$CFN_LINT" ] || [ ! -x "$ROOT/.stack/venv/bin/sam" ]; then
  "$ROOT/infra/install.sh" >&2
fi
cd "$ROOT"
"$CFN_LINT" template.yaml "$@"
"$ROOT/.stack/venv/bin/python" "$ROOT/infra/template_checks.py" template.yaml
SAM_CLI_TELEMETRY=0 "$ROOT/.stack/venv/bin/sam" validate --lint --template template.yaml
