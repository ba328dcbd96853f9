"""Ansible dynamic-inventory script over a deployment's Terraform outputs.

Run as `python -m gpuforge.provision.inventory_script --list` with GPUFORGE_DEPLOYMENT_DIR set,
or write an executable wrapper into the deployment with `write_inventory_script` and give it to
`ansible-inventory -i` / `ansible-playbook -i`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from gpuforge.errors import GpuforgeError, InputError
from gpuforge.provision._deployment import deployment_nodes
from gpuforge.provision._inventory import build_inventory, dynamic_inventory, host_vars

__all__ = ["main", "write_inventory_script"]

_WRAPPER = '''#!{python}
"""Ansible dynamic inventory of this gpuforge deployment (written by gpuforge)."""
import sys
from pathlib import Path

from gpuforge.provision.inventory_script import main

sys.exit(main(sys.argv[1:], Path(__file__).resolve().parent / {relative!r}))
'''


def write_inventory_script(script: Path, deployment: Path, python: str = sys.executable) -> Path:
    """Write an executable inventory script that finds the deployment relative to itself."""
    script.parent.mkdir(parents=True, exist_ok=True)
    relative = os.path.relpath(deployment.resolve(), script.parent.resolve())
    script.write_text(_WRAPPER.format(python=python, relative=relative), encoding="utf-8")
    script.chmod(0o755)
    return script


def _deployment_dir(given: Path | None) -> Path:
    if given is not None:
        return given
    from_env = os.environ.get("GPUFORGE_DEPLOYMENT_DIR")
    if not from_env:
        raise InputError(
            "no deployment folder given",
            "set GPUFORGE_DEPLOYMENT_DIR, or use the wrapper `write_inventory_script` writes",
        )
    return Path(from_env)


def main(argv: Sequence[str] | None = None, deployment: Path | None = None) -> int:
    """Answer Ansible's `--list` / `--host H` with JSON on stdout; errors go to stderr."""
    parser = argparse.ArgumentParser(description="gpuforge dynamic inventory")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--list", action="store_true")
    mode.add_argument("--host")
    args = parser.parse_args(argv)
    try:
        inventory = build_inventory(deployment_nodes(_deployment_dir(deployment)))
        answer = host_vars(inventory, args.host) if args.host else dynamic_inventory(inventory)
    except GpuforgeError as error:
        sys.stderr.write(f"error: {error.message}\n  To fix: {error.fix}\n")
        return error.exit_code
    sys.stdout.write(json.dumps(answer, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
