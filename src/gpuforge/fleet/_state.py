"""The fleet's state directory: a lock, one record per cluster and per node, written atomically.

Each record is written with `gpuforge.files.write_atomic` next to a `.bak` copy; a corrupt
record is read from its copy (with a warning), and when both are unusable the error names it.

Layout (every path is recorded before the thing it names is created, so a later call can reap it):
    <state>/lock
    <state>/clusters/<cluster>/cluster.json
    <state>/clusters/<cluster>/ssh/{id_ed25519,known_hosts,ssh_config}
    <state>/clusters/<cluster>/nodes/<node>/{node.json,init.sh,console.log,upper,work,root}
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from gpuforge.errors import FileError, FleetError, Location, Problem
from gpuforge.files import MIB, backup_path, load_json, read_recovering, read_text, write_atomic

R = TypeVar("R", "ClusterRecord", "NodeRecord")
DEFAULT_STATE_DIR = Path("/var/lib/gpuforge/fleet")
STATE_DIR_ENV = "GPUFORGE_FLEET_DIR"
# What the fleet builds once per host and shares between state folders (the stand-in APT
# repository): rebuilt from the sources when removed.
DEFAULT_CACHE_DIR = Path("/var/cache/gpuforge/fleet")
CACHE_DIR_ENV = "GPUFORGE_FLEET_CACHE"


def resolve_state_dir(explicit: Path | None = None) -> Path:
    """Pick the state directory: the explicit one, else $GPUFORGE_FLEET_DIR, else the default."""
    if explicit is not None:
        return explicit.absolute()
    env = os.environ.get(STATE_DIR_ENV)
    return Path(env).absolute() if env else DEFAULT_STATE_DIR


def resolve_cache_dir() -> Path:
    """The host's fleet cache: $GPUFORGE_FLEET_CACHE, else the default."""
    env = os.environ.get(CACHE_DIR_ENV)
    return Path(env).absolute() if env else DEFAULT_CACHE_DIR


@dataclass
class ClusterRecord:
    """What the fleet knows about one cluster: its subnet, bridge and the deployment that owns it.

    `cluster_id` is the random id of the deployment that created the cluster ("" when it was
    started by hand or before ids existed); `deployment` is that deployment's folder.
    """

    name: str
    subnet: str
    bridge: str
    cluster_id: str = ""
    deployment: str = ""


@dataclass
class NodeRecord:
    """What the fleet knows about one node; `state` is what was asked (starting/running/stopped)."""

    name: str
    cluster: str
    pool: str
    profile: str
    address: str
    subnet: str
    state: str = "starting"
    launcher_pid: int = 0
    launcher_start: int = 0
    owner_pid: int = 0
    owner_start: int = 0
    faults: list[str] = field(default_factory=list)
    os: str = "debian-12"


