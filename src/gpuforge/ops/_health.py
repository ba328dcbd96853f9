"""Which nodes the latest readiness facts call unhealthy: the ones a shrinking pool loses first.

The facts are the last readiness report (`validation/report.json`, written by `up` and
`validate`): a node whose verdict is not `ready` failed validation or could not be reached. A
node `scale` added after that report started (the journal's `scale:apply` records) is a new
machine under an old name, so the report says nothing about it.
"""

from __future__ import annotations

from datetime import datetime

from gpuforge.configure import Journal
from gpuforge.errors import FileError
from gpuforge.files import MIB, load_json, read_text
from gpuforge.ops._deploy import Deployment

__all__ = ["unhealthy_nodes"]

_MAX_REPORT_BYTES = 64 * MIB


def _when(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def unhealthy_nodes(deployment: Deployment, journal: Journal) -> set[str]:
    """Nodes the last readiness report found not ready, less those `scale` added since; empty
    when there is no readable report (the choice then falls back to the highest index)."""
    path = deployment.report_json
    fix = f"run `gpuforge validate` to write {path} again"
    try:
        report = load_json(read_text(path, max_bytes=_MAX_REPORT_BYTES, fix=fix), str(path), fix)
    except FileError:
        return set()
    started = _when(report.get("started_at")) if isinstance(report, dict) else None
    nodes = report.get("nodes") if isinstance(report, dict) else None
    if started is None or not isinstance(nodes, list):
        return set()
    sick = {
        str(node["host"])
        for node in nodes
        if isinstance(node, dict) and "host" in node and node.get("verdict") != "ready"
    }
    for entry in journal.entries():
        added = entry.data.get("added")
        when = _when(entry.ts)
        if entry.step == "scale:apply" and isinstance(added, list) and when and when > started:
            sick -= {str(name) for name in added}
    return sick
