"""A deployment's cluster id: a random id written once into its folder, its claim on its nodes.

`up` creates it; the local fleet records it with the cluster when the first node starts and
refuses the cluster's nodes to any deployment with another id (a spec of the same name in
another folder), so a name clash cannot take over or destroy another deployment's nodes.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from gpuforge.errors import InputError
from gpuforge.fleet import ClusterOwner, parse_cluster_id
from gpuforge.render import write_inside

__all__ = ["CLUSTER_ID_FILE", "deployment_owner"]

CLUSTER_ID_FILE = "cluster-id"


def _read(path: Path) -> str:
    try:
        text = path.read_text(encoding="ascii").strip()
        return parse_cluster_id(text)
    except (OSError, UnicodeDecodeError, InputError) as error:
        raise InputError(
            f"cannot read the deployment's cluster id {path}: {error}",
            fix=f"restore {path} from a backup (32 hex digits; the fleet keeps the same id in "
            "this cluster's cluster.json), or delete it if this folder never started nodes",
        ) from error


def deployment_owner(root: Path, *, create: bool) -> ClusterOwner | None:
    """The deployment in `root` as a cluster owner; its id is created when `create` and absent.

    None when the folder has no id and `create` is false (a deployment from before ids).
    """
    path = root / CLUSTER_ID_FILE
    if not path.exists() and create:
        # Callers hold the deployment's run lock: no other run creates it meanwhile.
        write_inside(root, CLUSTER_ID_FILE, secrets.token_hex(16) + "\n", mode=0o600)
    if not path.exists():
        return None
    return ClusterOwner(_read(path), str(root))
