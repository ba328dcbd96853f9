"""One run per cluster on the local fleet (issue 21, requirement 4).

A second `up` of a deployment that is running is refused while the first goes on, and a spec of
the same cluster name in another folder can neither take over nor destroy the first one's nodes.
One small cluster is shared by both tests and destroyed at the end of the module.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_up import UP_TIMEOUT_S, Cluster, _journal_has, _journal_lines, _make_cluster, pytestmark

from gpuforge.configure import Journal
from gpuforge.ops import STEPS

__all__ = ["pytestmark"]


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The cluster of the first deployment; destroyed at the end of the module."""
    cluster = _make_cluster(tmp_path_factory.mktemp("once"), "one-pool.yaml", "it-once")
    try:
        yield cluster
    finally:
        cluster.teardown()


def _running(cluster: Cluster) -> dict[str, int]:
    """Node name -> PID 1 of the cluster's running nodes."""
    return {n["name"]: n["pid"] for n in cluster.nodes() if n["state"] == "running"}


def test_a_second_up_while_the_first_runs_is_refused(first: Cluster) -> None:
    """The first `up` is held still once it provisions; a second `up` then exits 2 at once,
    naming the first, and the first finishes with every step run exactly once."""
    started = time.monotonic()
    # Only this run's records count: the other test may have run `up` on the cluster first.
    since = len(_journal_lines(first.journal))
    with subprocess.Popen(
        first.argv("up", str(first.spec), "--json"),
        env=first.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    ) as proc:
        try:
            while not _journal_has(first.journal, "up:provision", "started", since):
                assert proc.poll() is None, f"up ended (rc {proc.returncode}) before provision"
                assert time.monotonic() - started < UP_TIMEOUT_S, "provision never started"
                time.sleep(0.2)
            # Stopped, the first run cannot end while the second one tries.
            os.kill(proc.pid, signal.SIGSTOP)
            try:
                rc, payload = first.json("up", str(first.spec))
            finally:
                os.kill(proc.pid, signal.SIGCONT)
            out, _ = proc.communicate(timeout=UP_TIMEOUT_S)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
    assert rc == 2, json.dumps(payload, indent=1)[-3000:]
    assert f"`gpuforge up` (pid {proc.pid}," in payload["message"]
    assert proc.returncode == 0, out[-3000:]
    done = [e.step for e in Journal(first.journal).current_run() if e.status == "done"]
    expected = [f"up:{s}" for s in STEPS]
    expected.insert(expected.index("up:configure"), "up:converge")  # the nodes' decisions
    assert [step for step in done if step.startswith("up:")] == expected
    recorded = json.loads((first.state / "clusters" / first.name / "cluster.json").read_text())
    assert recorded["cluster_id"] == (first.deployment / "cluster-id").read_text().strip()


def test_the_same_name_in_another_folder_cannot_take_or_destroy_the_nodes(
    first: Cluster, tmp_path: Path
) -> None:
    if not _running(first):
        rc, payload = first.json("up", str(first.spec))
        assert rc == 0, json.dumps(payload, indent=1)[-3000:]
    before = _running(first)
    assert sorted(before) == ["h100-0", "h100-1"]
    other = Cluster(first.name, tmp_path / "cluster.yaml", first.state)
    shutil.copyfile(first.spec, other.spec)

    rc, payload = other.json("up", str(other.spec))
    assert rc == 2, json.dumps(payload, indent=1)[-3000:]
    assert str(first.deployment) in payload["message"]
    assert "`name:`" in payload["fix"]
    assert f"`gpuforge fleet down --cluster {first.name}`" in payload["fix"]

    # Even with Terraform roots of its own, the other folder may not destroy the nodes.
    assert other.run("render", str(other.spec)).returncode == 0
    rc, payload = other.json("destroy", str(other.spec), "--yes")
    assert rc == 2, json.dumps(payload, indent=1)[-3000:]
    assert str(first.deployment) in payload["message"]
    assert _running(first) == before
