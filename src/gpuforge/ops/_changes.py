"""Every source of change joined into one change set, each change with its update policy.

`classify_changes` compares the old and new spec (infrastructure fields: replace, scale or
unsupported), the old and new lock (pinned versions, by the role that installs them), the
desired state each side puts on a node (files, units, GPU settings, MIG layout, other packages),
and reads the Terraform plans (each resource created, updated, replaced or destroyed) and the
drift probe (what still differs on each node). Each source is optional but the new spec and lock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from gpuforge.check import Lock, PoolLock
from gpuforge.desired import PoolState, desired_state
from gpuforge.ops._converge import DriftReport
from gpuforge.ops._drift import Drift
from gpuforge.ops._policy import Change, ChangeSet, Kind, Policy, policy_of_role
from gpuforge.providers import provider_for
from gpuforge.provision import Action, PlanSummary, ResourceChange
from gpuforge.spec import ClusterSpec, Pool

__all__ = ["classify_changes"]

# Lock fields per pool: the role that installs them and their rule.
_LOCK_FIELDS: dict[str, str] = {
    "driver": "nvidia_driver",
    "driver_modules": "nvidia_driver",
    "fabricmanager": "nvidia_driver",
    "cuda": "cuda_toolkit",
    "cudnn": "cudnn",
    "nccl": "nccl",
    "container_toolkit": "container_toolkit",
    "dcgm": "dcgm",
}

_REPLACE_WHY = "Terraform recreates the node: its work is lost unless drained first"
_OWN_HOSTS_FIX = (
    "gpuforge cannot rebuild machines it did not create: change the host itself (hardware or "
    "OS reinstall), then run `gpuforge up`"
)


def _pool_fields(spec: ClusterSpec, pool: Pool) -> dict[str, str]:
    """The pool's fields that only a new machine can change, as text (None shown as '-')."""
    gpu = pool.gpu
    storage = pool.storage
    fields = {
        "instance_type": pool.instance_type,
        "gpu.model": gpu.model if gpu else None,
        "gpu.count": gpu.count if gpu else None,
        "software.os": spec.pool_software(pool).os,
        "profile": pool.profile,
        "zone": pool.zone,
        "market": pool.market,
        "placement_group": pool.placement_group,
        "network.efa": pool.network.efa,
        "storage.root_gb": storage.root_gb,
        "storage.scratch_gb": storage.scratch_gb,
        "storage.iops": storage.iops,
        "storage.throughput_mbps": storage.throughput_mbps,
    }
    return {key: "-" if value is None else str(value) for key, value in fields.items()}


def _pool_nodes(nodes: Mapping[str, str], pool: str) -> tuple[str, ...]:
    return tuple(sorted(node for node, owner in nodes.items() if owner == pool))


def _spec_changes(old: ClusterSpec, new: ClusterSpec, nodes: Mapping[str, str]) -> list[Change]:
    """The cluster's and each pool's infrastructure fields: replace, scale or unsupported."""
    changes: list[Change] = []
    if old.name != new.name:
        changes.append(
            Change(
                "spec",
                "name",
                old.name,
                new.name,
                "unsupported",
                reason="the name keys the deployment, its state and every node",
                fix="keep the old name; a cluster of a new name is a new cluster "
                "(`gpuforge up` it, then `gpuforge destroy` the old one)",
            )
        )
    if old.state != new.state:
        changes.append(
            Change(
                "spec",
                "state",
                old.state.backend,
                new.state.backend,
                "unsupported",
                reason="Terraform's state would be looked for where it is not",
                fix="move the state first (`terraform init -migrate-state` in each root of the "
                "deployment), then change the spec",
            )
        )
    if old.fabric.type != new.fabric.type:
        changes.append(
            Change(
                "spec",
                "fabric.type",
                old.fabric.type,
                new.fabric.type,
                "unsupported",
                reason="the fabric is the machines' hardware and cabling",
                fix="add a pool on hardware with that fabric, then scale the old pool to 0",
            )
        )
    if old.software.kernel != new.software.kernel:
        changes.append(
            Change(
                "spec",
                "software.kernel",
                old.software.kernel,
                new.software.kernel,
                "rolling",
                needs_reboot=True,
                nodes=tuple(sorted(nodes)),
                reason="a new kernel runs only after a reboot",
            )
        )
    for name in sorted(set(old.pools) | set(new.pools)):
        changes.extend(_pool_changes(old, new, name, nodes))
    return changes


