"""GF-SEC: nodes must not expose SSH to the internet, alone or through a union of blocks."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from gpuforge.check._cidrs import internet_spaces
from gpuforge.check._context import CheckContext
from gpuforge.check._registry import Hit, rule


def _pool_public(ctx: CheckContext) -> Iterator[str]:
    spec = ctx.doc.spec
    for name, pool in spec.pools.items():
        public = pool.network.public_ip
        if public if public is not None else spec.security.public_ip:
            yield name


def _internet(ctx: CheckContext) -> tuple[str, int] | None:
    """How SSH is open to the internet ("0.0.0.0/0", or the blocks that cover it) and where."""
    cidrs = ctx.doc.spec.security.ssh_cidrs
    for space in internet_spaces(cidrs):
        version = ipaddress.ip_network(space).version
        members = [i for i, c in enumerate(cidrs) if ipaddress.ip_network(c).version == version]
        if len(members) == 1 or space in cidrs:
            return space, cidrs.index(space) if space in cidrs else members[0]
        blocks = ", ".join(cidrs[i] for i in members)
        return f"{space} (together, {blocks} cover it)", members[0]
    return None


@rule("GF-SEC-001", "public IP with SSH open to the internet", "error")
def public_ssh(ctx: CheckContext) -> Iterator[Hit]:
    """A public address plus SSH from the whole internet invites brute force against every node."""
    world = _internet(ctx)
    if world is None:
        return
    for name in _pool_public(ctx):
        yield Hit(
            f"pool {name}: nodes get public IPs and SSH is open to {world[0]}",
            "restrict ssh_cidrs to your office/VPN ranges, or set public_ip: false and use a "
            "bastion",
            ("security", "ssh_cidrs", world[1]),
            name,
        )


@rule("GF-SEC-002", "SSH allowed from anywhere", "warning")
def world_ssh(ctx: CheckContext) -> Iterator[Hit]:
    """Even without public IPs, the whole internet as source lets every peered network reach SSH."""
    if list(_pool_public(ctx)):
        return
    world = _internet(ctx)
    if world is not None:
        yield Hit(
            f"SSH is allowed from {world[0]}",
            "list only the networks that administer the cluster",
            ("security", "ssh_cidrs", world[1]),
        )


@rule("GF-SEC-003", "public IPs with no SSH source ranges", "warning")
def public_without_sources(ctx: CheckContext) -> Iterator[Hit]:
    """Public addresses with an empty ssh_cidrs: no SSH rule is rendered, nothing can reach SSH.

    gpuforge never renders a firewall rule without sources (on GCP that means 0.0.0.0/0).
    """
    spec = ctx.doc.spec
    if spec.security.ssh_cidrs:
        return
    for name in _pool_public(ctx):
        if ctx.pools[name].provider.has_market:
            yield Hit(
                f"pool {name}: nodes get public IPs but security.ssh_cidrs is empty, so no "
                "SSH rule is rendered and the nodes cannot be configured over SSH",
                "list the controller's or VPN's CIDR blocks in security.ssh_cidrs (never "
                "0.0.0.0/0), or set public_ip: false and reach the nodes through a bastion",
                ("security", "public_ip")
                if spec.pools[name].network.public_ip is None
                else ("pools", name, "network", "public_ip"),
                name,
            )


def _gpu_groups(ctx: CheckContext) -> Iterator[tuple[str, str, tuple[str | int, ...]]]:
    """(what, group, spec location) of every group the GPU sharing settings name."""
    spec = ctx.doc.spec
    if spec.gpu.mps.group is not None:
        yield "gpu.mps.group", spec.gpu.mps.group, ("gpu", "mps", "group")
    for profile, group in (spec.gpu.mig.groups if spec.gpu.mig else {}).items():
        yield f"gpu.mig.groups.{profile}", group, ("gpu", "mig", "groups", profile)
    for name, pool in spec.pools.items():
        settings = pool.gpu
        if settings is None:
            continue
        if settings.mps is not None and settings.mps.group is not None:
            where: tuple[str | int, ...] = ("pools", name, "gpu", "mps", "group")
            yield f"pools.{name}.gpu.mps.group", settings.mps.group, where
        for profile, group in (settings.mig.groups if settings.mig else {}).items():
            where = ("pools", name, "gpu", "mig", "groups", profile)
            yield f"pools.{name}.gpu.mig.groups.{profile}", group, where


@rule("GF-SEC-004", "GPU sharing group not in the access section", "error")
def undeclared_gpu_group(ctx: CheckContext) -> Iterator[Hit]:
    """Where security declares who may use GPUs (gpu_group), a MIG instance's or MPS daemon's
    group must be that group: any other would get past the access control, or not exist."""
    declared = ctx.doc.spec.security.gpu_group
    if declared is None:
        return
    for what, group, where in _gpu_groups(ctx):
        if group not in (declared, "root"):
            yield Hit(
                f"{what} is {group!r}, a group security.gpu_group ({declared!r}) does not declare",
                f"set {what} to {declared!r}, or change security.gpu_group",
                where,
            )
