"""collect_from_dir on a collected node folder, including missing tools and missing files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from validate_captures import REAL

from gpuforge.errors import InputError
from gpuforge.validate import COLLECTORS, collect_from_dir

HEALTHY = REAL.parent / "nodes" / "h100-healthy"


def test_layout_names_every_file_of_the_healthy_fixture() -> None:
    expected = {c.file for c in COLLECTORS} | {c.rc_file for c in COLLECTORS}
    assert {p.name for p in HEALTHY.iterdir()} == expected
    assert next(c for c in COLLECTORS if c.key == "query_gpu").command.startswith(
        "nvidia-smi --query-gpu=index,name,uuid,pci.bus_id,driver_version,memory.total,"
    )


def test_collect_reads_every_collector() -> None:
    facts = collect_from_dir(HEALTHY, "gpu-node-1")
    assert facts.host == "gpu-node-1"
    assert [g.bus_id for g in facts.gpus][-1] == "00000000:DB:00.0"
    assert {g.compute_mode for g in facts.gpus} == {"EXCLUSIVE_PROCESS"}
    assert facts.topology is not None and facts.topology.nvlinks("GPU0", "GPU7") == 18
    assert facts.mig_instances == ()
    assert facts.dcgm is not None and len(facts.dcgm.tests) == 18
    assert len(facts.hcas) == 9
    assert facts.xids == ()
    assert facts.packages["libnccl2"] == "2.21.5-1+cuda12.4"
    assert facts.nccl is not None and facts.nccl.avg_busbw_gbps == 81.112
    assert facts.collectors["mig"].rc == 6 and not facts.collectors["mig"].tool_missing
    assert facts.parse_warnings == ()
    assert facts.to_dict()["gpus"][0]["name"] == "NVIDIA H100 80GB HBM3"


def test_missing_tool_and_missing_files(tmp_path: Path) -> None:
    node = tmp_path / "gpu-node-2"
    shutil.copytree(HEALTHY, node)
    (node / "ibstat.txt").unlink()
    (node / "ibstat.rc").write_text("127\n")
    (node / "ibstat.err").write_text("sh: 1: ibstat: not found\n")
    for name in ("all_reduce_perf.txt", "all_reduce_perf.rc"):
        (node / name).unlink()
    facts = collect_from_dir(node)
    assert facts.host == "gpu-node-2"
    assert facts.collectors["ibstat"].tool_missing
    assert facts.collectors["ibstat"].stderr == "sh: 1: ibstat: not found"
    assert facts.hcas == ()
    assert not facts.collectors["nccl"].collected and facts.nccl is None


def test_garbled_output_becomes_parse_warnings(tmp_path: Path) -> None:
    node = tmp_path / "n"
    shutil.copytree(HEALTHY, node)
    with (node / "query-gpu.csv").open("a") as out:
        out.write("8, NVIDIA H100 80GB HBM3, truncated\n")
    facts = collect_from_dir(node)
    assert len(facts.gpus) == 8
    assert facts.parse_warnings == (
        "query-gpu.csv: line 10: 3 cells where 17 columns were expected; row skipped",
    )


def test_missing_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as raised:
        collect_from_dir(tmp_path / "absent")
    assert "validate playbook" in raised.value.fix
