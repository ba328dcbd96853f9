#!/usr/bin/env bash
# Create .venv-provider-schemas: the prebuilt CDK for Terraform provider packages from PyPI, which
# carry each provider's resources, data sources, arguments and nested blocks (their jsii
# assembly), for the offline provider-schema test of the cloud modules
# (tests/unit/terraform/test_provider_schemas.py). Two versions per provider: the one at the
# floor each module's versions.tf declares and the newest prebuilt one. Each is installed with
# pip, without dependencies (only its data is read; nothing runs node), into its own folder under
# the virtualenv, and kept there: a folder that already holds its version is not fetched again.
# Usage: scripts/setup-provider-schemas.sh [VENV_DIR]   (default: .venv-provider-schemas)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${1:-$root/.venv-provider-schemas}"
python="${PYTHON:-python3}"

# package==version  provider version it was built for (checked against the wheel's METADATA).
pins=(
    "cdktf-cdktf-provider-aws==19.28.0 aws 5.60.0"
    "cdktf-cdktf-provider-aws==21.22.1 aws 6.25.0"
    "cdktf-cdktf-provider-azurerm==11.3.0 azurerm 3.86.0"
    "cdktf-cdktf-provider-azurerm==14.23.1 azurerm 4.55.0"
    "cdktf-cdktf-provider-google==12.0.0 google 5.0.0"
    "cdktf-cdktf-provider-google==16.12.1 google 6.50.0"
    "cdktf-cdktf-provider-vsphere==9.1.0 vsphere 2.7.0"
    "cdktf-cdktf-provider-vsphere==11.2.1 vsphere 2.15.0"
)

[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
mkdir -p "$venv/schemas"
for pin in "${pins[@]}"; do
    read -r requirement provider version <<<"$pin"
    target="$venv/schemas/$provider-$version"
    if [ -f "$target/.installed" ]; then
        continue
    fi
    rm -rf "$target"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
        --no-compile --target "$target" "$requirement"
    touch "$target/.installed"
done
echo "provider schemas set up in $venv/schemas: $(ls "$venv/schemas" | tr '\n' ' ')"
