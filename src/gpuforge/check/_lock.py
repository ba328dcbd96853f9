"""`cluster.lock`: the exact stack per pool, the reason for each choice, and what it came from.

The lock is written next to the spec (`<spec stem>.lock`). It records a digest of every spec
input that affects the solution, so `check` can tell when the spec moved on without the lock.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from gpuforge import __version__
from gpuforge.catalog import (
    PackagePin,
    container_toolkit_packages,
    cuda_toolkit_package,
    cudnn_packages,
    dcgm_package,
    driver_packages,
    fabricmanager_package,
    nccl_packages,
)
from gpuforge.check._context import CheckContext
from gpuforge.check._stack import Conflict, ResolvedStack
from gpuforge.errors import InputError, Problem, SpecError
from gpuforge.spec import ClusterSpec

LOCK_HEADER = (
    "# cluster.lock: written by `gpuforge lock`. Do not edit; change the spec and run\n"
    "# `gpuforge lock` again. Commit it next to the spec so every run installs the same stack.\n"
)


def lock_path(spec_path: str | Path) -> Path:
    """Where the lock of a spec lives: next to it, `<stem>.lock`."""
    path = Path(spec_path)
    return path.with_name(path.stem + ".lock")


def inputs_digest(spec: ClusterSpec) -> str:
    """A digest of every spec field that changes the solved stacks."""
    pools = {
        name: {
            "gpu": [pool.gpu.model, pool.gpu.count] if pool.gpu else None,
            "instance_type": pool.instance_type,
            "target": str(spec.pool_target(pool)),
            "software": spec.pool_software(pool).model_dump(mode="json"),
        }
        for name, pool in sorted(spec.pools.items())
    }
    payload = json.dumps({"cluster": spec.name, "pools": pools}, sort_keys=True)
    return "sha256:" + hashlib.sha256(payload.encode()).hexdigest()


@dataclass
class PoolLock:
    """The pinned stack of one pool and the APT packages that install it."""

    gpu: str
    gpus_per_node: int
    stack: ResolvedStack
    fabricmanager: bool
    packages: list[PackagePin]


@dataclass
class Lock:
    """The whole lock: cluster name, input digest, and one entry per pool."""

    cluster: str
    digest: str
    pools: dict[str, PoolLock] = field(default_factory=dict)

    def to_data(self) -> dict[str, Any]:
        """Plain data in a fixed key order, for YAML and JSON output."""
        pools: dict[str, Any] = {}
        for name, entry in self.pools.items():
            stack = entry.stack
            pools[name] = {
                "gpu": entry.gpu,
                "gpus_per_node": entry.gpus_per_node,
                "os": stack.os,
                "driver": stack.driver,
                "driver_branch": stack.driver_branch,
                "driver_modules": stack.driver_modules,
                "fabricmanager": entry.fabricmanager,
                "cuda": stack.cuda,
                "cudnn": stack.cudnn,
                "nccl": stack.nccl,
                "container_toolkit": stack.container_toolkit,
                "dcgm": stack.dcgm,
                "minor_version_compat": stack.minor_version_compat,
                "packages": [str(p) for p in entry.packages],
                "reasons": dict(sorted(stack.reasons.items())),
            }
        return {
            "apiVersion": "gpuforge/v1",
            "kind": "Lock",
            "cluster": self.cluster,
            "inputs_digest": self.digest,
            "generated_by": f"gpuforge {__version__}",
            "pools": pools,
        }

    def dump(self) -> str:
        """Deterministic YAML text of the lock, with its header comment."""
        yaml = YAML(typ="safe", pure=True)
        yaml.default_flow_style = False
        yaml.width = 4096
        buffer = io.StringIO()
        yaml.dump(self.to_data(), buffer)
        return LOCK_HEADER + buffer.getvalue()


def read_lock(path: Path) -> Lock:
    """Read a lock file back into a Lock; InputError when it is missing or malformed."""
    try:
        data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
        lock = Lock(str(data["cluster"]), str(data["inputs_digest"]))
        for name, entry in data["pools"].items():
            stack = ResolvedStack(
                os=str(entry["os"]),
                driver=str(entry["driver"]),
                driver_branch=str(entry["driver_branch"]),
                driver_modules=str(entry["driver_modules"]),
                cuda=str(entry["cuda"]),
                cudnn=None if entry["cudnn"] is None else str(entry["cudnn"]),
                nccl=str(entry["nccl"]),
                container_toolkit=str(entry["container_toolkit"]),
                dcgm=str(entry["dcgm"]),
                reasons={str(k): str(v) for k, v in entry["reasons"].items()},
                minor_version_compat=bool(entry["minor_version_compat"]),
            )
            packages = [PackagePin(*str(p).split("=", 1)) for p in entry["packages"]]
            lock.pools[str(name)] = PoolLock(
                gpu=str(entry["gpu"]),
                gpus_per_node=int(entry["gpus_per_node"]),
                stack=stack,
                fabricmanager=bool(entry["fabricmanager"]),
                packages=packages,
            )
    except FileNotFoundError:
        raise InputError(f"{path}: no lock file", "run `gpuforge lock` first") from None
    except (OSError, KeyError, TypeError, ValueError, AttributeError) as error:
        raise InputError(
            f"{path}: not a valid lock file ({error})", "delete it and run `gpuforge lock`"
        ) from None
    return lock


class LockConflicts(Exception):
    """No stack exists for some pools; `conflicts` maps pool -> reasons."""

    def __init__(self, conflicts: dict[str, list[Conflict]]) -> None:
        super().__init__("no compatible stack for: " + ", ".join(conflicts))
        self.conflicts = conflicts


def pool_packages(stack: ResolvedStack, fabricmanager: bool) -> list[PackagePin]:
    """Every pinned APT package of a resolved stack (docs/PACKAGES.md)."""
    packages = driver_packages(stack.driver_branch, stack.driver, stack.driver_modules == "open")
    if fabricmanager:
        packages.append(fabricmanager_package(stack.driver_branch, stack.driver))
    packages.append(cuda_toolkit_package(stack.cuda))
    nccl_version, _, build = stack.nccl.partition("+cuda")
    packages.extend(nccl_packages(nccl_version, build))
    if stack.cudnn:
        packages.extend(cudnn_packages(stack.cudnn, int(stack.cuda.split(".")[0])))
    packages.extend(container_toolkit_packages(stack.container_toolkit))
    packages.append(dcgm_package(stack.dcgm))
    return packages


def solve_lock(ctx: CheckContext) -> Lock:
    """Resolve every pool's stack; raises LockConflicts naming each pool that has none."""
    lock = Lock(ctx.doc.spec.name, inputs_digest(ctx.doc.spec))
    conflicts: dict[str, list[Conflict]] = {}
    for name, facts in ctx.pools.items():
        result = ctx.stack(name)
        if facts.gpu is None or result is None:
            conflicts[name] = [
                Conflict(
                    "GF-CLOUD-001",
                    "pools.instance_type",
                    "the pool's GPU model is unknown",
                    "give gpu: MODEL:COUNT or a known instance type",
                )
            ]
            continue
        if result.stack is None:
            conflicts[name] = result.conflicts
            continue
        switched = bool(facts.gpu.nvlink and facts.gpu.nvlink.switched and facts.gpus_per_node >= 8)
        lock.pools[name] = PoolLock(
            gpu=facts.gpu.name,
            gpus_per_node=facts.gpus_per_node,
            stack=result.stack,
            fabricmanager=switched,
            packages=pool_packages(result.stack, switched),
        )
    if conflicts:
        raise LockConflicts(conflicts)
    return lock


def current_lock(ctx: CheckContext, spec_path: Path) -> tuple[Lock, bool]:
    """The spec's lock: the file next to it when it matches the spec, else solved and written.

    Returns the lock and whether it was written; SpecError locates every pool without a stack.
    """
    path = lock_path(spec_path)
    if path.exists():
        lock = read_lock(path)
        if lock.digest == inputs_digest(ctx.doc.spec):
            return lock, False
    try:
        lock = solve_lock(ctx)
    except LockConflicts as error:
        raise SpecError(
            [
                Problem(ctx.doc.locate("pools", pool), f"{c.code}: {c.message}", c.fix)
                for pool, items in error.conflicts.items()
                for c in items
            ]
        ) from None
    path.write_text(lock.dump(), encoding="utf-8")
    return lock, True