def _pool_changes(
    old: ClusterSpec, new: ClusterSpec, name: str, nodes: Mapping[str, str]
) -> list[Change]:
    before, after = old.pools.get(name), new.pools.get(name)
    members = _pool_nodes(nodes, name)
    if before is None:
        return [_scale(name, 0, after.count, ())] if after is not None else []
    if after is None:
        return [_scale(name, before.count, 0, members)]
    if str(old.pool_target(before)) != str(new.pool_target(after)):
        return [
            Change(
                "spec",
                f"pools.{name}.target",
                str(old.pool_target(before)),
                str(new.pool_target(after)),
                "unsupported",
                pool=name,
                nodes=members,
                reason="nodes cannot move between targets",
                fix=f"add a pool on the new target, then scale {name} to 0",
            )
        ]
    own_hosts = provider_for(new.pool_target(after)).needs_hosts
    changes = []
    old_fields, new_fields = _pool_fields(old, before), _pool_fields(new, after)
    for key in old_fields:
        if old_fields[key] == new_fields[key]:
            continue
        changes.append(
            Change(
                "spec",
                f"pools.{name}.{key}",
                old_fields[key],
                new_fields[key],
                "unsupported" if own_hosts else "replace",
                pool=name,
                nodes=members,
                reason="the nodes are the site's own machines" if own_hosts else _REPLACE_WHY,
                fix=_OWN_HOSTS_FIX if own_hosts else "",
            )
        )
    if before.count != after.count and not own_hosts:
        changes.append(_scale(name, before.count, after.count, members))
    old_hosts = {h.name for h in before.hosts}
    new_hosts = {h.name for h in after.hosts}
    if old_hosts != new_hosts:
        changes.append(_scale(name, len(old_hosts), len(new_hosts), members))
    return changes


def _scale(pool: str, old: int, new: int, members: tuple[str, ...]) -> Change:
    """A pool's node count changes: new nodes join without touching others; removed ones are
    drained first."""
    grow = new > old
    return Change(
        "spec",
        f"pools.{pool}.count",
        str(old),
        str(new),
        "in-place" if grow else "rolling",
        pool=pool,
        nodes=() if grow else members[new:] if len(members) > new else (),
        reason="new nodes are created and configured; the others are untouched"
        if grow
        else "the nodes removed are drained, then destroyed",
        fix="`gpuforge scale` (or `gpuforge up`)",
    )


def _lock_text(entry: PoolLock | None, key: str) -> str | None:
    if entry is None:
        return None
    if key == "fabricmanager":
        return str(entry.fabricmanager).lower()
    value = getattr(entry.stack, key)
    return None if value is None else str(value)


def _lock_changes(old: Lock, new: Lock, nodes: Mapping[str, str]) -> list[Change]:
    """Per pool in both locks: every pinned version that differs, by the role installing it."""
    changes = []
    for pool in sorted(set(old.pools) & set(new.pools)):
        before, after = old.pools[pool], new.pools[pool]
        if before.stack.os != after.stack.os:
            changes.append(
                Change(
                    "lock",
                    "os",
                    before.stack.os,
                    after.stack.os,
                    "replace",
                    pool=pool,
                    nodes=_pool_nodes(nodes, pool),
                    reason="a new OS is a new image: " + _REPLACE_WHY,
                )
            )
        for key, role in _LOCK_FIELDS.items():
            was, now = _lock_text(before, key), _lock_text(after, key)
            if was == now:
                continue
            policy, reboot, why = policy_of_role(role, "package")
            changes.append(
                Change(
                    "lock",
                    key,
                    was,
                    now,
                    policy,
                    pool=pool,
                    nodes=_pool_nodes(nodes, pool),
                    needs_reboot=reboot,
                    role=role,
                    reason=why,
                )
            )
    return changes


def _covered_roles(changes: Sequence[Change], pool: str) -> set[str]:
    """Roles whose package changes a lock change of `pool` already names."""
    return {c.role for c in changes if c.source == "lock" and c.pool == pool and c.role}


