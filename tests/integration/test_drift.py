"""`gpuforge drift` on the local fleet (issue 17): one test per drift kind, on one shared cluster.

Each test changes one node behind Ansible's back (`gpuforge fleet ssh`), then checks that
`drift` reports the item with its code on that node only, that `drift --fix` runs the owning
roles on that node only (changed > 0 there, no other node touched) and probes again with no
drift left, and that the next `drift` exits 0.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from test_up import Cluster, _make_cluster, pytestmark  # noqa: F401

DRIFTED = {"h100": "h100-0", "a100": "a100-0"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The drift cluster, brought up once for every test of the module and destroyed after."""
    made = _make_cluster(tmp_path_factory.mktemp("drift"), "drift.yaml", "it-drift")
    try:
        rc, payload = made.json("up", str(made.spec))
        assert rc == 0, str(payload)[-3000:]
        rc, payload = made.json("drift", str(made.spec))
        assert rc == 0 and payload["drift"]["drifted"] == [], payload
        yield made
    finally:
        made.teardown()


@pytest.fixture(autouse=True)
def converged(cluster: Cluster) -> Iterator[None]:
    """After each test the cluster is converged again, so a failed test leaves no drift behind."""
    yield
    rc, _ = cluster.json("drift", str(cluster.spec))
    if rc != 0:
        cluster.json("drift", str(cluster.spec), "--fix")


def _drift_fixed(cluster: Cluster, node: str, codes: set[str], roles: set[str]) -> None:
    rc, payload = cluster.json("drift", str(cluster.spec))
    assert rc == 1, payload
    found = payload["drift"]
    assert found["drifted"] == [node], found
    assert {d["code"] for d in found["drifts"]} == codes, found["drifts"]
    assert set(found["roles"][node]) == roles, found["roles"]
    rc, payload = cluster.json("drift", str(cluster.spec), "--fix")
    assert rc == 0, payload
    hosts = payload["fix"]["hosts"]
    assert list(hosts) == [node], hosts
    assert hosts[node]["changed"] > 0, hosts
    assert payload["after"]["drifted"] == [], payload["after"]
    rc, payload = cluster.json("drift", str(cluster.spec))
    assert rc == 0, payload


def test_held_package_moved_to_another_version(cluster: Cluster) -> None:
    """libnccl2 and libnccl-dev downgraded (or upgraded) from the stand-in repository."""
    node = DRIFTED["h100"]
    now = cluster.ssh(node, "dpkg-query -W -f '${Version}' libnccl2").strip()
    offered = cluster.ssh(node, "apt-cache madison libnccl2 | cut -d'|' -f2").split()
    suffix = now.split("+", 1)[1]
    other = next(v for v in offered if v != now and v.endswith("+" + suffix))
    cluster.ssh(
        node,
        "apt-get install -y -q --allow-downgrades --allow-change-held-packages "
        f"libnccl2={other} libnccl-dev={other}",
    )
    _drift_fixed(cluster, node, {"GF-DRIFT-001"}, {"nvidia_repo", "nccl"})


def test_hold_removed(cluster: Cluster) -> None:
    """`apt-mark unhold` on a package the lock holds."""
    node = DRIFTED["h100"]
    cluster.ssh(node, "apt-mark unhold libnccl2")
    _drift_fixed(cluster, node, {"GF-DRIFT-002"}, {"nccl"})


def test_service_stopped_and_disabled(cluster: Cluster) -> None:
    """A managed service stopped and disabled."""
    node = DRIFTED["h100"]
    cluster.ssh(node, "systemctl stop nvidia-dcgm && systemctl disable nvidia-dcgm")
    _drift_fixed(cluster, node, {"GF-DRIFT-003", "GF-DRIFT-004"}, {"dcgm"})


def test_nccl_environment_edited(cluster: Cluster) -> None:
    """A line added to the NCCL environment file."""
    node = DRIFTED["h100"]
    cluster.ssh(node, "echo NCCL_DEBUG=INFO >> /etc/nccl.conf")
    _drift_fixed(cluster, node, {"GF-DRIFT-005"}, {"nccl"})


def test_power_limit_changed_on_one_gpu(cluster: Cluster) -> None:
    """`nvidia-smi -pl` on one GPU."""
    node = DRIFTED["h100"]
    cluster.ssh(node, "nvidia-smi -i 3 -pl 500")
    rc, payload = cluster.json("drift", str(cluster.spec), "--limit", "h100-1,a100-0")
    assert rc == 0 and payload["drift"]["nodes"] == ["a100-0", "h100-1"], payload
    _drift_fixed(cluster, node, {"GF-DRIFT-008"}, {"gpu_tuning"})


def test_persistence_mode_off(cluster: Cluster) -> None:
    """`nvidia-smi -pm 0` on every GPU."""
    node = DRIFTED["h100"]
    cluster.ssh(node, "nvidia-smi -pm 0")
    _drift_fixed(cluster, node, {"GF-DRIFT-007"}, {"gpu_tuning"})


