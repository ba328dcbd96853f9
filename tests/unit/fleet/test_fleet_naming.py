"""Deterministic names and addresses of the local fleet."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gpuforge.errors import InputError
from gpuforge.fleet import default_subnet, parse_address, parse_subnet
from gpuforge.fleet._naming import bridge_name, check_name, pool_node_name, veth_names

_names = st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}[a-z0-9]", fullmatch=True)


@given(_names)
def test_default_subnet_is_a_stable_24_inside_the_pool(cluster: str) -> None:
    subnet = default_subnet(cluster)
    assert subnet == default_subnet(cluster)
    assert subnet.prefixlen == 24
    assert subnet.subnet_of(IPv4Network("10.251.0.0/16"))


def test_default_subnet_skips_subnets_other_clusters_use() -> None:
    first = default_subnet("alpha")
    second = default_subnet("alpha", taken=[first])
    assert second != first
    assert second.subnet_of(IPv4Network("10.251.0.0/16"))


def test_default_subnet_fails_clearly_when_the_pool_is_full() -> None:
    every = [IPv4Network(f"10.251.{i}.0/24") for i in range(256)]
    with pytest.raises(InputError, match="every /24"):
        default_subnet("alpha", taken=every)


@given(_names, _names)
def test_interface_names_fit_the_kernel_limit_and_differ(cluster: str, node: str) -> None:
    host, peer = veth_names(cluster, node)
    for name in (host, peer, bridge_name(cluster)):
        assert len(name) <= 15
    assert host != peer
    assert veth_names(cluster, node) == (host, peer)


def test_parse_subnet_wants_a_24() -> None:
    assert parse_subnet("10.251.7.0/24") == IPv4Network("10.251.7.0/24")
    with pytest.raises(InputError, match="not a /24") as caught:
        parse_subnet("10.251.0.0/16")
    assert "10.251.7.0/24" in caught.value.fix
    with pytest.raises(InputError, match="invalid subnet"):
        parse_subnet("10.251.7.5/24")


@pytest.mark.parametrize("text", ["10.251.7.0", "10.251.7.1", "10.251.7.255", "10.251.8.11", "x"])
def test_parse_address_rejects_non_node_addresses(text: str) -> None:
    with pytest.raises(InputError):
        parse_address(text, IPv4Network("10.251.7.0/24"))


def test_parse_address_accepts_a_node_address() -> None:
    net = IPv4Network("10.251.7.0/24")
    assert parse_address("10.251.7.11", net) == IPv4Address("10.251.7.11")


@pytest.mark.parametrize("bad", ["", "Upper", "-lead", "trail-", "a_b", "x" * 64, "a.b"])
def test_check_name_rejects_non_hostnames(bad: str) -> None:
    with pytest.raises(InputError) as caught:
        check_name("node", bad)
    assert "lowercase" in caught.value.fix


def test_pool_node_names_follow_cluster_pool_index() -> None:
    assert pool_node_name("demo", "gpu", 3) == "demo-gpu-3"
