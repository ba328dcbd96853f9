"""Findings a person can read: a lost GPU's XID with its consequences, GPUs folded per node."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

from validate_captures import EXPECT, HEALTHY, REAL

from gpuforge.validate import collect_from_dir
from gpuforge.validate._report import build_report

NODE = REAL.parent / "nodes" / "h100-healthy"
LOST_BUS = "00000000:3A:00.0"  # GPU 2 of the healthy fixture
WHEN = datetime(2026, 12, 6, tzinfo=UTC)


def _xid_node(tmp_path: Path) -> Path:
    """The healthy node after `fleet inject NODE xid --gpu 2 --code 79`, as nvidia-smi and the
    kernel report it (as the simulated fleet does): GPU 2 gone from the list, the driver's
    lost-handle line, XID 79 logged."""
    node = tmp_path / "h100-1"
    shutil.copytree(NODE, node)
    csv = node / "query-gpu.csv"
    rows = [row for row in csv.read_text().splitlines() if LOST_BUS not in row]
    rows.insert(1, f"Unable to determine the device handle for GPU{LOST_BUS}: Unknown Error")
    csv.write_text("\n".join(rows) + "\n")
    # nvidia-smi exits 15 (NVML: GPU is lost); NCCL prints no result rows without the GPU.
    for name in ("query-gpu.rc", "topo.rc"):
        (node / name).write_text("15\n")
    (node / "all_reduce_perf.txt").write_text("# nThread 1 nGpus 8\n")
    (node / "all_reduce_perf.rc").write_text("1\n")
    with (node / "kernel.log").open("a") as log:
        log.write(
            "[  812.441020] NVRM: Xid (PCI:0000:3a:00): 79, pid='<unknown>', name=<unknown>, "
            "GPU has fallen off the bus.\n"
        )
    return node


def test_one_xid_is_one_finding_with_its_consequences(tmp_path: Path) -> None:
    facts = collect_from_dir(_xid_node(tmp_path), "h100-1")
    report = build_report("demo", [(facts, EXPECT)], WHEN, WHEN)
    [finding] = report.findings
    assert finding.code == "GF-HEALTH-012" and "XID 79" in finding.message
    codes = [c.code for c in finding.consequences]
    assert "GF-HEALTH-002" in codes and "GF-HEALTH-033" in codes
    [nvml] = [c for c in finding.consequences if c.code == "GF-HEALTH-033"]
    assert LOST_BUS in nvml.message
    every = [finding, *finding.consequences]
    assert not any("maintainers" in f.fix for f in every)
    assert report.nodes[0].errors == 1 and not report.nodes[0].ready
    body = report.to_dict()["findings"][0]
    assert [c["code"] for c in body["consequences"]] == codes


def test_per_gpu_findings_fold_into_one_row_per_node() -> None:
    gpus = tuple(dataclasses.replace(g, persistence=False) for g in HEALTHY.gpus)
    facts = dataclasses.replace(HEALTHY, gpus=gpus)
    report = build_report("demo", [(facts, EXPECT)], WHEN, WHEN)
    [finding] = [f for f in report.findings if f.code == "GF-HEALTH-007"]
    assert finding.gpus == tuple(range(8)) and finding.gpu is None
    assert finding.message == "GPUs 0,1,2,3,4,5,6,7 have persistence mode off, expected on"
    assert "-i 0,1,2,3,4,5,6,7" in finding.fix


class _Rows(HTMLParser):
    """The text of every table row of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append("")

    def handle_data(self, data: str) -> None:
        if self.rows:
            self.rows[-1] += data


def test_the_html_report_shows_the_consequences_under_their_cause(tmp_path: Path) -> None:
    facts = collect_from_dir(_xid_node(tmp_path), "h100-1")
    parser = _Rows()
    parser.feed(build_report("demo", [(facts, EXPECT)], WHEN, WHEN).to_html())
    finding_rows = [r for r in parser.rows if "GF-HEALTH" in r]
    assert "GF-HEALTH-012" in finding_rows[0]
    assert any("GF-HEALTH-002" in r and "\u2514" in r for r in finding_rows[1:])
