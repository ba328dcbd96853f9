"""The nodes a shrinking pool loses first come from the last readiness report (issue 18)."""

from __future__ import annotations

import json
from pathlib import Path

from gpuforge.configure import Journal
from gpuforge.ops import Deployment
from gpuforge.ops._health import unhealthy_nodes


def _report(deployment: Deployment, started: str, verdicts: dict[str, str]) -> None:
    nodes = [{"host": host, "verdict": verdict} for host, verdict in verdicts.items()]
    deployment.report_json.parent.mkdir(parents=True, exist_ok=True)
    deployment.report_json.write_text(json.dumps({"started_at": started, "nodes": nodes}))


def test_not_ready_nodes_of_the_last_report_are_unhealthy(tmp_path: Path) -> None:
    deployment = Deployment(tmp_path)
    journal = Journal(deployment.journal)
    assert unhealthy_nodes(deployment, journal) == set()
    _report(
        deployment,
        "2026-12-06T10:00:00+00:00",
        {"gpu-0": "ready", "gpu-1": "not-ready", "gpu-2": "not-ready"},
    )
    assert unhealthy_nodes(deployment, journal) == {"gpu-1", "gpu-2"}


def test_a_node_scale_added_after_the_report_is_not_judged_by_it(tmp_path: Path) -> None:
    """gpu-2 was removed and a new gpu-2 added since: the report spoke of the old machine."""
    deployment = Deployment(tmp_path)
    journal = Journal(deployment.journal)
    _report(deployment, "2000-01-01T00:00:00+00:00", {"gpu-1": "not-ready", "gpu-2": "not-ready"})
    journal.record("scale:apply", "done", added=["gpu-2"], removed=[])
    assert unhealthy_nodes(deployment, journal) == {"gpu-1"}


def test_an_unreadable_report_names_no_node(tmp_path: Path) -> None:
    deployment = Deployment(tmp_path)
    deployment.report_json.parent.mkdir(parents=True)
    deployment.report_json.write_text("{not json")
    assert unhealthy_nodes(deployment, Journal(deployment.journal)) == set()
