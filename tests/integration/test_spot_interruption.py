"""A spot interruption on the local fleet (issue 19, "Done when"): the node's watcher reads the
notice from the node's metadata service, drains the node and runs the site's checkpoint hook;
the node powers off when the notice period ends, and the next `up` replaces it alone.

One module-scoped cluster of two nodes: `spot-0` (pool on spot, with a checkpoint hook) and
`steady-0` (on-demand). The interruption test leaves the cluster as it found it (`up` replaces
the reclaimed node), so the tests run in any order.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from test_up import Cluster, _make_cluster, pytestmark  # noqa: F401

SPOT, STEADY = "spot-0", "steady-0"
MARKER = "/var/tmp/gpuforge-checkpointed"
RECORD = "/var/lib/gpuforge/spot-watcher/state.json"
WATCHER = "gpuforge-spot-watcher"
# Long enough for the watcher (a poll every 5 s) to act and for the test to see it done.
NOTICE_S = 20
T = TypeVar("T")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The spot cluster, brought up once for the module and destroyed after it."""
    made = _make_cluster(tmp_path_factory.mktemp("spot"), "spot.yaml", "it-spot")
    try:
        started = time.monotonic()
        rc, payload = made.json("up", str(made.spec))
        assert rc == 0, str(payload)[-3000:]
        print(f"\nspot cluster up: {time.monotonic() - started:.1f} s")
        yield made
    finally:
        made.teardown()


def _wait_for(
    what: str, probe: Callable[[], T | None], timeout: float, explain: Callable[[], str]
) -> T:
    """Poll `probe` until it returns something (not None); fail naming `what` after `timeout`,
    with what `explain` tells."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}: {explain()}")


def _on_node(cluster: Cluster, node: str, command: str) -> tuple[int, str]:
    done = cluster.fleet("ssh", node, "--", command)
    return done.returncode, done.stdout


def _handled(cluster: Cluster) -> dict[str, Any] | None:
    """The watcher's record on the spot node once it holds a handled notice, else None."""
    rc, out = _on_node(cluster, SPOT, f"cat {RECORD} 2>/dev/null")
    if rc != 0 or not out.strip():
        return None
    record: dict[str, Any] = json.loads(out)
    return record if record["notices"] else None


def _state(cluster: Cluster, node: str) -> dict[str, Any]:
    return next(n for n in cluster.nodes() if n["name"] == node)


def _decisions(cluster: Cluster) -> dict[str, str]:
    """The per-node decisions of the latest `up` (its journal's up:converge record)."""
    lines = cluster.journal.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if '"up:converge"' in line]
    return dict(records[-1]["decisions"])


def test_the_watcher_runs_on_spot_nodes_only(cluster: Cluster) -> None:
    """The spot pool's node runs the watcher, reading AWS's contract; the on-demand one has none."""
    assert _on_node(cluster, SPOT, f"systemctl is-active {WATCHER}") == (0, "active\n")
    rc, settings = _on_node(cluster, SPOT, "cat /etc/gpuforge/spot-watcher.json")
    assert rc == 0 and json.loads(settings)["cloud"] == "aws"
    rc, _ = _on_node(cluster, STEADY, f"test -e /etc/systemd/system/{WATCHER}.service")
    assert rc == 1


def test_interruption_checkpoints_drains_and_up_replaces_that_node_only(cluster: Cluster) -> None:
    """Inject a notice: the hook runs once and the drain is recorded; the node is reclaimed; the
    next `up` plans the replacement of that node alone, configures it, and leaves the other."""
    started = time.monotonic()
    steady_pid = _state(cluster, STEADY)["pid"]
    done = cluster.fleet("inject", SPOT, "spot-interruption", "--notice-s", str(NOTICE_S))
    assert done.returncode == 0, done.stderr
    record = _wait_for(
        "the watcher to handle the notice",
        lambda: _handled(cluster),
        NOTICE_S,
        lambda: _on_node(cluster, SPOT, f"systemctl status {WATCHER}; tail /var/log/journal/*")[1],
    )
    [notice] = record["notices"]
    assert (notice["cloud"], notice["action"]) == ("aws", "terminate")
    assert notice["checkpoint"]["rc"] == 0 and notice["checkpoint"]["argv"][-1] == MARKER
    assert record["drained"] is True
    assert _on_node(cluster, SPOT, f"test -f {MARKER}")[0] == 0

    def reclaimed() -> bool | None:
        return True if _state(cluster, SPOT)["state"] != "running" else None

    _wait_for("the notice period to end", reclaimed, NOTICE_S + 30, lambda: str(cluster.nodes()))
    # A replacement is a change `up` asks about: approved here as an operator would.
    rc, payload = cluster.json("up", str(cluster.spec), "--yes")
    assert rc == 0, str(payload)[-3000:]
    changes = [c for c in payload["plans"]["local"]["changes"] if c["action"] != "no-op"]
    assert [(c["address"], c["action"]) for c in changes] == [
        (f'module.pool_spot.null_resource.node["{SPOT}"]', "replace")
    ]
    assert _decisions(cluster) == {SPOT: "new: every role", STEADY: "no drift: skipped"}
    nodes = {node["name"]: node for node in payload["nodes"]}
    assert nodes[STEADY]["changed"] == 0 and nodes[STEADY]["ready"] is True
    assert nodes[SPOT]["changed"] > 0 and nodes[SPOT]["ready"] is True
    assert _state(cluster, STEADY)["pid"] == steady_pid
    fresh = _state(cluster, SPOT)
    assert fresh["state"] == "running" and fresh["faults"] == []
    assert _on_node(cluster, SPOT, f"test -e {MARKER} || test -e {RECORD}")[0] == 1
    assert _on_node(cluster, SPOT, f"systemctl is-active {WATCHER}") == (0, "active\n")
    print(f"\ninterruption to replaced: {time.monotonic() - started:.1f} s")