def _state_items(state: PoolState | None) -> dict[tuple[Kind, str], tuple[str, str]]:
    """(kind, item) -> (value as text, role) of every item the state puts on a node."""
    if state is None:
        return {}
    items: dict[tuple[Kind, str], tuple[str, str]] = {}
    for package in state.packages:
        held = " (held)" if package.hold else ""
        items[("package", package.name)] = (f"{package.version or 'any'}{held}", package.role)
    for unit in state.units:
        items[("unit", unit.name)] = ("running" if unit.active else "enabled", unit.role)
    for file in state.files:
        content = f"sha256:{file.sha256[:12]}" if file.sha256 else "made on the node"
        items[("file", file.path)] = (f"{content} {file.mode}", file.role)
    for module in state.modules:
        items[("module", module.name)] = ("loaded", module.role)
    for runtime in state.runtimes:
        items[("runtime", runtime.engine)] = ("nvidia default where installed", runtime.role)
    if state.gpu is not None:
        gpu = state.gpu
        keys = ("persistence_mode", "power_limit_w", "compute_mode", "locked_clocks")
        for key in (*keys, "application_clocks"):
            items[("gpu", key)] = (str(getattr(gpu, key)), gpu.role)
    if state.mig is not None:
        layout = state.mig.config
        text = ",".join(f"{k}={v}" for k, v in sorted(layout.items())) if layout else "off"
        items[("mig", "layout")] = (text, state.mig.role)
    return items


def _desired_changes(
    old: Mapping[str, PoolState],
    new: Mapping[str, PoolState],
    nodes: Mapping[str, str],
    covered: Mapping[str, set[str]],
) -> list[Change]:
    """Per pool in both: each item a role puts on a node that is added, removed or changed."""
    changes = []
    for pool in sorted(set(old) & set(new)):
        before, after = _state_items(old[pool]), _state_items(new[pool])
        for kind, item in sorted(set(before) | set(after)):
            was, now = before.get((kind, item)), after.get((kind, item))
            if was is not None and now is not None and was[0] == now[0]:
                continue
            role = (now or was or ("", ""))[1]
            if kind == "package" and role in covered.get(pool, set()):
                continue
            policy, reboot, why = policy_of_role(role, kind, item)
            changes.append(
                Change(
                    "desired",
                    f"{kind} {item}",
                    was[0] if was else None,
                    now[0] if now else None,
                    policy,
                    pool=pool,
                    nodes=_pool_nodes(nodes, pool),
                    needs_reboot=reboot,
                    role=role,
                    reason=why,
                )
            )
    return changes


_NODE_KEY = re.compile(r'\["([^"]+)"\]$')


def _terraform_changes(target: str, plan: PlanSummary, nodes: Mapping[str, str]) -> list[Change]:
    """Each resource the plan changes; a node's resource (keyed by its name) names the node."""
    changes = []
    for resource in plan.changes:
        if resource.action in (Action.NO_OP, Action.READ):
            continue
        key = _NODE_KEY.search(resource.address)
        node = key.group(1) if key else None
        changes.append(_terraform_change(target, resource, node, nodes.get(node or "")))
    return changes


def _terraform_change(
    target: str, resource: ResourceChange, node: str | None, pool: str | None
) -> Change:
    action = resource.action
    named = (node,) if node else ()
    why = f" ({resource.reason})" if resource.reason else ""
    rules: dict[Action, tuple[Policy, str]] = {
        Action.CREATE: ("in-place", "a new resource; nothing existing is touched"),
        Action.UPDATE: ("in-place", "Terraform updates it where it stands"),
        Action.REPLACE: ("replace", _REPLACE_WHY + why),
        Action.DELETE: ("rolling", "drained first, then destroyed" + why),
    }
    policy, reason = rules[action]
    return Change(
        "terraform",
        f"{target}: {resource.address}",
        None if action is Action.CREATE else "exists",
        None if action is Action.DELETE else action.value,
        policy,
        pool=pool,
        nodes=named,
        reason=reason,
    )


