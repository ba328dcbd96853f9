"""ansible-runner's private folder without secrets: nothing that copies the environment stays.

ansible-runner writes the whole environment of a run (cloud credentials included) into
`artifacts/<ident>/command` as the run starts, and reads `env/envvars`, `env/passwords` and
`env/ssh_key` back if they exist. gpuforge passes all of it in memory (`suppress_env_files`),
deletes the `command` file as soon as ansible-playbook runs and again when the run ends, and
scrubs whatever a crashed run (`kill -9`) left behind before anything else starts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gpuforge.configure._settings import STATE_DIR
from gpuforge.render import FOLDER_MODE, check_folder, remove_inside

__all__ = [
    "RUNNER_DIR",
    "forget_run_environment",
    "private_folder",
    "scrub_runner_secrets",
    "status_handler",
]

RUNNER_DIR = f"{STATE_DIR}/runner"
# Files ansible-runner writes with the environment, a key or passwords in them, per run ...
_RUN_FILES = ("command", "env.list", "ssh_key_data")
# ... and the inputs it would read back from env/ (gpuforge never writes them).
_ENV_FILES = ("envvars", "passwords", "ssh_key", "extravars", "cmdline")


def private_folder(deploy_dir: Path) -> Path:
    """The runner's private_data_dir, created owner-only (0700) with its artifacts folder."""
    private = deploy_dir / RUNNER_DIR
    for folder in (deploy_dir / STATE_DIR, private, private / "env", private / "artifacts"):
        folder.mkdir(mode=FOLDER_MODE, exist_ok=True)
        folder.chmod(FOLDER_MODE)
    return private


def forget_run_environment(deploy_dir: Path, ident: str) -> None:
    """Delete the files of one run that copy its environment."""
    for name in _RUN_FILES:
        remove_inside(deploy_dir, f"{RUNNER_DIR}/artifacts/{ident}/{name}")


def scrub_runner_secrets(deploy_dir: Path) -> None:
    """Remove every leftover that may hold the environment, a crashed run's included.

    Refuses (InputError) a deployment folder that holds a symlink.
    """
    check_folder(deploy_dir)
    private = deploy_dir / RUNNER_DIR
    for name in _ENV_FILES:
        remove_inside(deploy_dir, f"{RUNNER_DIR}/env/{name}")
    artifacts = private / "artifacts"
    if artifacts.is_dir():
        for ident in sorted(os.listdir(artifacts)):
            if (artifacts / ident).is_dir():
                forget_run_environment(deploy_dir, ident)


def status_handler(deploy_dir: Path, ident: str) -> Any:
    """An ansible-runner `status_handler` that deletes the run's `command` file once it runs."""

    def handle(status: Mapping[str, Any], runner_config: Any = None) -> None:
        del runner_config  # unused
        if status.get("status") != "starting":
            forget_run_environment(deploy_dir, ident)

    return handle
