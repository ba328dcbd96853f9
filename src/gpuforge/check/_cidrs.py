"""CIDR blocks as address sets: which whole address spaces a list of blocks covers together.

`0.0.0.0/1` plus `128.0.0.0/1` is the internet as much as `0.0.0.0/0` is; rules and the
renderer judge the union of the blocks, never each block alone.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

__all__ = ["collapse_cidrs", "internet_spaces"]

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_ByFamily = tuple[list[ipaddress.IPv4Network], list[ipaddress.IPv6Network]]


def _networks(cidrs: Iterable[str]) -> _ByFamily:
    v4: list[ipaddress.IPv4Network] = []
    v6: list[ipaddress.IPv6Network] = []
    for cidr in cidrs:
        network: _Network = ipaddress.ip_network(cidr, strict=False)
        if isinstance(network, ipaddress.IPv4Network):
            v4.append(network)
        else:
            v6.append(network)
    return v4, v6


def collapse_cidrs(cidrs: Iterable[str]) -> list[str]:
    """The fewest blocks covering exactly the same addresses (IPv4 first, each family sorted)."""
    v4, v6 = _networks(cidrs)
    return [str(n) for n in ipaddress.collapse_addresses(v4)] + [
        str(n) for n in ipaddress.collapse_addresses(v6)
    ]


def internet_spaces(cidrs: Iterable[str]) -> list[str]:
    """The whole address spaces (`0.0.0.0/0`, `::/0`) the blocks cover together; [] when none."""
    return [cidr for cidr in collapse_cidrs(cidrs) if cidr.endswith("/0")]
