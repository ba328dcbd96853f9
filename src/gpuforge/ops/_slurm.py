"""A Slurm cluster's deployment-side parts: its MUNGE key, its controller node, their host vars.

The key is made once per deployment (`secrets/munge.key`, mode 0400, never printed or logged)
and the slurm role copies it to every node. The controller is the inventory host the spec's
`scheduler.controller` names, or the first node of the pool it names; Slurm's node names are the
inventory host names, so what `up` configures and what a drain names are the same hosts.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gpuforge.errors import InputError
from gpuforge.render import folder_inside
from gpuforge.spec import ClusterSpec

__all__ = ["MUNGE_KEY_FILE", "controller_host", "ensure_munge_key", "slurm_host_vars"]

MUNGE_KEY_FILE = "secrets/munge.key"
# The size `mungekey` gives a new key.
_KEY_BYTES = 128


def ensure_munge_key(root: Path) -> Path:
    """The deployment's MUNGE key file, created once (random, mode 0400) when it is missing."""
    folder = folder_inside(root, "secrets")
    folder.chmod(0o700)
    path = root / MUNGE_KEY_FILE
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise InputError(
            f"{path} is not a regular file",
            f"remove {path}; gpuforge writes a new key and `up` installs it on every node",
        )
    if not path.exists():
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(path, flags, 0o400)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(_KEY_BYTES))
    return path


def _index(node: str) -> tuple[int, str]:
    found = re.search(r"(\d+)$", node)
    return (int(found.group(1)) if found else 0, node)


def controller_host(spec: ClusterSpec, pools: Mapping[str, str]) -> str:
    """The inventory host that runs slurmctld, given every inventory host -> its pool."""
    named = spec.scheduler.controller or next(iter(spec.pools))
    if named in pools:
        return named
    pool = spec.controller_nodes().get(named, named)
    members = sorted((node for node, owner in pools.items() if owner == pool), key=_index)
    if not members:
        raise InputError(
            f"scheduler.controller {named!r} names no node of the inventory",
            "name a pool with nodes or a node the inventory lists, then run `gpuforge up`",
        )
    return members[0]


def slurm_host_vars(
    spec: ClusterSpec, root: Path, pools: Mapping[str, str]
) -> dict[str, dict[str, Any]]:
    """The slurm role's per-deployment inputs for every host (none without a Slurm scheduler)."""
    if spec.scheduler.kind != "slurm" or not pools:
        return {}
    values = {
        "slurm_controller": controller_host(spec, pools),
        "slurm_munge_key_file": str(ensure_munge_key(root)),
    }
    return {node: dict(values) for node in pools}
