#!/usr/bin/env bash
# Create .venv-checkov (checkov in its own virtualenv: it pins many packages that would
# clash with gpuforge's own) unless it already holds a working checkov.
# Usage: scripts/setup-checkov.sh [VENV_DIR]   (default: .venv-checkov at the repository root)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${1:-$root/.venv-checkov}"
python="${PYTHON:-python3}"

if [ -x "$venv/bin/checkov" ] && "$venv/bin/checkov" --version >/dev/null 2>&1; then
    echo "checkov already set up in $venv: $("$venv/bin/checkov" --version)"
    exit 0
fi

"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "${CHECKOV_SPEC:-checkov}"
echo "checkov set up in $venv: $("$venv/bin/checkov" --version)"