_DRIFT_KIND: dict[str, Kind] = {
    "GF-DRIFT-001": "package",
    "GF-DRIFT-002": "package",
    "GF-DRIFT-003": "unit",
    "GF-DRIFT-004": "unit",
    "GF-DRIFT-005": "file",
    "GF-DRIFT-006": "file",
    "GF-DRIFT-007": "gpu",
    "GF-DRIFT-008": "gpu",
    "GF-DRIFT-009": "gpu",
    "GF-DRIFT-010": "mig",
    "GF-DRIFT-011": "module",
    "GF-DRIFT-012": "gpu",
    "GF-DRIFT-013": "gpu",
    "GF-DRIFT-014": "runtime",
}


def _drift_changes(
    drift: DriftReport, nodes: Mapping[str, str], changes: list[Change]
) -> list[Change]:
    """What the probe found differing on the nodes, one change per item and values across
    nodes; a package drift a lock change explains adds its node to that change instead."""
    grouped: dict[tuple[str, str, str, str, str | None], list[str]] = {}
    for node in drift.drifted:
        for item in drift.drifts[node]:
            pool = nodes.get(node)
            kind = _DRIFT_KIND.get(item.code, "package")
            if kind == "package" and pool and item.role in _covered_roles(changes, pool):
                _add_node(changes, pool, item, node)
                continue
            key = (item.code, item.item, item.expected, item.actual, pool)
            grouped.setdefault(key, []).append(node)
    found = []
    for (code, name, expected, actual, pool), members in sorted(
        grouped.items(), key=lambda kv: (kv[0][4] or "", kv[0][1], kv[0][0])
    ):
        sample = next(d for d in drift.drifts[members[0]] if d.code == code and d.item == name)
        kind = _DRIFT_KIND.get(code, "package")
        policy, reboot, why = policy_of_role(sample.role, kind, name)
        found.append(
            Change(
                "drift",
                f"{kind} {name}",
                actual,
                expected,
                policy,
                pool=pool,
                nodes=tuple(sorted(members)),
                needs_reboot=reboot,
                role=sample.role,
                reason=why,
            )
        )
    for node, error in sorted(drift.unreachable.items()):
        found.append(
            Change(
                "drift",
                "probe",
                None,
                None,
                "rolling",
                pool=nodes.get(node),
                nodes=(node,),
                reason=f"the node could not be probed ({error}): every role runs there",
            )
        )
    return found


def _add_node(changes: list[Change], pool: str, item: Drift, node: str) -> None:
    for index, change in enumerate(changes):
        mine = change.source == "lock" and change.pool == pool and change.role == item.role
        if mine and node not in change.nodes:
            changes[index] = replace(change, nodes=tuple(sorted({*change.nodes, node})))


def classify_changes(
    new_spec: ClusterSpec,
    new_lock: Lock,
    *,
    old_spec: ClusterSpec | None = None,
    old_lock: Lock | None = None,
    nodes: Mapping[str, str] | None = None,
    plans: Mapping[str, PlanSummary] | None = None,
    drift: DriftReport | None = None,
) -> ChangeSet:
    """Join the spec diff, lock diff, desired-state diff, Terraform plans and drift probe into
    one change set, each change with its policy. Every source is optional but the new side;
    `nodes` (node -> pool, the inventory's) names the nodes each change touches."""
    members = dict(nodes or {})
    changes: list[Change] = []
    if old_spec is not None:
        changes.extend(_spec_changes(old_spec, new_spec, members))
    if old_lock is not None:
        lock_changes = _lock_changes(old_lock, new_lock, members)
        if drift is not None:
            # The probe says which nodes still lack the new versions.
            lock_changes = [replace(c, nodes=()) if c.role else c for c in lock_changes]
        changes.extend(lock_changes)
    if old_spec is not None and old_lock is not None:
        covered = {
            pool: _covered_roles(changes, pool)
            for pool in set(old_lock.pools) | set(new_lock.pools)
        }
        changes.extend(
            _desired_changes(
                desired_state(old_spec, old_lock),
                desired_state(new_spec, new_lock),
                members,
                covered,
            )
        )
    for target, plan in sorted((plans or {}).items()):
        changes.extend(_terraform_changes(target, plan, members))
    if drift is not None:
        changes.extend(_drift_changes(drift, members, changes))
        # A lock change no node lacks any more has reached the cluster already.
        changes = [c for c in changes if not (c.source == "lock" and c.role and not c.nodes)]
    return ChangeSet(changes=changes, node_pools=members)
