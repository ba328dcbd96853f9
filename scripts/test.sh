#!/usr/bin/env bash
# Set up (scripts/setup.sh --test), then lint, type-check and run the whole test suite:
# unit tests, the Terraform/checkov/ansible-lint checks, the collection's ansible-test sanity and
# tests on ansible-core 2.18 and 2.19, and the integration tests on the local simulated fleet
# (they need root, as in CI).
#
# Without arguments (the README's command, CI) the fleet and integration tests run in a pytest
# of their own, started first and beside everything else: they spend much of their time waiting
# for nodes, which the lint, sanity and unit runs fill. Their output (.logs/fleet-tests.log)
# follows at the end, and the script fails when either half failed. Both halves run in random
# order, so no test leans on another's leftovers; the seed is printed, and GPUFORGE_TEST_SEED=N
# repeats an order. With arguments, they go to one pytest of the whole suite after the checks,
# in file order unless they ask otherwise (for example `--random-order` or `-k NAME`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh --test
# Lint and types print one line each (their output in .logs/test.log); pytest prints its own
# short summary and the slowest tests (where CI's time goes).
export GPUFORGE_LOG=.logs/test.log
# shellcheck source=scripts/quiet.sh
. scripts/quiet.sh
: >"$GPUFORGE_LOG"
FLEET_LOG=.logs/fleet-tests.log
fleet_pid=""
seed="${GPUFORGE_TEST_SEED:-$RANDOM}"
if [ "$#" -eq 0 ]; then
    echo "  tests in random order, seed $seed (GPUFORGE_TEST_SEED=$seed repeats it)"
    .venv/bin/pytest -q -p no:cacheprovider --random-order-seed="$seed" --durations=20 \
        -m "integration or fleet" >"$FLEET_LOG" 2>&1 &
    fleet_pid=$!
fi

# The fleet half is never abandoned: whatever fails first, its nodes are torn down by its own
# fixtures, and its outcome is shown, before the script exits.
finish_fleet() {
    local status=$? fleet_status=0
    [ -n "$fleet_pid" ] || return 0
    wait "$fleet_pid" || fleet_status=$?
    printf '\n==> fleet and integration tests (%s):\n' "$FLEET_LOG"
    cat "$FLEET_LOG"
    [ "$status" -ne 0 ] || exit "$fleet_status"
}
trap finish_fleet EXIT

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
if [ -n "$fleet_pid" ]; then
    .venv/bin/pytest -q -p no:cacheprovider --random-order-seed="$seed" --durations=20 \
        -m "not integration and not fleet"
else
    .venv/bin/pytest -q -p no:cacheprovider --durations=30 "$@"
fi
