"""A Slurm cluster's deployment-side parts (issue 18): one MUNGE key per deployment, made once,
mode 0400; the controller host from `scheduler.controller`; drains refuse unknown node names."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gpuforge.errors import InputError
from gpuforge.ops import MUNGE_KEY_FILE, Deployment, SlurmDrainer, controller_host, ensure_munge_key
from gpuforge.ops._drain import DrainError, drainer_for
from gpuforge.ops._slurm import slurm_host_vars
from gpuforge.provision import NodeRecord, build_inventory, inventory_yaml
from gpuforge.spec import ClusterSpec, load_spec_text

HEAD = "apiVersion: gpuforge/v1\nkind: Cluster\nname: demo\ntarget: local\n"
POOLS = "pools:\n  a: {gpu: H100:8, count: 12}\n  b: {gpu: H100:8, count: 2}\n"
NODES = {f"demo-a-{i}": "a" for i in (10, 2, 0, 1)} | {"demo-b-0": "b", "demo-b-1": "b"}


def _spec(scheduler: str) -> ClusterSpec:
    return load_spec_text(HEAD + POOLS + scheduler, "cluster.yaml").spec


def test_munge_key_is_made_once_private_and_random(tmp_path: Path) -> None:
    path = ensure_munge_key(tmp_path)

    assert path == tmp_path / MUNGE_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o400
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    key = path.read_bytes()
    assert len(key) == 128 and len(set(key)) > 64
    assert ensure_munge_key(tmp_path).read_bytes() == key  # kept, never made again
    (tmp_path / "other").mkdir()
    assert ensure_munge_key(tmp_path / "other").read_bytes() != key


def test_munge_key_through_a_symlink_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    os.symlink(tmp_path / "elsewhere", tmp_path / MUNGE_KEY_FILE)

    with pytest.raises(InputError, match="not a regular file"):
        ensure_munge_key(tmp_path)
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.parametrize(
    ("scheduler", "controller"),
    [
        ("scheduler: {kind: slurm}\n", "demo-a-0"),
        ("scheduler: {kind: slurm, controller: b}\n", "demo-b-0"),
        ("scheduler: {kind: slurm, controller: demo-a-10}\n", "demo-a-10"),
    ],
)
def test_controller_is_the_named_node_or_the_pools_first(scheduler: str, controller: str) -> None:
    assert controller_host(_spec(scheduler), NODES) == controller


def test_host_vars_only_for_a_slurm_cluster(tmp_path: Path) -> None:
    assert slurm_host_vars(_spec(""), tmp_path, NODES) == {}
    assert not (tmp_path / MUNGE_KEY_FILE).exists()

    values = slurm_host_vars(_spec("scheduler: {kind: slurm, controller: b}\n"), tmp_path, NODES)
    assert set(values) == set(NODES)
    assert values["demo-a-2"] == {
        "slurm_controller": "demo-b-0",
        "slurm_munge_key_file": str(tmp_path / MUNGE_KEY_FILE),
    }


@pytest.mark.parametrize("node", ["demo-a-9", "demo-a-0; touch /tmp/x", "-demo-a-0"])
def test_drain_refuses_a_node_the_inventory_does_not_list(node: str) -> None:
    hosts = {"demo-a-0": {"ansible_host": "192.0.2.1"}, "-demo-a-0": {}}
    drainer = SlurmDrainer("demo-a-0", hosts)

    with pytest.raises(DrainError) as caught:
        drainer.drain([node], reason="x", timeout_s=1, force=False)
    assert "in the inventory" in caught.value.message
    assert "demo-a-0" in caught.value.fix


def test_a_slurm_cluster_drains_through_its_controller(tmp_path: Path) -> None:
    nodes = [
        NodeRecord(name, f"10.0.0.{i}", pool, "H100", 8, "", "", "")
        for i, (name, pool) in enumerate(sorted(NODES.items()))
    ]
    inventory = Deployment(tmp_path).inventory
    inventory.parent.mkdir(parents=True)
    inventory.write_text(inventory_yaml(build_inventory(nodes)))

    drainer = drainer_for(_spec("scheduler: {kind: slurm, controller: b}\n"), Deployment(tmp_path))

    assert isinstance(drainer, SlurmDrainer)
    assert drainer.controller == "demo-b-0"
    assert drainer.hosts["demo-b-0"]["ansible_host"] == "10.0.0.4"
