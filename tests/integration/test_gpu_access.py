"""GPU devices only for a group on a fleet node (issue 24): with security.gpu_group and gpu_users,
`up` leaves every /dev/nvidia* root:<group> 0660, the udev rule in place and the users in it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from test_up import Cluster, _make_cluster, pytestmark  # noqa: F401  (same markers and skips)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A one-node cluster whose GPUs are for group gpu (user alice); destroyed at the end."""
    made = _make_cluster(tmp_path_factory.mktemp("gpu-access"), "one-pool.yaml", "it-gpuaccess")
    text = made.spec.read_text(encoding="utf-8").replace("count: 2\n", "count: 1\n", 1)
    made.spec.write_text(text + "security: {gpu_group: gpu, gpu_users: [alice]}\n")
    try:
        rc, payload = made.json("up", str(made.spec))
        assert rc == 0, json.dumps(payload, indent=1)[-4000:]
        yield made
    finally:
        made.teardown()


def test_gpu_device_files_belong_to_the_group(cluster: Cluster) -> None:
    node = cluster.nodes()[0]["name"]
    listing = cluster.ssh(node, "stat -c '%n %a %U %G' /dev/nvidia*").splitlines()
    assert listing, "the node has GPU device files"
    for line in listing:
        _, mode, owner, group = line.split()
        assert (mode, owner, group) == ("660", "root", "gpu"), line
    assert "gpu" in cluster.ssh(node, "id -nG alice").split()
    rule = cluster.ssh(node, "cat /etc/udev/rules.d/70-gpuforge-gpu-access.rules")
    assert 'KERNEL=="nvidia*", OWNER="root", GROUP="gpu", MODE="0660"' in rule
