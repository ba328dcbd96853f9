#!/usr/bin/env bash
# ansible-test sanity on the gpuforge.gpu collection, with the ansible-core of the given
# virtualenv (default .venv). ansible-test makes a virtualenv per sanity test and bootstraps pip
# in it with get-pip.py from ci-files.testing.ansible.com, which this project does not reach: it
# finds our offline stand-in at the path where it caches that script.
# Usage: scripts/sanity.sh [VENV]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$(cd "${1:-$root/.venv}" && pwd)"
# The pip version ansible-test 2.18 and 2.19 bootstrap (their get-pip cache file name).
pip_version=24.2
cache="$HOME/.ansible/test/cache"
mkdir -p "$cache"
install -m 0644 "$root/scripts/ansible-test-get-pip.py" "$cache/get_pip_${pip_version//./_}.py"
cd "$root/src/gpuforge/ansible_collections/gpuforge/gpu"
exec "$venv/bin/ansible-test" sanity --python 3.11 --local --color no
