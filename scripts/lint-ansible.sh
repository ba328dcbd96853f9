#!/bin/sh
# Lints the gpuforge.gpu collection: ansible-lint (production profile, offline) and
# ansible-playbook --syntax-check on every playbook. Exits non-zero on any finding.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${GPUFORGE_VENV:-$root/.venv}/bin
collection=$root/src/gpuforge/ansible_collections/gpuforge/gpu
# The collection is found in the source tree, never installed anywhere; ansible-lint keeps its
# caches in a throw-away ANSIBLE_HOME instead of ~/.ansible.
ANSIBLE_COLLECTIONS_PATH=$root/src/gpuforge
ANSIBLE_HOME=$(mktemp -d)
export ANSIBLE_COLLECTIONS_PATH ANSIBLE_HOME
trap 'rm -rf "$ANSIBLE_HOME"' EXIT
cd "$collection"
"$bin/ansible-lint" --offline --profile production --nocolor
for playbook in playbooks/*.yml; do
    "$bin/ansible-playbook" --syntax-check -i localhost, "$playbook" >/dev/null
    echo "syntax ok: $playbook"
done
