"""`gpuforge upgrade` and `rollback` on the local fleet (issue 18, "Done when").

One H100 cluster (canary 1, batch 25%, max_unavailable 2) is brought up on driver R570 once for
the module: five nodes in CI (waves of 1, 2 and 2), or as many as $GPUFORGE_IT_UPGRADE_NODES
says (8, the issue's size: waves of 1, 2, 2, 2 and 1; it adds about 100 s, which CI's 30 minutes
do not hold). Each test first puts the cluster in the state it starts from (`up` with the R570
spec, or `upgrade` to R580: both change only what differs), so the tests may run in any order:
- a package that fails to install on the second wave's nodes: that wave is rolled back to R570
  and validated, the later waves are never touched, exit 1; healed, `upgrade --resume` brings every
  node to R580, validated, and the journal never shows more than 2 nodes drained at once;
- `rollback` takes the whole cluster from R580 back to R570, in the same waves; Ctrl-C in its
  first wave stops it after that wave (exit 3) and `rollback --resume` finishes.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from test_up import UP_TIMEOUT_S, Cluster, _make_cluster, _payload, pytestmark  # noqa: F401

NODE_COUNT = int(os.environ.get("GPUFORGE_IT_UPGRADE_NODES", "5"))
NODES = [f"h100-{i}" for i in range(NODE_COUNT)]
MAX_UNAVAILABLE = 2
# Canary 1, then batches of 25% of the nodes rounded up, never more than MAX_UNAVAILABLE.
_BATCH = min(math.ceil(NODE_COUNT / 4), MAX_UNAVAILABLE)
WAVES = [NODES[:1]] + [NODES[i : i + _BATCH] for i in range(1, NODE_COUNT, _BATCH)]
FAILING_PACKAGE = "nvidia-driver-580-open"  # NVIDIA's ubuntu2204 name (see the fixture)


def _set_driver(cluster: Cluster, branch: str) -> None:
    text = cluster.spec.read_text(encoding="utf-8")
    cluster.spec.write_text(re.sub(r'driver: "\d+"', f'driver: "{branch}"', text), encoding="utf-8")


def _branches(cluster: Cluster) -> dict[str, str]:
    """Node -> the driver branch dpkg has installed (from the nvidia-utils-NNN package)."""
    found = {}
    for node in NODES:
        out = cluster.ssh(node, "dpkg-query -W -f '${Package} ${Status}\\n' 'nvidia-utils-*'")
        installed = [line.split()[0] for line in out.splitlines() if line.endswith(" installed")]
        assert len(installed) == 1, (node, out)
        found[node] = installed[0].split("-")[2]
    return found


def _journal(cluster: Cluster) -> list[dict[str, Any]]:
    lines = cluster.journal.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _current_run(cluster: Cluster) -> list[dict[str, Any]]:
    records = _journal(cluster)
    starts = [i for i, r in enumerate(records) if r["step"] == "run" and r["status"] == "started"]
    return records[starts[-1] + 1 :]


def _most_drained(records: list[dict[str, Any]], command: str) -> int:
    """The most nodes drained at once, replaying the journal's drained/undrained records."""
    out: set[str] = set()
    most = 0
    events = [r for r in records if r["step"] in (f"{command}:drained", f"{command}:undrained")]
    for record in sorted(events, key=lambda r: datetime.fromisoformat(r["ts"])):
        if record["step"].endswith(":drained"):
            out |= set(record["nodes"])
        else:
            out -= set(record["nodes"])
        most = max(most, len(out))
    return most


