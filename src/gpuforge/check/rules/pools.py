"""GF-POOL: pools must produce nodes with unique, valid hostnames."""

from __future__ import annotations

from collections.abc import Iterator

from gpuforge.check._context import CheckContext
from gpuforge.check._registry import Hit, rule

MAX_HOSTNAME = 63


def node_names(cluster: str, pool: str, count: int) -> list[str]:
    """Hostnames of a pool's nodes as every Terraform module names them: `<pool>-<index>`,
    index from 0; the fleet and clouds qualify them with the cluster name."""
    del cluster  # names are unique within a cluster; the cluster qualifies them outside
    return [f"{pool}-{index}" for index in range(count)]


@rule("GF-POOL-001", "pool with no nodes", "warning")
def empty_pool(ctx: CheckContext) -> Iterator[Hit]:
    """count: 0 renders the pool but creates nothing: usually a leftover."""
    for name, pool in ctx.doc.spec.pools.items():
        if pool.count == 0:
            yield Hit(
                f"pool {name} has count 0 and creates no nodes",
                "remove the pool, or set count to 1 or more",
                ("pools", name, "count"),
                name,
            )


@rule("GF-POOL-002", "duplicate or invalid node names", "error")
def duplicate_names(ctx: CheckContext) -> Iterator[Hit]:
    """Node hostnames must be unique across pools and at most 63 characters."""
    spec = ctx.doc.spec
    seen: dict[str, str] = {}
    for name, pool in spec.pools.items():
        for host in node_names(spec.name, name, pool.count):
            if len(f"{spec.name}-{host}") > MAX_HOSTNAME:
                yield Hit(
                    f"pool {name}: hostname {spec.name}-{host!r} is longer than {MAX_HOSTNAME} "
                    "characters",
                    "shorten the cluster or pool name",
                    ("pools", name),
                    name,
                )
                break
            if host in seen:
                yield Hit(
                    f"pools {seen[host]} and {name} both produce the node name {host!r}",
                    "rename one of the pools",
                    ("pools", name),
                    name,
                )
                break
            seen[host] = name


@rule("GF-POOL-004", "on-premises pool without hosts", "error")
def onprem_hosts(ctx: CheckContext) -> Iterator[Hit]:
    """An onprem pool provisions nothing: it must list the machines it is made of."""
    for name, facts in ctx.pools.items():
        if facts.provider.needs_hosts and not facts.pool.hosts and facts.pool.count:
            yield Hit(
                f"pool {name}: an onprem pool needs its machines listed under `hosts`",
                "add hosts: [{name: gpu01, address: 10.1.0.11}, ...]",
                ("pools", name),
                name,
            )


@rule("GF-POOL-003", "large simulated fleet", "warning")
def large_local_fleet(ctx: CheckContext) -> Iterator[Hit]:
    """The local target runs every node on this machine; beyond 64 nodes it gets slow."""
    for name, facts in ctx.pools.items():
        limit = facts.provider.node_warn_limit
        if limit is not None and facts.pool.count > limit:
            yield Hit(
                f"pool {name}: {facts.pool.count} simulated nodes on one machine",
                f"use at most {limit} nodes per pool on the {facts.target} target",
                ("pools", name, "count"),
                name,
            )


@rule("GF-POOL-005", "OS the target's nodes cannot run", "error")
def os_not_presented(ctx: CheckContext) -> Iterator[Hit]:
    """The local fleet's nodes run the host's Debian userland and present only Debian-family
    releases; another OS is refused here, not when `up` starts the nodes."""
    for name, facts in ctx.pools.items():
        offered = facts.provider.presented_os
        os_name = ctx.doc.spec.pool_software(facts.pool).os
        if offered is not None and os_name not in offered:
            yield Hit(
                f"pool {name}: the {facts.target} target's nodes cannot run {os_name}",
                f"set software.os to one of {', '.join(offered)} "
                "(docs/PACKAGES.md, 'RPM distributions', says what RHEL-family nodes would take)",
                ctx.software_path(name, "os"),
                name,
            )
