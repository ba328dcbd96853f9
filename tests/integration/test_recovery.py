"""Disaster recovery on the local fleet (issue 24): a lost deployment folder restored from a
backup leaves the cluster converged, and a lost cluster is rebuilt from the spec and lock alone.

One one-node cluster, shared by the two tests (each leaves it converged, so they run in any
order) and destroyed by its fixture's finalizer. The rebuild test also proves that `destroy`
leaves nothing of the cluster on the host.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_up import Cluster, _make_cluster, pytestmark  # noqa: F401  (same markers and skips)

from gpuforge.fleet._naming import bridge_name, veth_names
from gpuforge.fleet._proc import alive


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A one-node cluster brought up from nothing; destroyed at the end of the module."""
    made = _make_cluster(tmp_path_factory.mktemp("recovery"), "one-pool.yaml", "it-recovery")
    made.spec.write_text(
        made.spec.read_text(encoding="utf-8").replace("count: 2\n", "count: 1\n", 1),
        encoding="utf-8",
    )
    try:
        rc, payload = made.json("up", str(made.spec))
        assert rc == 0, json.dumps(payload, indent=1)[-4000:]
        yield made
    finally:
        made.teardown()


def test_deleted_deployment_folder_restored_from_a_backup_is_converged(cluster: Cluster) -> None:
    """Back up, delete the deployment folder (not the nodes), restore: validate passes and
    `drift` finds every node as the spec and lock want it."""
    archive = cluster.spec.parent / "backup.tar.gz"
    rc, payload = cluster.json("backup", str(cluster.spec), "-o", str(archive))
    assert rc == 0, payload
    shutil.rmtree(cluster.deployment)

    rc, payload = cluster.json("restore", str(cluster.spec), str(archive))
    assert rc == 0, payload
    assert (cluster.deployment / "terraform" / "local" / "terraform.tfstate").is_file()

    rc, payload = cluster.json("validate", str(cluster.spec))
    assert rc == 0, json.dumps(payload, indent=1)[-4000:]
    rc, payload = cluster.json("drift", str(cluster.spec))
    assert rc == 0, json.dumps(payload, indent=1)[-4000:]


def test_lost_cluster_rebuilt_from_spec_and_lock_alone(cluster: Cluster) -> None:
    """Destroy the nodes and delete the deployment folder: `up` from the spec and its lock (what
    Git holds) brings the cluster back, and validate passes."""
    lock = cluster.spec.with_suffix(".lock").read_text(encoding="utf-8")
    _destroy_leaves_nothing(cluster)
    shutil.rmtree(cluster.deployment)

    rc, payload = cluster.json("up", str(cluster.spec))
    assert rc == 0, json.dumps(payload, indent=1)[-4000:]
    assert payload["plans"]["local"]["totals"]["create"] == 1
    assert cluster.spec.with_suffix(".lock").read_text(encoding="utf-8") == lock
    rc, payload = cluster.json("validate", str(cluster.spec))
    assert rc == 0, json.dumps(payload, indent=1)[-4000:]


def _destroy_leaves_nothing(cluster: Cluster) -> None:
    """`destroy --dry-run` lists the nodes and removes none; `destroy --yes` stops every node:
    no process, link, mount or fleet record is left."""
    before = cluster.nodes()
    pids = [int(n["pid"]) for n in before]
    links = {bridge_name(cluster.name)} | {
        link for n in before for link in veth_names(cluster.name, n["name"])
    }
    assert pids and all(alive(p) for p in pids)
    shown = [
        {"name": n["name"], "pool": n["pool"], "target": "local", "address": n["address"]}
        for n in sorted(before, key=lambda n: n["name"])
    ]

    rc, payload = cluster.json("destroy", str(cluster.spec), "--dry-run")
    assert rc == 0, payload
    assert payload["destroyed"] == [] and payload["dry_run"] is True
    assert payload["nodes"] == shown
    assert all(alive(p) for p in pids)

    rc, payload = cluster.json("destroy", str(cluster.spec), "--yes")
    assert rc == 0, payload
    assert payload == {
        "destroyed": ["local"],
        "dry_run": False,
        "nodes": shown,
        "ok": True,
        "exit_code": 0,
        "notices": [],
    }
    assert cluster.nodes() == []
    assert [p for p in pids if alive(p)] == []
    assert links & {p.name for p in Path("/sys/class/net").iterdir()} == set()
    assert str(cluster.state) not in Path("/proc/mounts").read_text()
    assert not (cluster.state / "clusters" / cluster.name).exists()
