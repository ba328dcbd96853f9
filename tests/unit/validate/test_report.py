"""The readiness report: verdicts, summary, JSON, Rich tables and the self-contained HTML page."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rich.console import Console
from validate_captures import EXPECT, HEALTHY, REAL, real, with_gpu

from gpuforge.errors import InputError
from gpuforge.validate import (
    ReadinessReport,
    build_report,
    parse_nccl_tests,
    validate_collected,
)

START = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
END = datetime(2026, 11, 28, 12, 3, 30, tzinfo=UTC)
VOID = {"meta", "br", "hr", "img", "link", "input"}


def _report() -> ReadinessReport:
    broken = replace(with_gpu(2, ecc_uncorrected_volatile=3), host="node-b")
    hostile = replace(with_gpu(0, name="<script>alert(1)</script>"), host="node-c&d")
    a3 = parse_nccl_tests(real("nccl-tests/h100-a3mega-2node-16gpu-mpi.txt"))
    return build_report(
        "prod",
        [(HEALTHY, EXPECT), (broken, EXPECT), (hostile, EXPECT)],
        START,
        END,
        cluster_nccl={"training": (a3, 400.0)},
    )


class _Checker(HTMLParser):
    """Fails on any tag closed out of order and records the text, links and scripts it saw."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.text: list[str] = []
        self.external: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"
        self.external += [v or "" for k, v in attrs if k in {"src", "href"}]
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_verdicts_and_summary() -> None:
    report = _report()
    assert [(n.host, n.ready, n.errors) for n in report.nodes] == [
        ("node-a", True, 0),
        ("node-b", False, 1),
        ("node-c&d", False, 1),
    ]
    assert report.summary() == {
        "nodes": 3,
        "ready": 1,
        "not_ready": 2,
        "errors": 3,
        "warnings": 0,
        "info": 0,
    }
    assert not report.ready
    assert build_report("prod", [(HEALTHY, EXPECT)], START, END).ready


def test_json() -> None:
    data = json.loads(_report().to_json())
    assert data["started_at"] == "2026-11-28T12:00:00+00:00"
    verdict_keys = {"host", "pool", "gpus", "verdict", "errors", "warnings"}
    assert {k: v for k, v in data["nodes"][1].items() if k in verdict_keys} == {
        "host": "node-b",
        "pool": "training",
        "gpus": 8,
        "verdict": "not-ready",
        "errors": 1,
        "warnings": 0,
    }
    codes = [(f["code"], f["node"], f["gpu"]) for f in data["findings"]]
    assert codes == [
        ("GF-HEALTH-010", "node-b", 2),
        ("GF-HEALTH-003", "node-c&d", 0),
        ("GF-HEALTH-030", "pool/training", None),
    ]
    assert all(f["fix"] for f in data["findings"])


def test_html_is_well_formed_self_contained_and_escaped() -> None:
    report = _report()
    page = report.to_html()
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.stack == []
    assert checker.external == [] and checker.scripts == 0
    text = "".join(checker.text)
    for finding in report.findings:
        assert finding.code in text
    assert "<script>alert(1)</script>" in text  # shown as text, never as markup
    assert "&lt;script&gt;" in page and "node-c&amp;d" in page
    assert "<style>" in page and "not ready" in text


def test_rich_tables_render() -> None:
    report = _report()
    console = Console(width=200, record=True, color_system=None)
    console.print(report.rich_table())
    console.print(report.findings_table())
    out = console.export_text()
    assert "node-b" in out and "not ready" in out and "GF-HEALTH-010" in out
    assert "GF-HEALTH-030" in out and "pool/training" in out


def test_validate_collected(tmp_path: Path) -> None:
    node = REAL.parent / "nodes" / "h100-healthy"
    (tmp_path / "node-a").symlink_to(node)
    report = validate_collected(
        tmp_path,
        {"node-a": EXPECT, "node-z": EXPECT},
        cluster="prod",
        started_at=START,
        finished_at=END,
    )
    assert [(n.host, n.ready) for n in report.nodes] == [("node-a", True), ("node-z", False)]
    missing = [f.message for f in report.findings if f.node == "node-z"]
    assert "query-gpu.csv was not collected" in missing
    with pytest.raises(InputError):
        validate_collected(tmp_path / "nope", {}, cluster="x", started_at=START, finished_at=END)
