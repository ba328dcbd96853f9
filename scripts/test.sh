#!/usr/bin/env bash
# Set up (scripts/setup.sh --test), then lint, type-check and run the whole test suite:
# unit tests, the Terraform/checkov/ansible-lint checks, and the integration tests on the local
# simulated fleet (they need root, as in CI).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh --test
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy
exec .venv/bin/pytest -q -p no:cacheprovider "$@"
