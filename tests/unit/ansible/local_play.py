"""Shared by the collection's tests: ansible-playbook over hosts with a local connection."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]


def run_local(
    work: Path,
    hosts: dict[str, dict[str, Any]],
    variables: dict[str, Any],
    *args: str,
    env: dict[str, str] | None = None,
    expect_failure: bool = False,
) -> str:
    """ansible-playbook `args` over `hosts` (local connection, `variables` for all): its stdout.

    `env` adds to (or overrides) the environment; the run must succeed, or with
    `expect_failure` fail (then stdout and stderr are returned together).
    """
    inventory = {
        "all": {
            "vars": {
                "ansible_connection": "local",
                "ansible_python_interpreter": sys.executable,
                **variables,
            },
            "hosts": hosts,
        }
    }
    (work / "hosts.json").write_text(json.dumps(inventory))
    full_env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / "src" / "gpuforge"),
        "ANSIBLE_HOME": str(work / "home"),
        "ANSIBLE_LOCAL_TEMP": str(work / "tmp"),
        "ANSIBLE_INVENTORY_ENABLED": "yaml",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORKS": "8",
        **(env or {}),
    }
    playbook = Path(sys.executable).parent / "ansible-playbook"
    done = subprocess.run(
        [str(playbook), "-i", str(work / "hosts.json"), *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if expect_failure:
        assert done.returncode != 0, done.stdout[-4000:]
        return done.stdout + done.stderr
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return done.stdout
