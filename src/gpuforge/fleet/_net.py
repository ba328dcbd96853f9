"""Host networking of a cluster: one bridge per cluster and one veth pair per node."""

from __future__ import annotations

from ipaddress import IPv4Network
from pathlib import Path

from gpuforge.errors import FleetError
from gpuforge.fleet._proc import run_host


def link_exists(name: str) -> bool:
    """Whether a network interface of this name exists in the host's namespace."""
    return Path(f"/sys/class/net/{name}").exists()


def ensure_bridge(name: str, subnet: IPv4Network) -> None:
    """Create the cluster bridge with the host side at .1 of the subnet; no route or NAT out."""
    gateway = f"{subnet[1]}/{subnet.prefixlen}"
    if not link_exists(name):
        run_host(
            ["ip", "link", "add", name, "type", "bridge"],
            what=f"creating bridge {name}",
            fix="the kernel needs bridge support (CONFIG_BRIDGE): `modprobe bridge`",
        )
    addresses = run_host(["ip", "-o", "-4", "addr", "show", "dev", name], what="reading bridge")
    if gateway not in addresses:
        run_host(["ip", "addr", "add", gateway, "dev", name], what=f"addressing bridge {name}")
    # Packets from nodes are never routed on, even where the host forwards for others.
    Path(f"/proc/sys/net/ipv4/conf/{name}/forwarding").write_text("0\n")
    run_host(["ip", "link", "set", name, "up"], what=f"raising bridge {name}")


def delete_link(name: str) -> None:
    """Delete a bridge or veth if it exists (deleting one end of a veth deletes both)."""
    if not link_exists(name):
        return
    try:
        run_host(["ip", "link", "del", name], what=f"deleting interface {name}")
    except FleetError:
        if link_exists(name):
            raise


def create_veth(host_side: str, node_side: str, bridge: str, node_mac: str) -> None:
    """Create a node's veth pair (the node end with its own fixed MAC) and plug the host side
    into the cluster bridge."""
    delete_link(host_side)
    delete_link(node_side)
    pair = ["type", "veth", "peer", "name", node_side, "address", node_mac]
    run_host(
        ["ip", "link", "add", host_side, *pair],
        what=f"creating veth {host_side}",
        fix="the kernel needs veth support (CONFIG_VETH): `modprobe veth`",
    )
    run_host(
        ["ip", "link", "set", host_side, "master", bridge, "up"],
        what=f"plugging {host_side} into {bridge}",
    )


def move_into_node(node_side: str, netns_pid: int, address: str, prefixlen: int) -> None:
    """Move the node end into the node's network namespace as eth0 with its address; lo up."""
    run_host(
        ["ip", "link", "set", node_side, "netns", str(netns_pid)],
        what=f"moving {node_side} into the node",
    )
    script = (
        f"link set {node_side} name eth0\n"
        f"addr add {address}/{prefixlen} dev eth0\n"
        "link set eth0 up\n"
        "link set lo up\n"
    )
    run_host(
        ["nsenter", "-t", str(netns_pid), "-n", "ip", "-batch", "-"],
        input_text=script,
        what="configuring the node's network",
    )