def _write_json(path: Path, data: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n", backup=True)


def _record_fix(path: Path) -> str:
    return (
        f"restore {path.name} from a copy, or move it aside (add .corrupt to its name) so the "
        "fleet forgets it, and stop what still runs of it by hand"
    )


_TYPES: dict[str, type] = {"str": str, "int": int, "list[str]": list}


def _wrong_fields(kind: type, data: dict[str, Any]) -> dict[str, str]:
    """Fields of `data` that `kind` lacks, has not, or holds with another type."""
    known = {f.name: f for f in fields(kind)}
    wrong = {name: "is not a field of the record" for name in data if name not in known}
    for name, spec in known.items():
        expected = _TYPES.get(str(spec.type))
        if name not in data:
            if spec.default is MISSING and spec.default_factory is MISSING:
                wrong[name] = "is missing"
        elif expected is not None and (
            not isinstance(data[name], expected) or isinstance(data[name], bool)
        ):
            wrong[name] = f"is not of type {spec.type}"
    return wrong


def _read_record(path: Path, kind: type[R]) -> R:
    """One record, from its backup copy when the file itself is corrupt; FileError naming it."""

    def parse(source: Path) -> R:
        fix = _record_fix(path)
        data = load_json(read_text(source, max_bytes=MIB, fix=fix), str(source), fix)
        if not isinstance(data, dict):
            raise FileError([Problem(Location(str(source)), "is not a JSON object", fix)])
        wrong = _wrong_fields(kind, data)
        if wrong:
            message = "; ".join(f"`{name}` {why}" for name, why in wrong.items())
            where = Location(str(source), path=next(iter(wrong)))
            label = kind.__name__.removesuffix("Record").lower()
            raise FileError([Problem(where, f"not a {label} record: {message}", fix)])
        return kind(**data)

    return read_recovering(path, parse)


def _recorded(path: Path) -> bool:
    """Whether a record (or only its backup copy) exists; anything in its place counts too."""
    return path.exists() or path.is_symlink() or backup_path(path).exists()


class StateStore:
    """Reads and writes the records under one state directory; callers hold `lock()` to edit."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the state directory's exclusive lock, so concurrent CLI calls edit in turn."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            handle = (self.root / "lock").open("a")
        except OSError as error:
            raise FleetError(
                f"cannot use the fleet state directory {self.root}: {error}",
                fix="run as root or point --state-dir / GPUFORGE_FLEET_DIR at a writable folder",
            ) from error
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def cluster_dir(self, cluster: str) -> Path:
        """Folder of one cluster's records and key material."""
        return self.root / "clusters" / cluster

    def node_dir(self, cluster: str, node: str) -> Path:
        """Folder of one node: record, init script, log and overlay directories."""
        return self.cluster_dir(cluster) / "nodes" / node

    def tool_library_dir(self) -> Path:
        """Folder where the nodes' simulator tools are compiled once and copied from."""
        return self.root / "sim-lib"

    def clusters(self) -> list[ClusterRecord]:
        """Every recorded cluster, sorted by name."""
        base = self.root / "clusters"
        if not base.is_dir():
            return []
        found = [self.get_cluster(p.name) for p in sorted(base.iterdir())]
        return [c for c in found if c is not None]

    def get_cluster(self, cluster: str) -> ClusterRecord | None:
        """The record of one cluster, or None when it is not recorded."""
        path = self.cluster_dir(cluster) / "cluster.json"
        return _read_record(path, ClusterRecord) if _recorded(path) else None

    def put_cluster(self, record: ClusterRecord) -> None:
        """Record a cluster (before its bridge is created)."""
        folder = self.cluster_dir(record.name)
        folder.mkdir(parents=True, exist_ok=True)
        _write_json(folder / "cluster.json", asdict(record))

    def nodes(self, cluster: str) -> list[NodeRecord]:
        """Every recorded node of a cluster, sorted by name."""
        base = self.cluster_dir(cluster) / "nodes"
        if not base.is_dir():
            return []
        found = [self.get_node(cluster, p.name) for p in sorted(base.iterdir())]
        return [n for n in found if n is not None]

    def get_node(self, cluster: str, node: str) -> NodeRecord | None:
        """The record of one node, or None when it is not recorded."""
        path = self.node_dir(cluster, node) / "node.json"
        return _read_record(path, NodeRecord) if _recorded(path) else None

    def put_node(self, record: NodeRecord) -> None:
        """Record a node (before any of its processes or interfaces exist)."""
        folder = self.node_dir(record.cluster, record.name)
        folder.mkdir(parents=True, exist_ok=True)
        _write_json(folder / "node.json", asdict(record))

    def remove_node(self, cluster: str, node: str) -> None:
        """Delete a node's folder and record, once nothing of it runs any more."""
        shutil.rmtree(self.node_dir(cluster, node), ignore_errors=True)

    def remove_cluster(self, cluster: str) -> None:
        """Delete a cluster's folder, once its bridge and nodes are gone."""
        shutil.rmtree(self.cluster_dir(cluster), ignore_errors=True)
