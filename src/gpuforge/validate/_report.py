"""`ReadinessReport`: per-node verdicts plus findings, as JSON, a Rich table, or an HTML page."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from rich.table import Table

from gpuforge.validate._chart import busbw_svg
from gpuforge.validate._expect import NodeExpectation
from gpuforge.validate._facts import NodeFacts
from gpuforge.validate._findings import Finding, Severity
from gpuforge.validate._grouping import readable
from gpuforge.validate._judge import judge_cluster_nccl, judge_node
from gpuforge.validate._measure import Measure, busbw_curve, measures
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
    measured: tuple[Measure, ...] = ()
    busbw: tuple[tuple[int, float], ...] = ()
    min_busbw: float | None = None


@dataclass(frozen=True)
class PoolBusbw:
    """A pool's multi-node NCCL run: bus bandwidth per message size, and the spec's minimum."""

    pool: str
    busbw: tuple[tuple[int, float], ...]
    minimum: float | None


@dataclass(frozen=True)
class ReadinessReport:
    """The readiness of a cluster: verdicts per node, every finding, and when the run happened."""

    cluster: str
    started_at: datetime
    finished_at: datetime
    nodes: tuple[NodeVerdict, ...]
    findings: tuple[Finding, ...]
    pools: tuple[PoolBusbw, ...] = ()

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
                    "measured": [
                        {"what": what, "value": value, "expected": expected}
                        for what, value, expected in n.measured
                    ],
                    "busbw": [{"size_bytes": s, "gbps": bw} for s, bw in n.busbw],
                }
                for n in self.nodes
            ],
            "pools": [
                {
                    "pool": p.pool,
                    "minimum": p.minimum,
                    "busbw": [{"size_bytes": s, "gbps": bw} for s, bw in p.busbw],
                }
                for p in self.pools
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
        return env.get_template("report.html.j2").render(
            report=self.to_dict(), charts=[Markup(svg) for svg in self.charts()]
        )

    def charts(self) -> list[str]:
        """Inline SVG charts of NCCL bus bandwidth against message size: one per pool with
        its nodes' runs, one for the pools' multi-node runs; each with the spec's minimum."""
        charts = []
        for pool in sorted({n.pool for n in self.nodes}):
            members = [n for n in self.nodes if n.pool == pool and n.busbw]
            minimum = next((n.min_busbw for n in members if n.min_busbw is not None), None)
            series = {n.host: n.busbw for n in members}
            charts.append(busbw_svg(series, minimum, f"NCCL bus bandwidth, pool {pool}, per node"))
        if self.pools:
            minima = [p.minimum for p in self.pools if p.minimum is not None]
            series = {f"pool {p.pool}": p.busbw for p in self.pools}
            title = "NCCL bus bandwidth across each pool's nodes"
            charts.append(busbw_svg(series, min(minima) if minima else None, title))
        return [chart for chart in charts if chart]


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
            NodeVerdict(
                facts.host,
                expect.pool,
                len(facts.gpus),
                errors == 0,
                errors,
                warnings,
                measures(facts, expect),
                busbw_curve(facts.nccl),
                expect.nccl_min_busbw_gbps,
            )
        )
    pools = []
    for pool, (result, minimum) in sorted((cluster_nccl or {}).items()):
        findings.extend(judge_cluster_nccl(pool, result, minimum))
        pools.append(PoolBusbw(pool, busbw_curve(result), minimum))
    return ReadinessReport(
        cluster, started_at, finished_at, tuple(verdicts), tuple(findings), tuple(pools)
    )
