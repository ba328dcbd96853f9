"""Deterministic names and addresses: subnets, interface names, node names."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network

from gpuforge.errors import InputError

SUBNET_POOL = IPv4Network("10.251.0.0/16")
FIRST_NODE_HOST = 11
_NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_CLUSTER_ID_RE = re.compile(r"^[0-9a-f]{32}$")


def check_name(kind: str, value: str) -> str:
    """Reject names that are not valid hostnames, since node names become hostnames and paths."""
    if not _NAME_RE.match(value):
        raise InputError(
            f"invalid {kind} name {value!r}",
            fix=f"use 1-63 lowercase letters, digits and '-' for the {kind} name "
            "(start and end with a letter or digit)",
        )
    return value


def parse_cluster_id(text: str) -> str:
    """Check a deployment's cluster id: the 32 hex digits `gpuforge up` writes in its folder."""
    if not _CLUSTER_ID_RE.match(text):
        raise InputError(
            f"invalid cluster id {text!r}",
            fix="pass the 32 lowercase hex digits of the deployment folder's `cluster-id` file",
        )
    return text


def _digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def node_mac(cluster: str, name: str) -> str:
    """The node's eth0 MAC, the same every time it starts (locally administered, from a hash):
    a node started again at its address is then reached at once, by the host and by its peers,
    instead of after their neighbour entries for the old MAC age out (up to a minute)."""
    digest = _digest("mac", cluster, name)
    return ":".join(["02", *(digest[i : i + 2] for i in range(0, 10, 2))])


def default_subnet(cluster: str, taken: Iterable[IPv4Network] = ()) -> IPv4Network:
    """Derive a /24 inside 10.251.0.0/16 from a hash of the cluster name, skipping taken ones."""
    used = set(taken)
    start = int(_digest(cluster)[:4], 16) % 256
    for step in range(256):
        third = (start + step) % 256
        candidate = IPv4Network(f"10.251.{third}.0/24")
        if candidate not in used:
            return candidate
    raise InputError(
        "every /24 of 10.251.0.0/16 is used by another cluster",
        fix="bring a cluster down (gpuforge fleet down --cluster NAME) or pass --subnet",
    )


def parse_subnet(text: str) -> IPv4Network:
    """Parse a cluster subnet; it must be a /24 so that node addresses stay simple and stable."""
    try:
        net = IPv4Network(text, strict=True)
    except ValueError as error:
        raise InputError(
            f"invalid subnet {text!r}: {error}", fix="pass a network such as 10.251.7.0/24"
        ) from error
    if net.prefixlen != 24:
        raise InputError(f"subnet {text} is not a /24", fix="pass a /24 such as 10.251.7.0/24")
    return net


def parse_address(text: str, subnet: IPv4Network) -> IPv4Address:
    """Parse a node address and check that it is a usable host of the subnet (not .0, .1, .255)."""
    try:
        address = IPv4Address(text)
    except ValueError as error:
        raise InputError(
            f"invalid address {text!r}", fix="pass an IPv4 address such as 10.251.7.11"
        ) from error
    host = int(address) - int(subnet.network_address)
    if address not in subnet or host in (0, 1, 255):
        raise InputError(
            f"address {address} is not a node address of {subnet}",
            fix=f"pick an address from {subnet[2]} to {subnet[254]} (.1 is the host side)",
        )
    return address


def host_number(address: IPv4Address, subnet: IPv4Network) -> int:
    """Return the host part of a node address, used as the node's index for simulated hardware."""
    return int(address) - int(subnet.network_address)


def bridge_name(cluster: str) -> str:
    """Name of the cluster's Linux bridge (15 characters at most, as the kernel requires)."""
    return "gfb" + _digest(cluster)[:11]


def veth_names(cluster: str, node: str) -> tuple[str, str]:
    """Host-side and temporary node-side veth names of a node (the node side is renamed eth0)."""
    tag = _digest(cluster, node)[:11]
    return "gfv" + tag, "gfp" + tag


def pool_node_name(cluster: str, pool: str, index: int) -> str:
    """Name of the index-th node of a pool, as `fleet up` creates them."""
    return check_name("node", f"{cluster}-{pool}-{index}")
