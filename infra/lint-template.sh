#!/usr/bin/env bash
# Lints the SAM template with cfn-lint from the project venv (infra/install.sh).
# Extra arguments are passed to cfn-lint; its exit code is passed through
# (0 = clean, non-zero = errors and/or warnings; see `cfn-lint --help`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CFN_LINT="$ROOT/.stack/venv/bin/cfn-lint"
if [ ! -x "$CFN_LINT" ]; then
  "$ROOT/infra/install.sh" >&2
fi
cd "$ROOT"
"$CFN_LINT" template.yaml "$@"
"$ROOT/.stack/venv/bin/python" "$ROOT/infra/template_checks.py" template.yaml
