"""Which nodes each pool has, by index, and the host number each one keeps in its subnet.

Targets whose modules key nodes by name (`Provider.names_nodes`: the local fleet) get
the members of every pool instead of only a count, so any node can be removed and no pool's
change moves another pool's nodes. The members live in the deployment folder (`members.json`);
each render starts from them: a smaller count removes the unhealthy members first (the caller
names them, from the latest readiness facts), then the highest index; a larger count adds the
lowest free index at the lowest host number no member held before this render.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gpuforge.errors import FileError, InputError, Location, Problem
from gpuforge.files import load_json
from gpuforge.providers import provider_for
from gpuforge.render._boundary import read_inside
from gpuforge.render._naming import FIRST_HOST
from gpuforge.spec import ClusterSpec

__all__ = [
    "MEMBERS_FILE",
    "Member",
    "Members",
    "PoolMembers",
    "members_text",
    "plan_members",
    "read_members",
    "removal_order",
    "rendered_counts",
]

MEMBERS_FILE = "members.json"
# The last host number of a node in a /24 (.255 is the broadcast address).
LAST_HOST = 254
_FORMAT = 1


@dataclass(frozen=True)
class Member:
    """One node of a pool: its index (its name's suffix) and host number in the subnet."""

    index: int
    host: int


@dataclass(frozen=True)
class PoolMembers:
    """The members of one pool, on the target they were rendered for, by index."""

    target: str
    nodes: tuple[Member, ...]


Members = dict[str, PoolMembers]


def _fix(path: str) -> str:
    return (
        f"delete {path}: the next render numbers each pool's nodes from 0 again (check "
        "`gpuforge plan` before applying)"
    )


def _member(item: object, where: Location, fix: str) -> Member:
    if not isinstance(item, dict):
        raise FileError([Problem(where, "is not a JSON object", fix)])
    index, host = item.get("index"), item.get("host")
    if not (
        isinstance(index, int)
        and not isinstance(index, bool)
        and index >= 0
        and isinstance(host, int)
        and not isinstance(host, bool)
        and host >= 2
    ):
        message = "needs `index` (a whole number, 0 or more) and `host` (2 or more)"
        raise FileError([Problem(where, message, fix)])
    return Member(index, host)


def _parse(text: str, file: str) -> Members:
    fix = _fix(file)
    data: Any = load_json(text, file, fix)
    pools = data.get("pools") if isinstance(data, dict) else None
    if not isinstance(pools, dict):
        raise FileError([Problem(Location(file), "has no `pools` object", fix)])
    members: Members = {}
    for name, entry in pools.items():
        where = Location(file, path=f"pools.{name}")
        if not isinstance(entry, dict) or not isinstance(entry.get("target"), str):
            raise FileError([Problem(where, "needs `target` and `nodes`", fix)])
        nodes = entry.get("nodes")
        if not isinstance(nodes, list):
            raise FileError([Problem(where, "`nodes` is not a JSON array", fix)])
        parsed = tuple(
            _member(item, Location(file, path=f"pools.{name}.nodes[{i}]"), fix)
            for i, item in enumerate(nodes)
        )
        members[str(name)] = PoolMembers(entry["target"], parsed)
    return members


def read_members(root: Path) -> Members | None:
    """The members the last render kept in `root`, or None when it kept none (an older
    render); FileError naming the file and field when it is damaged."""
    text = read_inside(root, MEMBERS_FILE)
    if text is None:
        return None
    return _parse(text, str(root / MEMBERS_FILE))


def members_text(members: Members) -> str:
    """The members as stable, key-sorted JSON."""
    pools = {
        name: {
            "target": entry.target,
            "nodes": [{"index": m.index, "host": m.host} for m in entry.nodes],
        }
        for name, entry in members.items()
    }
    return json.dumps({"format": _FORMAT, "pools": pools}, indent=2, sort_keys=True) + "\n"


def rendered_counts(manifest: Mapping[str, Any]) -> Members:
    """The members an older render (one that kept no members file) made: every pool of a
    target numbered from 0, at host numbers in sequence from FIRST_HOST, in the render's order."""
    pools = manifest.get("pools")
    targets = manifest.get("targets")
    members: Members = {}
    if not isinstance(pools, dict) or not isinstance(targets, dict):
        return members
    for target, names in targets.items():
        host = FIRST_HOST
        for name in names if isinstance(names, list) else []:
            count = pools.get(name, {}).get("count") if isinstance(pools.get(name), dict) else 0
            if not isinstance(count, int) or count <= 0:
                continue
            nodes = tuple(Member(i, host + i) for i in range(count))
            members[str(name)] = PoolMembers(str(target), nodes)
            host += count
    return members


def removal_order(members: Collection[Member], sick: Collection[int]) -> list[Member]:
    """The order a shrinking pool loses its members: the `sick` indexes first, then the rest,
    each by highest index first."""
    return sorted(members, key=lambda m: (m.index not in sick, -m.index))


def plan_members(
    spec: ClusterSpec,
    previous: Members,
    *,
    unhealthy: Collection[str] = (),
) -> Members:
    """The members each named-node pool has for `spec`, starting from `previous`.

    A smaller count removes the nodes named in `unhealthy` first, then the highest index. A
    larger count adds the lowest free index at the lowest host number none of `previous` held
    (a node leaving in the same change may still hold its address while the new one starts).
    """
    members: Members = {}
    held: dict[str, set[int]] = {}
    for entry in previous.values():
        held.setdefault(entry.target, set()).update(m.host for m in entry.nodes)
    growing: list[str] = []
    for name, pool in spec.pools.items():
        target = spec.pool_target(pool)
        provider = provider_for(target)
        if not provider.names_nodes or pool.count <= 0:
            continue
        before = previous.get(name)
        kept = list(before.nodes) if before and before.target == str(target) else []

        surplus = len(kept) - pool.count
        if surplus > 0:
            names = {m.index: provider.node_name(spec.name, name, m.index) for m in kept}
            sick = {index for index, node in names.items() if node in unhealthy}
            gone = set(removal_order(kept, sick)[:surplus])
            kept = [m for m in kept if m not in gone]
        members[name] = PoolMembers(str(target), tuple(sorted(kept, key=lambda m: m.index)))
        if len(kept) < pool.count:
            growing.append(name)
    for name in growing:
        entry = members[name]
        taken = held.setdefault(entry.target, set())
        taken.update(m.host for other in members.values() for m in other.nodes)
        indexes = {m.index for m in entry.nodes}
        nodes = list(entry.nodes)
        index, host = 0, FIRST_HOST
        while len(nodes) < spec.pools[name].count:
            while index in indexes:
                index += 1
            while host in taken:
                host += 1
            if host > LAST_HOST:
                raise InputError(
                    f"pool {name} needs a node address past .{LAST_HOST} of its target's /24: "
                    f"the target's pools hold {len(taken)} addresses from .{FIRST_HOST}",
                    "give the cluster's pools fewer nodes in all (at most "
                    f"{LAST_HOST - FIRST_HOST + 1} on one local cluster)",
                )
            nodes.append(Member(index, host))
            indexes.add(index)
            taken.add(host)
        members[name] = PoolMembers(entry.target, tuple(sorted(nodes, key=lambda m: m.index)))
    return members
