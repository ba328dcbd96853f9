#!/usr/bin/env bash
# Set up (scripts/setup.sh --test), then lint, type-check and run the whole test suite:
# unit tests, the Terraform/checkov/ansible-lint checks, the collection's ansible-test sanity and
# tests on ansible-core 2.18 and 2.19, and the integration tests on the local simulated fleet
# (they need root, as in CI).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh --test
# Lint and types print one line each (their output in .logs/test.log); pytest prints its own
# short summary and the 30 slowest tests (where CI's time goes).
export GPUFORGE_LOG=.logs/test.log
# shellcheck source=scripts/quiet.sh
. scripts/quiet.sh
: >"$GPUFORGE_LOG"
quiet "ruff check" .venv/bin/ruff check src tests bench
quiet "ruff format" .venv/bin/ruff format --check src tests bench
quiet "mypy" .venv/bin/mypy
# The collection on both ansible-core versions it declares: ansible-test sanity, and its own
# tests (modules, roles, site.yml over local hosts) plus the engine over SSH (mitogen and plain)
# under 2.19; the whole suite runs under 2.18.
quiet "sanity (2.18)" bash scripts/sanity.sh .venv
quiet "sanity (2.19)" bash scripts/sanity.sh .venv-ansible219
.venv-ansible219/bin/pytest -q -p no:cacheprovider tests/unit/ansible \
    tests/unit/configure/test_engine.py tests/unit/configure/test_ssh.py
exec .venv/bin/pytest -q -p no:cacheprovider --durations=30 "$@"
