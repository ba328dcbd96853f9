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
from gpuforge.check._pricing import PoolPrice, pool_prices
from gpuforge.check._stack import Conflict, ResolvedStack
from gpuforge.errors import FileError, InputError, Location, MissingFileError, Problem, SpecError
from gpuforge.files import load_yaml, read_text, write_atomic
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
    prices: dict[str, PoolPrice] = field(default_factory=dict)
    price_snapshot: dict[str, Any] = field(default_factory=dict)

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
        data: dict[str, Any] = {
            "apiVersion": "gpuforge/v1",
            "kind": "Lock",
            "cluster": self.cluster,
            "inputs_digest": self.digest,
            "generated_by": f"gpuforge {__version__}",
            "pools": pools,
        }
        if self.prices:
            data["price_snapshot"] = self.price_snapshot
            data["prices"] = {name: p.to_data() for name, p in self.prices.items()}
        return data

    def dump(self) -> str:
        """Deterministic YAML text of the lock, with its header comment."""
        yaml = YAML(typ="safe", pure=True)
        yaml.default_flow_style = False
        yaml.width = 4096
        buffer = io.StringIO()
        yaml.dump(self.to_data(), buffer)
        return LOCK_HEADER + buffer.getvalue()


MAX_LOCK_BYTES = 4 * 1024 * 1024
_CORRUPT_FIX = "restore it from version control, or delete it and run `gpuforge lock`"


class _Shape(Exception):
    """A field of the lock is missing or of the wrong kind (turned into a located FileError)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _get(node: Any, key: str, where: str) -> Any:
    field = f"{where}.{key}" if where else key
    if not isinstance(node, dict):
        raise _Shape(where, "is not a mapping")
    if key not in node:
        raise _Shape(field, "is missing")
    return node[key]


def _text(node: Any, key: str, where: str) -> str:
    value = _get(node, key, where)
    if isinstance(value, dict | list) or value is None:
        raise _Shape(f"{where}.{key}", "is not a single value")
    return str(value)


def _pool_lock(entry: Any, where: str) -> PoolLock:
    reasons = _get(entry, "reasons", where)
    packages = _get(entry, "packages", where)
    if not isinstance(reasons, dict):
        raise _Shape(f"{where}.reasons", "is not a mapping")
    if not isinstance(packages, list) or not all(isinstance(p, str) and "=" in p for p in packages):
        raise _Shape(f"{where}.packages", "is not a list of `name=version` strings")
    count = _get(entry, "gpus_per_node", where)
    if not isinstance(count, int) or isinstance(count, bool):
        raise _Shape(f"{where}.gpus_per_node", "is not a whole number")
    cudnn = _get(entry, "cudnn", where)
    stack = ResolvedStack(
        os=_text(entry, "os", where),
        driver=_text(entry, "driver", where),
        driver_branch=_text(entry, "driver_branch", where),
        driver_modules=_text(entry, "driver_modules", where),
        cuda=_text(entry, "cuda", where),
        cudnn=None if cudnn is None else _text(entry, "cudnn", where),
        nccl=_text(entry, "nccl", where),
        container_toolkit=_text(entry, "container_toolkit", where),
        dcgm=_text(entry, "dcgm", where),
        reasons={str(k): str(v) for k, v in reasons.items()},
        minor_version_compat=bool(_get(entry, "minor_version_compat", where)),
    )
    return PoolLock(
        gpu=_text(entry, "gpu", where),
        gpus_per_node=count,
        stack=stack,
        fabricmanager=bool(_get(entry, "fabricmanager", where)),
        packages=[PackagePin(*p.split("=", 1)) for p in packages],
    )


def parse_lock(text: str, file: str) -> Lock:
    """Lock text back into a Lock; FileError naming the file and the field that is wrong."""
    data = load_yaml(text, file, _CORRUPT_FIX)
    try:
        lock = Lock(_text(data, "cluster", ""), _text(data, "inputs_digest", ""))
        pools = _get(data, "pools", "")
        if not isinstance(pools, dict):
            raise _Shape("pools", "is not a mapping")
        for name, entry in pools.items():
            lock.pools[str(name)] = _pool_lock(entry, f"pools.{name}")
        _read_prices(lock, data)
    except _Shape as error:
        message = f"not a valid lock file: `{error.field or 'the document'}` {error.message}"
        where = Location(file, path=error.field)
        raise FileError([Problem(where, message, _CORRUPT_FIX)]) from None
    return lock


def _read_lock_file(path: Path) -> str:
    return read_text(path, max_bytes=MAX_LOCK_BYTES, fix=_CORRUPT_FIX)


def read_lock(path: Path) -> Lock:
    """Read a lock file back into a Lock; InputError when it is missing, FileError when corrupt."""
    try:
        text = _read_lock_file(path)
    except MissingFileError:
        raise InputError(f"{path}: no lock file", "run `gpuforge lock` first") from None
    return parse_lock(text, str(path))


def read_lock_text(spec_path: str | Path) -> str | None:
    """The text of a spec's lock, checked to be a valid lock; None when there is none yet."""
    path = lock_path(spec_path)
    try:
        text = _read_lock_file(path)
    except MissingFileError:
        return None
    parse_lock(text, str(path))
    return text


