"""Parsers say what they could not place: indented `topo -m`, an NCCL failure's cause,
`ibv_devinfo -vv` rate and physical state, a trailing `ibpanic:`, `--query-compute-apps`, and a
property test that inserts junk lines into every real capture."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from validate_captures import EXPECT, HEALTHY, REAL, captures, real

from gpuforge.validate import (
    NodeFacts,
    collect_from_dir,
    judge_node,
    parse_compute_apps,
    parse_ibstat,
    parse_ibv_devinfo,
    parse_nccl_tests,
    parse_topo,
)

FORMATS = REAL.parent / "formats"
APPS = "smi-csv/h200-query-compute-apps-csv-drv590.txt"


def _format(name: str) -> str:
    return (FORMATS / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", captures("topo"))
@pytest.mark.parametrize("indent", ["    ", "\t"])
def test_indented_topo_reads_the_same_matrix(name: str, indent: str) -> None:
    plain = parse_topo(real(name))
    indented = parse_topo("".join(indent + line for line in real(name).splitlines(True)))

    assert indented.links == plain.links and indented.links
    assert indented.cpu_affinity == plain.cpu_affinity
    assert indented.nic_names == plain.nic_names
    assert indented.unplaced == ()


def test_topo_reports_a_line_it_cannot_place() -> None:
    text = real("topo/h100-8gpu-nv18-6nic-EMPTY-cpu-affinity-slurm-cgroup.txt")
    lines = text.splitlines()
    lines.insert(3, "warning: could not read /sys/bus/pci/devices/0000:1b:00.0")

    topo = parse_topo("\n".join(lines))

    assert topo.unplaced == ("line 4: 'warning: could not read /sys/bus/pci/devices/0000:1b:00.0'",)
    assert len(topo.gpus) == 8


def test_nccl_failure_keeps_its_cause() -> None:
    result = parse_nccl_tests(_format("nccl-cuda-busy-failure.txt"))

    assert any("CUDA-capable device(s) is/are busy or unavailable" in f for f in result.failures)
    assert result.unplaced == ()


def test_ibv_devinfo_vv_rate_and_physical_state() -> None:
    hcas = parse_ibv_devinfo(_format("ibv_devinfo-vv-cx7-ndr-one-down.txt"))

    ports = [(h.name, h.ports[0]) for h in hcas.hcas]
    assert [(n, p.state, p.physical_state, p.rate_gbps) for n, p in ports] == [
        ("mlx5_0", "Active", "LinkUp", 400.0),
        ("mlx5_1", "Down", "Polling", 10.0),
    ]
    assert hcas.unplaced == () and hcas.warnings == ()


def test_ibstat_trailing_ibpanic_is_reported_not_absorbed() -> None:
    hcas = parse_ibstat(_format("ibstat-ibpanic-trailing.txt"))

    [hca] = hcas.hcas
    assert hca.ports[0].rate_gbps == 400.0 and hca.ports[0].state == "Active"
    assert len(hcas.unplaced) == 1 and "ibpanic: [2281] main: stat of IB device" in hcas.unplaced[0]


def test_compute_apps_real_capture() -> None:
    apps = parse_compute_apps(real(APPS))

    assert [(a.pid, a.name, a.used_mib) for a in apps.apps] == [
        (10291, "/root/tools/memhog", 2566.0),
        (10293, "/root/tools/memhog", 1542.0),
        (10309, "./gpu_burn", 28234.0),
    ]
    assert {a.gpu_bus for a in apps.apps} == {"0000:83:00"}
    assert apps.unplaced == () and apps.warnings == ()


def test_compute_apps_none_running() -> None:
    header = "pid, process_name, used_gpu_memory [MiB]\n"
    assert parse_compute_apps(header + "No running processes found\n").apps == ()


def _codes(facts: NodeFacts, **expect: Any) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for finding in judge_node(facts, replace(EXPECT, **expect)):
        found.setdefault(finding.code, []).append(finding.message)
    return found


def test_processes_on_a_gpu_that_should_be_idle_are_an_error(tmp_path: Path) -> None:
    node = tmp_path / "node-a"
    shutil.copytree(REAL.parent / "nodes" / "h100-healthy", node)
    apps = real(APPS).replace("00000000:83:00.0", "00000000:1B:00.0")
    (node / "compute-apps.csv").write_text(apps, encoding="utf-8")
    facts = collect_from_dir(node)

    found = _codes(facts)
    allowed = _codes(facts, allowed_processes=("memhog", "gpu_*"))

    assert len(found["GF-HEALTH-034"]) == 3
    assert "process ./gpu_burn (pid 10309, 28234 MiB)" in found["GF-HEALTH-034"][2]
    assert "GF-HEALTH-034" not in allowed
    assert "GF-HEALTH-034" not in _codes(HEALTHY)


def test_unplaced_lines_become_a_warning_quoting_them(tmp_path: Path) -> None:
    node = tmp_path / "node-a"
    shutil.copytree(REAL.parent / "nodes" / "h100-healthy", node)
    ibstat = (node / "ibstat.txt").read_text(encoding="utf-8")
    (node / "ibstat.txt").write_text(ibstat + "ibpanic: [9] main: stat failed\n", "utf-8")

    found = _codes(collect_from_dir(node))

    [message] = found["GF-HEALTH-033"]
    assert "ibstat.txt: line" in message and "ibpanic: [9] main: stat failed" in message
    assert "GF-HEALTH-033" not in _codes(HEALTHY)


# --- property: a junk line is reported or harmless ------------------------------------------

PARSERS: dict[str, Callable[[str], Any]] = {
    "topo": parse_topo,
    "ibstat": parse_ibstat,
    "ibv_devinfo": parse_ibv_devinfo,
    "nccl-tests": parse_nccl_tests,
}
CASES = [(kind, name) for kind in PARSERS for name in captures(kind)] + [
    ("compute-apps", APPS),
    ("ibv_devinfo", "formats/ibv_devinfo-vv-cx7-ndr-one-down.txt"),
]
# Junk that no tool would print as data: lowercase words with light punctuation, no separators
# any format uses for fields (`:`, `,`, `=`, tabs) and no leading `#` or digit.
JUNK = st.text(alphabet="abcdefghijklmnopqrstuvwxyz .-_/()'!?", min_size=1, max_size=60).filter(
    lambda s: s.strip() and s.strip()[0].isalpha()
)


def _parse(kind: str, text: str) -> Any:
    return parse_compute_apps(text) if kind == "compute-apps" else PARSERS[kind](text)


def _text(name: str) -> str:
    return _format(name.split("/", 1)[1]) if name.startswith("formats/") else real(name)


def _facts(result: Any) -> Any:
    return replace(result, unplaced=(), warnings=())


@pytest.mark.parametrize(("kind", "name"), CASES)
@settings(max_examples=25, deadline=None)
@given(junk=JUNK, where=st.floats(min_value=0, max_value=1))
def test_each_junk_line_is_reported_or_harmless(
    kind: str, name: str, junk: str, where: float
) -> None:
    lines = _text(name).splitlines()
    at = int(where * len(lines))
    spliced = "\n".join([*lines[:at], junk, *lines[at:]])

    clean, dirty = _parse(kind, _text(name)), _parse(kind, spliced)

    reported = any(f"line {at + 1}: {junk.strip()!r}" in u for u in dirty.unplaced)
    assert reported or _facts(dirty) == _facts(clean), (junk, at)


# Lines of the real captures no parser should place: an ssh warning and a wrapper's banner.
EXPECTED_UNPLACED = {
    "nccl-tests/a100-sxm40g-2node-16rank-horovod-container-full-sweep.txt": [
        "Warning: Permanently"
    ],
    "nccl-tests/h200-2node-16rank-interleaved-nccl-info-clobbered-row-FIXTURE.txt": [
        "running nccl test all_reduce"
    ],
}


@pytest.mark.parametrize(("kind", "name"), CASES)
def test_real_captures_leave_only_foreign_lines_unplaced(kind: str, name: str) -> None:
    unplaced = _parse(kind, _text(name)).unplaced

    expected = EXPECTED_UNPLACED.get(name, [])
    assert len(unplaced) == len(expected)
    assert all(text in line for text, line in zip(expected, unplaced, strict=True))
