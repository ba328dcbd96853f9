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
    QUERY_GPU_FIELDS,
    NodeFacts,
    collect_from_dir,
    judge_node,
    parse_compute_apps,
    parse_dcgmi_diag,
    parse_ibstat,
    parse_ibv_devinfo,
    parse_mig_instances,
    parse_mig_profiles,
    parse_nccl_tests,
    parse_packages,
    parse_query_gpu_csv,
    parse_smi_query,
    parse_smi_table,
    parse_topo,
    parse_xids,
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


def _node_with_apps(tmp_path: Path, owners: str = "", burner: str = "./gpu_burn") -> NodeFacts:
    node = tmp_path / "node-a"
    shutil.copytree(REAL.parent / "nodes" / "h100-healthy", node)
    apps = real(APPS).replace("00000000:83:00.0", "00000000:1B:00.0")
    apps = apps.replace("./gpu_burn", burner)
    (node / "compute-apps.csv").write_text(apps, encoding="utf-8")
    if owners:
        (node / "process-owners.txt").write_text(owners, encoding="utf-8")
    return collect_from_dir(node)


def test_unknown_processes_on_a_gpu_are_a_security_error(tmp_path: Path) -> None:
    facts = _node_with_apps(tmp_path)

    found = _codes(facts)
    allowed = _codes(facts, gpu_processes=("memhog", "gpu_*"))

    assert len(found["GF-SEC-101"]) == 3
    assert "unknown process ./gpu_burn (pid 10309, 28234 MiB)" in found["GF-SEC-101"][2]
    assert "GF-HEALTH-034" not in found
    assert "GF-SEC-101" not in allowed
    assert "GF-SEC-101" not in _codes(HEALTHY)


def test_a_process_name_with_commas_is_still_an_unknown_process(tmp_path: Path) -> None:
    """nvidia-smi's CSV does not quote names: a miner named `xm, rig,x` must not turn its row
    into an unplaced line (a mere warning) and slip past GF-SEC-101."""
    facts = _node_with_apps(tmp_path, burner="/tmp/xm, rig,x")

    assert [app.name for app in facts.processes or ()][2] == "/tmp/xm, rig,x"
    found = _codes(facts)
    assert "unknown process /tmp/xm, rig,x (pid 10309, 28234 MiB)" in found["GF-SEC-101"][2]
    assert "GF-HEALTH-033" not in found


def test_allowed_users_processes_are_known_but_still_busy_the_gpu(tmp_path: Path) -> None:
    """A process of an allowed user passes GF-SEC-101; during validation it is GF-HEALTH-034."""
    facts = _node_with_apps(tmp_path, "  10291 alice\n  10293 alice\n  10309 mallory\n")
    assert [app.user for app in facts.processes or ()] == ["alice", "alice", "mallory"]

    found = _codes(facts, gpu_users=("alice",))
    assert len(found["GF-SEC-101"]) == 1
    assert "user mallory" in found["GF-SEC-101"][0]
    assert len(found["GF-HEALTH-034"]) == 2
    assert "GF-HEALTH-034" not in _codes(facts, gpu_users=("alice",), allowed_processes=("memhog",))


def test_gpus_busy_outside_jobs_from_the_gpu_watch_are_a_security_error(tmp_path: Path) -> None:
    node = tmp_path / "node-a"
    shutil.copytree(REAL.parent / "nodes" / "h100-healthy", node)
    watch = (node / "gpu-watch.txt").read_text(encoding="utf-8")
    busy = watch.replace("gpuforge_gpu_busy_outside_jobs 0", "gpuforge_gpu_busy_outside_jobs 2")
    (node / "gpu-watch.txt").write_text(busy, encoding="utf-8")
    facts = collect_from_dir(node)

    assert facts.gpus_busy_outside_jobs == 2
    [message] = _codes(facts)["GF-SEC-102"]
    assert message.startswith("2 GPU(s) stayed busy")
    assert HEALTHY.gpus_busy_outside_jobs == 0
    assert "GF-SEC-102" not in _codes(HEALTHY)


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

