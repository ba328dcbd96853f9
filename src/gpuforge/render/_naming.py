"""Deterministic names and addresses shared by the renderer and the provisioner."""

from __future__ import annotations

import hashlib
import ipaddress

from gpuforge.spec import ClusterSpec, TargetRef

LOCAL_SUPERNET = ipaddress.ip_network("10.251.0.0/16")
FIRST_HOST = 10


def local_subnet(cluster: str) -> str:
    """The private /24 of a local-fleet cluster: derived from its name, stable across runs."""
    index = int(hashlib.sha256(cluster.encode()).hexdigest(), 16) % 256
    return str(list(LOCAL_SUPERNET.subnets(new_prefix=24))[index])


def target_pools(spec: ClusterSpec, target: TargetRef) -> list[str]:
    """Names of the pools that run on `target`, in spec order."""
    return [name for name, pool in spec.pools.items() if spec.pool_target(pool) == target]


def all_targets(spec: ClusterSpec) -> list[TargetRef]:
    """Every target the spec's pools use (the cluster's list plus pool overrides), in order."""
    seen: list[TargetRef] = []
    for pool in spec.pools.values():
        target = spec.pool_target(pool)
        if target not in seen:
            seen.append(target)
    return seen


def group_token(text: str) -> str:
    """An Ansible group-name-safe token: lowercase, `-` and `.` become `_`."""
    return text.lower().replace("-", "_").replace(".", "_").replace("/", "_")
