"""GF-SEC: nodes must not expose SSH to the internet."""

from __future__ import annotations

from collections.abc import Iterator

from gpuforge.check._context import CheckContext
from gpuforge.check._registry import Hit, rule

_WORLD = ("0.0.0.0/0", "::/0")


def _pool_public(ctx: CheckContext) -> Iterator[str]:
    spec = ctx.doc.spec
    for name, pool in spec.pools.items():
        public = pool.network.public_ip
        if public if public is not None else spec.security.public_ip:
            yield name


@rule("GF-SEC-001", "public IP with SSH open to the internet", "error")
def public_ssh(ctx: CheckContext) -> Iterator[Hit]:
    """A public address plus SSH from 0.0.0.0/0 invites brute force against every node."""
    spec = ctx.doc.spec
    world = [c for c in spec.security.ssh_cidrs if c in _WORLD]
    if not world:
        return
    for name in _pool_public(ctx):
        index = spec.security.ssh_cidrs.index(world[0])
        yield Hit(
            f"pool {name}: nodes get public IPs and SSH is open to {world[0]}",
            "restrict ssh_cidrs to your office/VPN ranges, or set public_ip: false and use a "
            "bastion",
            ("security", "ssh_cidrs", index),
            name,
        )


@rule("GF-SEC-002", "SSH allowed from anywhere", "warning")
def world_ssh(ctx: CheckContext) -> Iterator[Hit]:
    """Even without public IPs, 0.0.0.0/0 lets every peered network reach SSH."""
    spec = ctx.doc.spec
    if list(_pool_public(ctx)):
        return
    for index, cidr in enumerate(spec.security.ssh_cidrs):
        if cidr in _WORLD:
            yield Hit(
                f"SSH is allowed from {cidr}",
                "list only the networks that administer the cluster",
                ("security", "ssh_cidrs", index),
            )
