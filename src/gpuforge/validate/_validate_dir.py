"""Judge a whole collect folder (`<collect_dir>/<host>/...`) against per-host expectations."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from gpuforge.errors import InputError
from gpuforge.validate._collect import collect_from_dir
from gpuforge.validate._expect import NodeExpectation
from gpuforge.validate._facts import NodeFacts
from gpuforge.validate._nccl import NcclResult
from gpuforge.validate._report import ReadinessReport, build_report


def validate_collected(
    collect_dir: Path,
    expectations: Mapping[str, NodeExpectation],
    *,
    cluster: str,
    started_at: datetime,
    finished_at: datetime,
    cluster_nccl: Mapping[str, tuple[NcclResult, float | None]] | None = None,
) -> ReadinessReport:
    """Collect and judge every expected host; a host without a folder is judged as not collected."""
    if not collect_dir.is_dir():
        raise InputError(
            f"collect folder {collect_dir} does not exist",
            fix="run the validate playbook first; it fetches each node's outputs there",
        )
    nodes = []
    for host in sorted(expectations):
        folder = collect_dir / host
        facts = collect_from_dir(folder, host) if folder.is_dir() else NodeFacts(host)
        nodes.append((facts, expectations[host]))
    return build_report(cluster, nodes, started_at, finished_at, cluster_nccl)