def _on_570(cluster: Cluster) -> None:
    """Every node on R570 and recorded so: `up` with the R570 spec (a no-op when already so)."""
    for node in NODES:
        cluster.fleet("heal", node)
    _set_driver(cluster, "570")
    rc, payload = cluster.json("up", str(cluster.spec))
    assert rc == 0, str(payload)[-3000:]
    assert set(_branches(cluster).values()) == {"570"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The upgrade cluster on R570, shared by the module's tests and destroyed after them."""
    made = _make_cluster(tmp_path_factory.mktemp("upgrade"), "upgrade.yaml", "it-upg")
    text = made.spec.read_text(encoding="utf-8")
    made.spec.write_text(text.replace("    count: 5\n", f"    count: {NODE_COUNT}\n"))
    try:
        _on_570(made)
        yield made
    finally:
        made.teardown()


def test_failed_wave_rolls_back_and_resume_finishes(cluster: Cluster) -> None:
    """A package that fails to install on the second wave: rolled back, stop, exit 1; healed,
    `--resume` brings every node to R580, never more than max_unavailable drained at once."""
    _on_570(cluster)
    for node in WAVES[1]:
        done = cluster.fleet("inject", node, "package-fail", "--package", FAILING_PACKAGE)
        assert done.returncode == 0, done.stderr
    _set_driver(cluster, "580")
    rc, payload = cluster.json("upgrade", str(cluster.spec))
    assert rc == 1, payload
    waves = payload["waves"]
    assert [w["nodes"] for w in waves] == WAVES[:2], waves
    assert waves[0]["status"] == "done" and waves[1]["status"] == "rolled back", waves
    assert set(waves[1]["failed"]) == set(WAVES[1]), waves[1]
    assert waves[1]["rollback_failed"] == {}, waves[1]
    assert {w["status"] for w in waves} <= {"done", "rolled back"}
    target = payload["target_lock"]
    locks = payload["node_locks"]
    assert {locks[n] == target for n in NODES} == {True, False}
    assert locks["h100-0"] == target
    assert all(locks[n] != target for n in NODES[1:]), locks
    assert _branches(cluster) == {"h100-0": "580", **dict.fromkeys(NODES[1:], "570")}
    # The later waves were never started: no wave record and no playbook limited to their nodes.
    run = _current_run(cluster)
    started = [r["wave"]["nodes"] for r in run if r["step"] == "upgrade:wave"]
    later = {n for wave in WAVES[2:] for n in wave}
    assert not [wave for wave in started if later & set(wave)], started
    assert all(
        not later & set((r.get("limit") or "").split(","))
        for r in run
        if r["step"].startswith("playbook:") and r["status"] == "started"
    )
    # Healed, the interrupted run continues with its own waves.
    for node in WAVES[1]:
        cluster.fleet("heal", node)
    rc, payload = cluster.json("upgrade", str(cluster.spec), "--resume")
    assert rc == 0, payload
    assert [w["nodes"] for w in payload["waves"]] == WAVES[1:], payload["waves"]
    assert all(w["status"] == "done" for w in payload["waves"])
    assert set(payload["node_locks"].values()) == {target}
    assert set(_branches(cluster).values()) == {"580"}
    assert _most_drained(_current_run(cluster), "upgrade") == MAX_UNAVAILABLE
    rc, payload = cluster.json("validate", str(cluster.spec))
    assert rc == 0, str(payload)[-2000:]


def _journal_has(cluster: Cluster, step: str, timeout_s: float) -> None:
    """Wait until the journal's current run holds a record of `step`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(r["step"] == step for r in _current_run(cluster)):
            return
        time.sleep(0.2)
    raise AssertionError(f"no {step} record in the journal after {timeout_s} s")


def test_rollback_interrupted_then_resumed_returns_the_whole_cluster(cluster: Cluster) -> None:
    """From R580 (upgraded from R570), `rollback` brings the nodes back to R570 in the same waves;
    Ctrl-C during the first wave stops it once that wave is done (exit 3), `--resume` finishes."""
    for node in NODES:
        cluster.fleet("heal", node)
    _set_driver(cluster, "580")
    # Upgrades the nodes still on R570 (none when the other test ran first).
    rc, payload = cluster.json("upgrade", str(cluster.spec))
    assert rc == 0, payload
    assert set(_branches(cluster).values()) == {"580"}
    upgraded = payload["target_lock"]
    running = subprocess.Popen(
        cluster.argv("rollback", str(cluster.spec), "--json"),
        env=cluster.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _journal_has(cluster, "rollback:drained", timeout_s=120)
        running.send_signal(signal.SIGINT)
        stdout, stderr = running.communicate(timeout=UP_TIMEOUT_S)
    finally:
        if running.poll() is None:
            running.kill()
    assert running.returncode == 3, stdout[-2000:] + stderr[-2000:]
    payload = _payload(stdout)
    done = [w["nodes"] for w in payload["waves"]]
    assert payload["interrupted"] and 1 <= len(done) < len(WAVES), payload
    assert done == WAVES[: len(done)] and all(w["status"] == "done" for w in payload["waves"])
    # The wave under way finished its package changes: its nodes are whole on R570.
    branches = _branches(cluster)
    assert {branches[n] for wave in done for n in wave} == {"570"}
    rc, payload = cluster.json("rollback", str(cluster.spec), "--resume")
    assert rc == 0, payload
    assert [w["nodes"] for w in payload["waves"]] == WAVES[len(done) :], payload["waves"]
    back = payload["target_lock"]
    assert back != upgraded and set(payload["node_locks"].values()) == {back}
    assert set(_branches(cluster).values()) == {"570"}
    assert _most_drained(_current_run(cluster), "rollback") <= MAX_UNAVAILABLE