def test_mig_layout_changed(cluster: Cluster) -> None:
    """The MIG instances of one GPU destroyed and recreated with another profile."""
    node = DRIFTED["a100"]
    cluster.ssh(node, "nvidia-smi mig -i 0 -dci; nvidia-smi mig -i 0 -dgi")
    cluster.ssh(node, "nvidia-smi mig -i 0 -cgi 1g.10gb -C")
    _drift_fixed(cluster, node, {"GF-DRIFT-010"}, {"mig"})


def test_node_rebooted(cluster: Cluster) -> None:
    """A simulated power cycle: GPU settings reset, MIG instances gone, daemons stopped."""
    node = DRIFTED["a100"]
    cluster.ssh(node, "gpuforge-sim-reboot")
    rc, payload = cluster.json("drift", str(cluster.spec))
    assert rc == 1 and payload["drift"]["drifted"] == [node], payload
    codes = {d["code"] for d in payload["drift"]["drifts"]}
    assert {"GF-DRIFT-007", "GF-DRIFT-009", "GF-DRIFT-010"} <= codes, codes
    assert "gpu_tuning" in payload["drift"]["roles"][node]
    rc, payload = cluster.json("drift", str(cluster.spec), "--fix")
    assert rc == 0, payload
    assert list(payload["fix"]["hosts"]) == [node]
    assert payload["fix"]["hosts"][node]["changed"] > 0
    rc, payload = cluster.json("drift", str(cluster.spec))
    assert rc == 0, payload


def _decisions(cluster: Cluster) -> dict[str, str]:
    """The per-node decisions of the latest `up` (its journal's up:converge record)."""
    lines = cluster.journal.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if '"up:converge"' in line]
    return dict(records[-1]["decisions"])


def _playbooks(cluster: Cluster) -> list[str]:
    """The Ansible runs of the latest `up`, in order (its journal's started records)."""
    lines = cluster.journal.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    start = max(i for i, r in enumerate(records) if r["step"] == "up:check")
    return [r["step"] for r in records[start:] if r["status"] == "started" and "playbook" in r]


def test_up_converges_through_the_probe(cluster: Cluster) -> None:
    """`up` again: converged nodes skip configure, a drifted node runs only the roles that own
    its drift (a file of a role's file list, one the MIG role writes in its boot tasks, the CDI
    spec nvidia-ctk makes on the node). The probe collects the converged nodes' validation
    facts, so no validate playbook runs after it."""
    rc, payload = cluster.json("up", str(cluster.spec))
    assert rc == 0, str(payload)[-3000:]
    assert set(_decisions(cluster).values()) == {"no drift: skipped"}
    assert all(node["changed"] == 0 and node["roles"] == [] for node in payload["nodes"])
    assert _playbooks(cluster) == ["probe"]
    assert all(node["ready"] for node in payload["nodes"]), payload["nodes"]

    # A file of a role's file list, one the MIG role writes in its boot tasks, and the CDI spec
    # (its content made on the node by nvidia-ctk).
    h100, a100, mig_config = DRIFTED["h100"], DRIFTED["a100"], "/etc/gpuforge/mig-config.yaml"
    cluster.ssh(h100, "echo NCCL_DEBUG=INFO >> /etc/nccl.conf")
    cluster.ssh(h100, "echo '# edited by hand' >> /etc/cdi/nvidia.yaml")
    cluster.ssh(a100, f"echo '# edited by hand' >> {mig_config}")
    rc, payload = cluster.json("drift", str(cluster.spec))
    assert rc == 1, payload
    assert sorted(
        (d["node"], d["code"], d["item"], d["role"]) for d in payload["drift"]["drifts"]
    ) == [
        (a100, "GF-DRIFT-005", mig_config, "mig"),
        (h100, "GF-DRIFT-005", "/etc/cdi/nvidia.yaml", "container_toolkit"),
        (h100, "GF-DRIFT-005", "/etc/nccl.conf", "nccl"),
    ]
    rc, payload = cluster.json("up", str(cluster.spec))
    assert rc == 0, str(payload)[-3000:]
    decisions = _decisions(cluster)
    assert decisions.pop(h100) == "drift: nccl, container_toolkit, gpu_validation"
    assert decisions.pop(a100) == "drift: mig, gpu_validation"
    assert set(decisions.values()) == {"no drift: skipped"}
    assert _playbooks(cluster) == ["probe", "playbook:site"]
    changed = {n["name"]: n["changed"] for n in payload["nodes"]}
    assert changed.pop(h100) > 0 and changed.pop(a100) > 0 and set(changed.values()) == {0}
    rc, payload = cluster.json("drift", str(cluster.spec))
    assert rc == 0, payload


def test_up_runs_every_role_on_a_new_node(cluster: Cluster) -> None:
    """A node added to a pool runs every role; the converged ones are skipped."""
    text = cluster.spec.read_text(encoding="utf-8")
    cluster.spec.write_text(text.replace("count: 1\n", "count: 2\n", 1), encoding="utf-8")
    rc, payload = cluster.json("up", str(cluster.spec))
    assert rc == 0, str(payload)[-3000:]
    decisions = _decisions(cluster)
    assert decisions.pop("a100-1") == "new: every role"
    assert set(decisions.values()) == {"no drift: skipped"}
    roles = {n["name"]: n["roles"] for n in payload["nodes"]}
    assert "mig" in roles["a100-1"] and "nvidia_driver" in roles["a100-1"]
