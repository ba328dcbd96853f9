"""Changing a live cluster on the local fleet (issue 18): `plan` on a converged cluster, a driver
branch change through `up` and back, and `scale` 4 -> 6 -> 3 with drain, an unhealthy node first.

One cluster for the module: pool `drv` (1 node, pinned to R570 by its own software override) and
pool `gpu` (4 nodes). Each test changes one pool and leaves the cluster as it found it (spec,
lock and nodes), so the tests run in any order.
"""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from test_up import Cluster, _make_cluster, pytestmark  # noqa: F401

from gpuforge.ops import Deployment, lock_digest, node_locks, previous_lock

SPEC = """\
apiVersion: gpuforge/v1
kind: Cluster
name: it-live
target: local
pools:
  drv:
    count: 1
    gpu: {{model: H100, count: 8}}
    software: {{driver: "570"}}
  gpu:
    count: 4
    gpu: {{model: H100, count: 8}}
fabric: {{type: infiniband}}
software: {{os: debian-12, driver: "580", cuda: "12.8", nccl: auto, cudnn: auto}}
validation: {{dcgm_level: 1, nccl_min_busbw_gbps: 200}}
rollout:
  drain_command: ["{recorder}", "drain", "{{node}}"]
  undrain_command: ["{recorder}", "undrain", "{{node}}"]
"""

RECORDER = """\
#!/bin/sh
# Appends "<action> <node> <time>" for every drain and undrain gpuforge asks for.
printf '%s %s %s\\n' "$1" "$2" "$(date +%s.%N)" >> "{log}"
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The cluster, up once for the module (R570 on drv-0, 4 gpu nodes); destroyed after."""
    base = tmp_path_factory.mktemp("live")
    made = _make_cluster(base, "one-pool.yaml", "it-live")
    recorder = made.spec.parent / "recorder.sh"
    recorder.write_text(RECORDER.format(log=made.spec.parent / "drains.log"))
    recorder.chmod(recorder.stat().st_mode | stat.S_IXUSR)
    text = SPEC.format(recorder=recorder).replace("name: it-live", f"name: {made.name}")
    made.spec.write_text(text)
    try:
        rc, payload = made.json("up", str(made.spec))
        assert rc == 0, json.dumps(payload)[-4000:]
        yield made
    finally:
        made.teardown()


def _drains(cluster: Cluster) -> list[tuple[str, str, float]]:
    log = cluster.spec.parent / "drains.log"
    if not log.exists():
        return []
    return [(a, n, float(t)) for a, n, t in (line.split() for line in log.read_text().splitlines())]


def _set(cluster: Cluster, pattern: str, replacement: str) -> None:
    text = cluster.spec.read_text()
    changed = re.sub(pattern, replacement, text, count=1, flags=re.M)
    assert changed != text, pattern
    cluster.spec.write_text(changed)


def _installed(cluster: Cluster, node: str, package: str) -> list[str]:
    query = f"dpkg-query -W -f '${{Version}} ${{db:Status-Want}}' {package}"
    return cluster.ssh(node, query).split()


def _why(payload: dict[str, Any]) -> str:
    """What made `up` fail: configure failures and the readiness findings (not the whole JSON)."""
    report = payload.get("report") or {}
    failures = {n["name"]: n.get("failure") for n in payload.get("nodes", []) if n.get("failure")}
    unready = [n for n in report.get("nodes", []) if n.get("verdict") != "ready"]
    rest = {k: v for k, v in payload.items() if k not in {"nodes", "report", "plans"}}
    why = {"failures": failures, "findings": report.get("findings"), "unready": unready}
    why["rest"] = rest
    return json.dumps(why)[-6000:]


