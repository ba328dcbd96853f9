#!/usr/bin/env bash
# The second virtualenv CI tests the gpuforge.gpu collection with: .venv-ansible219, gpuforge's
# dev install on ansible-core 2.19 (.venv holds 2.18). mitogen comes with the dev extra; where
# its strategy does not load on this ansible-core, gpuforge falls back to plain SSH and says so.
# Usage: scripts/setup-ansible219.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv=.venv-ansible219
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/pytest" ] || [ pyproject.toml -nt "$venv/.gpuforge-installed" ]; then
    [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet -e '.[dev]' 'ansible-core>=2.19,<2.20'
    touch "$venv/.gpuforge-installed"
fi
echo "ansible-core $("$venv/bin/python" -c 'import ansible; print(ansible.__version__)') in $venv"
