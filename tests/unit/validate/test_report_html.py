"""The readiness report's HTML: per node the measured values behind its verdict, and charts of
NCCL bus bandwidth against message size per node and pool with the spec's minimum drawn."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from html.parser import HTMLParser

from validate_captures import EXPECT, HEALTHY

from gpuforge.validate._report import build_report

WHEN = datetime(2026, 12, 6, tzinfo=UTC)


class _Page(HTMLParser):
    """The parts of the page the test reads: measured rows per node, SVG lines, external refs."""

    def __init__(self) -> None:
        super().__init__()
        self.node: str | None = None
        self.measured: dict[str, list[list[str]]] = {}
        self.cells: list[str] | None = None
        self.in_measured = False
        self.series: list[tuple[str, str]] = []
        self.minimum_lines = 0
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "h3":
            self.node = (found.get("id") or "").removeprefix("node-")
        if tag == "table":
            self.in_measured = found.get("class") == "measured"
        if tag == "tr" and self.in_measured and self.node:
            self.cells = []
            self.measured.setdefault(self.node, []).append(self.cells)
        if tag == "td" and self.cells is not None:
            self.cells.append("")
        if tag == "polyline":
            self.series.append((found.get("data-name") or "", found.get("points") or ""))
        if tag == "line" and found.get("class") == "minimum":
            self.minimum_lines += 1
        for key in ("src", "href"):
            if found.get(key):
                self.external.append(str(found[key]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.in_measured = False
            self.cells = None

    def handle_data(self, data: str) -> None:
        if self.cells:
            self.cells[-1] += data


def test_html_shows_measured_values_and_the_busbw_chart() -> None:
    slow = dataclasses.replace(HEALTHY, host="node-b")
    nodes = [(dataclasses.replace(HEALTHY, host="node-a"), EXPECT), (slow, EXPECT)]
    assert HEALTHY.nccl is not None
    report = build_report(
        "demo", nodes, WHEN, WHEN, cluster_nccl={"training": (HEALTHY.nccl, 80.0)}
    )
    page = _Page()
    page.feed(report.to_html())
    rows = {row[0].strip(): [c.strip() for c in row[1:]] for row in page.measured["node-a"] if row}
    assert rows["GPUs"][0].startswith("8: NVIDIA H100 80GB HBM3")
    assert rows["NCCL avg bus bandwidth GB/s"] == ["81.112", ">= 80"]
    assert rows["persistence mode"] == ["on x8", "on"]
    assert set(page.measured) == {"node-a", "node-b"}
    names = [name for name, _ in page.series]
    assert names == ["node-a", "node-b", "pool training"]
    points = [p for p in page.series[0][1].split() if p]
    assert len(points) == len(HEALTHY.nccl.rows) > 1
    assert page.minimum_lines == 2  # the pool's node chart and the multi-node chart
    assert page.external == []  # self-contained: no script, stylesheet or image fetched