def write_lock(path: Path, lock: Lock) -> None:
    """Write the lock atomically (never half a lock, even on a full disk)."""
    write_atomic(path, lock.dump())


def _price(entry: Any, key: str, where: str) -> float | None:
    value = _get(entry, key, where)
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise _Shape(f"{where}.{key}", "is not a number")
    return float(value)


def _read_prices(lock: Lock, data: Any) -> None:
    """The prices pinned in a lock (absent in locks of unpriced clusters or older gpuforge)."""
    snapshot = data.get("price_snapshot") or {}
    prices = data.get("prices") or {}
    if not isinstance(snapshot, dict):
        raise _Shape("price_snapshot", "is not a mapping")
    if not isinstance(prices, dict):
        raise _Shape("prices", "is not a mapping")
    lock.price_snapshot = dict(snapshot)
    for name, entry in prices.items():
        where = f"prices.{name}"
        itype = _get(entry, "instance_type", where)
        pool = lock.pools.get(str(name))
        lock.prices[str(name)] = PoolPrice(
            pool=str(name),
            provider=_text(entry, "provider", where),
            region=_text(entry, "region", where),
            instance_type=None if itype is None else _text(entry, "instance_type", where),
            nodes=0,
            gpus_per_node=pool.gpus_per_node if pool else 0,
            market="on-demand",
            on_demand=_price(entry, "on_demand", where),
            spot=_price(entry, "spot", where),
        )


class LockConflicts(Exception):
    """No stack exists for some pools; `conflicts` maps pool -> reasons."""

    def __init__(self, conflicts: dict[str, list[Conflict]]) -> None:
        super().__init__("no compatible stack for: " + ", ".join(conflicts))
        self.conflicts = conflicts


def pool_packages(stack: ResolvedStack, fabricmanager: bool, repo: str) -> list[PackagePin]:
    """Every pinned APT package of a resolved stack, named as NVIDIA's CUDA repository `repo`
    (the pool OS's: ubuntu2204, debian12, ...) names them (docs/PACKAGES.md)."""
    open_modules = stack.driver_modules == "open"
    packages = driver_packages(repo, stack.driver_branch, stack.driver, open_modules)
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
            packages=pool_packages(
                result.stack, switched, ctx.catalog.os_releases[result.stack.os].cuda_repo
            ),
        )
    if conflicts:
        raise LockConflicts(conflicts)
    lock.prices = {name: p for name, p in pool_prices(ctx).items() if p.priced}
    if lock.prices:
        snapshot = ctx.catalog.prices.to_data()
        providers = {p.provider for p in lock.prices.values()}
        lock.price_snapshot = {c: v for c, v in snapshot.items() if c in providers}
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
    write_lock(path, lock)
    return lock, True