def _plan(cluster: Cluster, *argv: str) -> dict[str, Any]:
    """`plan --json` started as `argv` (an interpreter with -m, or the console script)."""
    done = subprocess.run(
        [*argv, "plan", str(cluster.spec), "--json"],
        env=cluster.env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    body: dict[str, Any] = json.loads(done.stdout)["result"]
    return body


def test_a_converged_cluster_plans_no_change_whichever_way_gpuforge_starts(
    cluster: Cluster,
) -> None:
    """`python -m gpuforge plan` and the console script `gpuforge plan` both find nothing to do:
    no Terraform change (no node replaced), no drift, no lock change."""
    console_script = str(Path(sys.executable).parent / "gpuforge")
    for argv in ([sys.executable, "-m", "gpuforge"], [console_script]):
        result = _plan(cluster, *argv)
        assert result["live"] is True
        assert result["plans"]["local"]["totals"]["replace"] == 0, result["plans"]
        assert not [c for c in result["plans"]["local"]["changes"] if c["action"] != "no-op"]
        assert result["drift"]["drifted"] == [] and result["drift"]["unreachable"] == {}
        assert result["changes"]["changes"] == [], result["changes"]
    on = node_locks(Deployment(cluster.deployment))
    assert set(on) >= {"drv-0", "gpu-0", "gpu-1", "gpu-2", "gpu-3"}


def test_a_driver_branch_change_goes_through_up_and_back(cluster: Cluster) -> None:
    """drv-0 on R570 -> R580 -> R570 with `lock` then `up`: the held packages of one branch are
    replaced by the other's (holds released and re-applied in one transaction), every time."""
    deployment = Deployment(cluster.deployment)
    assert _installed(cluster, "drv-0", "nvidia-smi") == [
        "570.172.08-1",
        "hold",
    ]
    r570 = node_locks(deployment)["drv-0"].digest
    try:
        _set(cluster, r'driver: "570"', 'driver: "580"')
        assert cluster.run("lock", str(cluster.spec)).returncode == 0
        planned = _plan(cluster, sys.executable, "-m", "gpuforge")["changes"]
        driver = [c for c in planned["changes"] if c["item"] == "driver"]
        assert [(c["pool"], c["policy"], c["needs_reboot"], c["nodes"]) for c in driver] == [
            ("drv", "rolling", True, ["drv-0"])
        ]
        rc, payload = cluster.json("up", str(cluster.spec))
        assert rc == 0, _why(payload)
        assert _installed(cluster, "drv-0", "nvidia-smi") == [
            "580.95.05-1",
            "hold",
        ]
        smi = cluster.ssh("drv-0", "nvidia-smi --query-gpu=driver_version --format=csv,noheader")
        assert set(smi.split()) == {"580.95.05"}
        assert node_locks(deployment)["drv-0"].digest == lock_digest(
            cluster.spec.with_suffix(".lock").read_text()
        )
        before = previous_lock(deployment)
        assert before is not None and before.digest == r570
    finally:
        _set(cluster, r'driver: "580"', 'driver: "570"')
        assert cluster.run("lock", str(cluster.spec)).returncode == 0
        rc, payload = cluster.json("up", str(cluster.spec))
    assert rc == 0, _why(payload)
    assert _installed(cluster, "drv-0", "nvidia-smi") == [
        "570.172.08-1",
        "hold",
    ]
    assert node_locks(deployment)["drv-0"].digest == r570


def _scale(cluster: Cluster, count: int) -> dict[str, Any]:
    """Set pool gpu's count in the spec, then `scale --yes`."""
    _set(cluster, r"^(  gpu:\n    count: )\d+$", rf"\g<1>{count}")
    rc, payload = cluster.json("scale", str(cluster.spec), "--yes")
    assert rc == 0, _why(payload)
    return payload


def test_scale_adds_and_removes_only_the_delta_and_drains_first(cluster: Cluster) -> None:
    """4 -> 6: Terraform creates 2 and touches no other node; only the new nodes are configured
    and validated, then undrained. An XID on gpu-1, found by `validate`; 6 -> 3: gpu-1 (not
    ready) and the 2 highest are drained, then destroyed, and gpu-3 stays. 3 -> 4 puts a new
    gpu-1 back (the lowest free index)."""
    try:
        grown = _scale(cluster, 6)
        totals = grown["plans"]["local"]["totals"]
        assert (totals["create"], totals["replace"], totals["delete"], totals["update"]) == (
            2,
            0,
            0,
            0,
        )
        assert grown["added"] == ["gpu-4", "gpu-5"] and grown["removed"] == []
        assert sorted(grown["configure"]["hosts"]) == ["gpu-4", "gpu-5"]
        assert sorted(n["host"] for n in grown["report"]["nodes"]) == ["gpu-4", "gpu-5"]
        assert all(n["verdict"] == "ready" for n in grown["report"]["nodes"])
        assert [(a, n) for a, n, _ in _drains(cluster)][-2:] == [
            ("undrain", "gpu-4"),
            ("undrain", "gpu-5"),
        ]

        injected = cluster.fleet("inject", "gpu-1", "xid", "--gpu", "0", "--code", "79")
        assert injected.returncode == 0, injected.stderr
        rc, report = cluster.json("validate", str(cluster.spec))
        verdicts = {n["host"]: n["verdict"] for n in report["nodes"]}
        assert rc == 1 and verdicts["gpu-1"] == "not-ready" and verdicts["gpu-5"] == "ready"

        shrunk = _scale(cluster, 3)
        totals = shrunk["plans"]["local"]["totals"]
        assert (totals["create"], totals["replace"], totals["delete"], totals["update"]) == (
            0,
            0,
            3,
            0,
        )
        assert shrunk["removed"] == ["gpu-1", "gpu-4", "gpu-5"] and shrunk["added"] == []
        drained = [(n, t) for a, n, t in _drains(cluster) if a == "drain"]
        assert [n for n, _ in drained][-3:] == ["gpu-1", "gpu-4", "gpu-5"]
        applied = next(
            json.loads(line)
            for line in reversed(cluster.journal.read_text().splitlines())
            if '"scale:apply"' in line
        )
        applied_at = datetime.fromisoformat(applied["ts"]).timestamp()
        assert all(t < applied_at for _, t in drained[-3:]), "drained before Terraform destroyed"
        names = sorted(n["name"] for n in cluster.nodes())
        assert names == ["drv-0", "gpu-0", "gpu-2", "gpu-3"]
    finally:
        # The report of the injected fault is this test's: without it the cluster's nodes are
        # judged by the next `up` or `validate` alone.
        Deployment(cluster.deployment).report_json.unlink(missing_ok=True)
        if any(n["name"] == "gpu-1" for n in cluster.nodes()):
            cluster.fleet("heal", "gpu-1")
            cluster.ssh("gpu-1", "gpuforge-sim-reboot")
        if "  gpu:\n    count: 4\n" not in cluster.spec.read_text():
            _scale(cluster, 4)
    names = sorted(n["name"] for n in cluster.nodes())
    assert names == ["drv-0", "gpu-0", "gpu-1", "gpu-2", "gpu-3"]
