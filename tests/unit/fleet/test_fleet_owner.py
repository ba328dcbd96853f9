"""A cluster belongs to the deployment that created it: a name clash cannot take or destroy it.

The records are written as the fleet writes them; no node is started (the refusals come first).
"""

from __future__ import annotations

import os
import secrets
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from gpuforge.errors import InputError
from gpuforge.fleet import ClusterOwnedError, ClusterOwner, Fleet, NodeSpec
from gpuforge.fleet._naming import bridge_name
from gpuforge.fleet._state import ClusterRecord, NodeRecord, StateStore
from gpuforge.ops import CLUSTER_ID_FILE, deployment_owner

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="node-up/node-down need root")

SUBNET = "10.251.77.0/24"
FIRST = ClusterOwner("a" * 32, "/srv/first/.deploy/clash")
SECOND = ClusterOwner("b" * 32, "/srv/second/.deploy/clash")


@pytest.fixture
def cluster() -> str:
    """A cluster name of this test's own, so its bridge name is no one else's."""
    return f"own-{secrets.token_hex(4)}"


def _recorded(state: Path, cluster: str, owner: ClusterOwner | None) -> StateStore:
    """A cluster as the fleet records it (created by `owner`) with one stopped node."""
    store = StateStore(state)
    record = ClusterRecord(cluster, SUBNET, bridge_name(cluster))
    if owner is not None:
        record = ClusterRecord(
            cluster, SUBNET, bridge_name(cluster), owner.cluster_id, owner.deployment
        )
    store.put_cluster(record)
    node = NodeRecord("h100-0", cluster, "h100", "hgx-h100-8", "10.251.77.11", SUBNET)
    node.state = "stopped"
    store.put_node(node)
    return store


def test_a_cluster_created_by_another_deployment_is_refused(tmp_path: Path, cluster: str) -> None:
    _recorded(tmp_path, cluster, FIRST)
    fleet = Fleet(tmp_path, seed_hardware=False)
    with pytest.raises(ClusterOwnedError) as caught:
        fleet.check_owner(cluster, SECOND)
    error = caught.value
    assert error.exit_code == 2
    assert FIRST.deployment in error.message and SECOND.deployment in error.message
    assert "`name:`" in error.fix
    assert f"`gpuforge fleet down --cluster {cluster}`" in error.fix
    fleet.check_owner(cluster, FIRST)
    fleet.check_owner("not-recorded", SECOND)


def test_a_deployment_without_an_id_may_not_use_an_owned_cluster(
    tmp_path: Path, cluster: str
) -> None:
    _recorded(tmp_path, cluster, FIRST)
    with pytest.raises(ClusterOwnedError):
        Fleet(tmp_path, seed_hardware=False).check_owner(cluster, None)


def test_the_first_deployment_claims_a_cluster_started_without_an_owner(
    tmp_path: Path, cluster: str
) -> None:
    store = _recorded(tmp_path, cluster, None)
    fleet = Fleet(tmp_path, seed_hardware=False)
    fleet.check_owner(cluster, SECOND)
    fleet.claim(cluster, FIRST)
    claimed = store.get_cluster(cluster)
    assert claimed is not None
    assert (claimed.cluster_id, claimed.deployment) == (FIRST.cluster_id, FIRST.deployment)
    with pytest.raises(ClusterOwnedError):
        fleet.claim(cluster, SECOND)


@needs_root
def test_node_up_for_another_deployment_starts_nothing(tmp_path: Path, cluster: str) -> None:
    store = _recorded(tmp_path, cluster, FIRST)
    spec = NodeSpec(
        cluster, "h100-1", IPv4Address("10.251.77.12"), IPv4Network(SUBNET), "hgx-h100-8",
        "h100", SECOND,
    )  # fmt: skip
    with pytest.raises(ClusterOwnedError):
        Fleet(tmp_path, seed_hardware=False).node_up(spec)
    assert [n.name for n in store.nodes(cluster)] == ["h100-0"]


@needs_root
def test_node_down_for_another_deployment_removes_nothing(tmp_path: Path, cluster: str) -> None:
    store = _recorded(tmp_path, cluster, FIRST)
    with pytest.raises(ClusterOwnedError):
        Fleet(tmp_path, seed_hardware=False).node_down(cluster, "h100-0", SECOND)
    assert [n.name for n in store.nodes(cluster)] == ["h100-0"]


def test_a_record_from_before_owners_still_loads(tmp_path: Path, cluster: str) -> None:
    folder = tmp_path / "clusters" / cluster
    folder.mkdir(parents=True)
    (folder / "cluster.json").write_text(
        f'{{"name": "{cluster}", "subnet": "{SUBNET}", "bridge": "gfbx"}}\n'
    )
    assert StateStore(tmp_path).get_cluster(cluster) == ClusterRecord(cluster, SUBNET, "gfbx")


def test_a_deployment_keeps_one_cluster_id(tmp_path: Path) -> None:
    assert deployment_owner(tmp_path, create=False) is None
    first = deployment_owner(tmp_path, create=True)
    assert first is not None and len(first.cluster_id) == 32
    assert first.deployment == str(tmp_path)
    assert deployment_owner(tmp_path, create=True) == first
    assert deployment_owner(tmp_path, create=False) == first


def test_a_corrupt_cluster_id_exits_2_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / CLUSTER_ID_FILE).write_text("not-an-id\n")
    with pytest.raises(InputError) as caught:
        deployment_owner(tmp_path, create=True)
    assert caught.value.exit_code == 2
    assert str(tmp_path / CLUSTER_ID_FILE) in caught.value.message
