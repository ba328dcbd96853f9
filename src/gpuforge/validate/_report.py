"""`ReadinessReport`: per-node verdicts plus findings, as JSON, a Rich table, or an HTML page."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from rich.table import Table

from gpuforge.validate._expect import NodeExpectation
from gpuforge.validate._facts import NodeFacts
from gpuforge.validate._findings import Finding, Severity
from gpuforge.validate._grouping import readable
from gpuforge.validate._judge import judge_cluster_nccl, judge_node
from gpuforge.validate._nccl import NcclResult

_TEMPLATES = Path(__file__).parent / "templates"
_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


@dataclass(frozen=True)
class NodeVerdict:
    """One node's outcome: ready unless at least one error-level finding concerns it."""

    host: str
    pool: str
    gpus: int
    ready: bool
    errors: int
    warnings: int


@dataclass(frozen=True)
class ReadinessReport:
    """The readiness of a cluster: verdicts per node, every finding, and when the run happened."""

    cluster: str
    started_at: datetime
    finished_at: datetime
    nodes: tuple[NodeVerdict, ...]
    findings: tuple[Finding, ...]

    @property
    def ready(self) -> bool:
        """True when no finding at all, node or cluster level, is an error."""
        return not any(f.severity is Severity.ERROR for f in self.findings)

    def summary(self) -> dict[str, int]:
        """Counts of nodes by verdict and of findings by severity."""
        counts = {s.value: 0 for s in Severity}
        for finding in self.findings:
            counts[finding.severity.value] += 1
        ready = sum(1 for n in self.nodes if n.ready)
        return {
            "nodes": len(self.nodes),
            "ready": ready,
            "not_ready": len(self.nodes) - ready,
            "errors": counts["error"],
            "warnings": counts["warning"],
            "info": counts["info"],
        }

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view; the shape `gpuforge validate --json` prints."""
        return {
            "cluster": self.cluster,
            "ready": self.ready,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "summary": self.summary(),
            "nodes": [
                {
                    "host": n.host,
                    "pool": n.pool,
                    "gpus": n.gpus,
                    "verdict": "ready" if n.ready else "not-ready",
                    "errors": n.errors,
                    "warnings": n.warnings,
                }
                for n in self.nodes
            ],
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_json(self) -> str:
        """The report as indented, key-sorted JSON, stable for diffs."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def rich_table(self) -> Table:
        """One row per node with its verdict and the codes of its findings, for the terminal."""
        table = Table(title=f"Readiness of {self.cluster}", title_justify="left")
        for column in ("node", "pool", "GPUs", "verdict", "errors", "warnings", "findings"):
            table.add_column(
                column, justify="right" if column in {"GPUs", "errors", "warnings"} else "left"
            )
        for node in self.nodes:
            codes = sorted({f.code for f in self.findings if f.node == node.host})
            verdict = "[green]ready[/]" if node.ready else "[bold red]not ready[/]"
            table.add_row(
                node.host,
                node.pool,
                str(node.gpus),
                verdict,
                str(node.errors),
                str(node.warnings),
                ", ".join(codes),
            )
        return table

    def findings_table(self) -> Table:
        """One row per finding, with its fix, for the terminal."""
        table = Table(title="Findings", title_justify="left")
        for column in ("code", "severity", "node", "GPU", "message", "to fix"):
            table.add_column(column)
        for f in self.findings:
            table.add_row(
                f.code,
                f"[{_STYLE[f.severity]}]{f.severity.value}[/]",
                f.node,
                _gpus(f),
                f.message,
                f.fix,
            )
            for c in f.consequences:
                table.add_row(f"  └ {c.code}", "", "", _gpus(c), f"[dim]{c.message}[/]", "")
        return table

    def to_html(self) -> str:
        """A self-contained HTML page (inline CSS, no external assets); every value is escaped."""
        env = Environment(
            loader=FileSystemLoader(_TEMPLATES), autoescape=True, undefined=StrictUndefined
        )
        return env.get_template("report.html.j2").render(report=self.to_dict())


def _gpus(finding: Finding) -> str:
    """The GPU a finding concerns, or the GPUs a folded one lists."""
    if finding.gpus:
        return ",".join(str(g) for g in finding.gpus)
    return "" if finding.gpu is None else str(finding.gpu)


def build_report(
    cluster: str,
    nodes: Sequence[tuple[NodeFacts, NodeExpectation]],
    started_at: datetime,
    finished_at: datetime,
    cluster_nccl: Mapping[str, tuple[NcclResult, float | None]] | None = None,
) -> ReadinessReport:
    """Judge every node (and each pool's multi-node NCCL run) and assemble the report."""
    findings: list[Finding] = []
    verdicts = []
    for facts, expect in nodes:
        own = readable(judge_node(facts, expect), facts)
        findings.extend(own)
        errors = sum(1 for f in own if f.severity is Severity.ERROR)
        warnings = sum(1 for f in own if f.severity is Severity.WARNING)
        verdicts.append(
            NodeVerdict(facts.host, expect.pool, len(facts.gpus), errors == 0, errors, warnings)
        )
    for pool, (result, minimum) in sorted((cluster_nccl or {}).items()):
        findings.extend(judge_cluster_nccl(pool, result, minimum))
    return ReadinessReport(cluster, started_at, finished_at, tuple(verdicts), tuple(findings))