# The field lists of the two captures taken without a header line (as test_parsers_real has them).
NOHEADER_FIELDS = {
    "smi-csv/rtx3090-8gpu-csv-noheader-with-units.txt": (
        "index",
        "name",
        "memory.total",
        "memory.used",
        "utilization.gpu",
    ),
    "smi-csv/rtxa6000-2gpu-csv-noheader-nounits.txt": ("index", "uuid", "name", "memory.free"),
}
PARSERS: dict[str, Callable[[str], Any]] = {
    "smi-q": parse_smi_query,
    "smi-q-power": parse_smi_query,
    "smi-table": parse_smi_table,
    "topo": parse_topo,
    "dcgmi-diag": parse_dcgmi_diag,
    "ibstat": parse_ibstat,
    "ibv_devinfo": parse_ibv_devinfo,
    "nccl-tests": parse_nccl_tests,
    "xid": parse_xids,
}
CASES = [(kind, name) for kind in PARSERS for name in captures(kind)] + [
    ("compute-apps", APPS),
    ("ibv_devinfo", "formats/ibv_devinfo-vv-cx7-ndr-one-down.txt"),
    ("packages", "nodes/h100-healthy/packages.txt"),
    *[("mig-lgi" if "-lgi-" in n else "mig-lgip", n) for n in captures("mig")],
    *[("smi-csv", n) for n in captures("smi-csv") if n != APPS],
]
# Junk that no tool would print as data: lowercase words with light punctuation, no separators
# any format uses for fields (`:`, `,`, `=`, tabs) and no leading `#` or digit.
JUNK = st.text(alphabet="abcdefghijklmnopqrstuvwxyz .-_/()'!?", min_size=1, max_size=60).filter(
    lambda s: s.strip() and s.strip()[0].isalpha()
)


def _parse(kind: str, text: str, name: str = "") -> Any:
    if kind == "smi-csv":
        return parse_query_gpu_csv(text, NOHEADER_FIELDS.get(name, QUERY_GPU_FIELDS))
    other: dict[str, Callable[[str], Any]] = {
        "compute-apps": parse_compute_apps,
        "packages": parse_packages,
        "mig-lgi": parse_mig_instances,
        "mig-lgip": parse_mig_profiles,
    }
    return other[kind](text) if kind in other else PARSERS[kind](text)


def _text(name: str) -> str:
    if name.startswith("formats/"):
        return _format(name.split("/", 1)[1])
    if name.startswith("nodes/"):
        return (REAL.parent / name).read_text(encoding="utf-8")
    return real(name)


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

    clean, dirty = _parse(kind, _text(name), name), _parse(kind, spliced, name)

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
    unplaced = _parse(kind, _text(name), name).unplaced

    expected = EXPECTED_UNPLACED.get(name, [])
    assert len(unplaced) == len(expected)
    assert all(text in line for text, line in zip(expected, unplaced, strict=True))


def test_fallen_off_the_bus_survives_an_interleaved_message() -> None:
    lines = real("xid/fallen-off-bus-multiline-no-xid-dmesg-drv570.txt").splitlines()
    lines.insert(
        1, "[ 1843.308200] mlx5_core 0000:c1:00.0: poll_health:801: device's health compromised"
    )

    events = parse_xids("\n".join(lines))

    assert [(e.bus_id, e.code) for e in events.events] == [("0000:b3:00.0", 79)]


def test_a_cut_short_fallen_off_the_bus_report_is_reported() -> None:
    first = real("xid/fallen-off-bus-multiline-no-xid-dmesg-drv570.txt").splitlines()[0]

    events = parse_xids(first + "\n")

    assert events.events == () and len(events.unplaced) == 1


def test_smi_q_junk_section_does_not_take_the_fields_below_it() -> None:
    text = real("smi-q/a10-1gpu-full-q-drv535.129.txt")
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if "Product Name" in line)
    lines.insert(at, "    stray text")

    query = parse_smi_query("\n".join(lines))

    assert query.gpus == parse_smi_query(text).gpus
    assert query.unplaced == (f"line {at + 1}: 'stray text'",)
