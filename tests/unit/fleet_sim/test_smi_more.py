"""More of nvidia-smi and dcgmi: --version, nvlink -s, dmon/pmon, -q -x, diag -j."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gpuforge.fleet.sim import inject_fault
from gpuforge.validate._dcgm import parse_dcgmi_diag
from gpuforge.validate._dcgm_json import parse_dcgm_output
from gpuforge.validate._smi_q import parse_smi_query
from gpuforge.validate._smi_xml import parse_smi_query_xml

from .conftest import Run, make_node, run_tool
from .test_faults import daemons

__all__ = ["daemons"]


def test_version_prints_driver_nvml_and_cuda(run: Run) -> None:
    assert run("nvidia_smi.py", "--version").stdout.splitlines() == [
        "NVIDIA-SMI version  : 535.183.01",
        "NVML version        : 535.183",
        "DRIVER version      : 535.183.01",
        "CUDA Version        : 12.2",
    ]


def test_nvlink_status_lists_each_link_and_inactive_ones(run: Run) -> None:
    lines = run("nvidia_smi.py", "nvlink", "-s", "-i", "1").stdout.splitlines()
    assert lines[0].startswith("GPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-")
    assert lines[1:] == [f"\t Link {i}: 26.562 GB/s" for i in range(18)]
    assert run("nvidia_smi.py", "nvlink").returncode == 2


def test_dmon_and_pmon_stop_after_count_samples(run: Run) -> None:
    dmon = run("nvidia_smi.py", "dmon", "-c", "1").stdout.splitlines()
    assert dmon[0].split()[:4] == ["#", "gpu", "pwr", "gtemp"]
    assert len(dmon) == 2 + 8 and dmon[2].split()[0] == "0"
    pmon = run("nvidia_smi.py", "pmon", "-c", "1", "-i", "0").stdout.splitlines()
    assert len(pmon) == 3 and pmon[2].split()[:3] == ["0", "-", "-"]
    assert run("nvidia_smi.py", "dmon", "-c", "x").returncode == 2


def test_q_x_is_nvidia_xml(run: Run) -> None:
    done = run("nvidia_smi.py", "-q", "-x", "-i", "0")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith('<?xml version="1.0" ?>\n<!DOCTYPE nvidia_smi_log SYSTEM')
    root = ET.fromstring(done.stdout.split("\n", 2)[2])
    assert root.tag == "nvidia_smi_log"
    assert root.findtext("driver_version") == "535.183.01"
    gpu = root.find("gpu")
    assert gpu is not None and gpu.get("id") == "00000000:19:00.0"
    assert gpu.findtext("product_name") == "NVIDIA H100 80GB HBM3"
    assert (gpu.findtext("uuid") or "").startswith("GPU-")
    assert gpu.findtext("mig_mode/current_mig") == "Disabled"
    assert gpu.findtext("pci/pci_bus_id") == "00000000:19:00.0"
    assert gpu.findtext("fb_memory_usage/total") == "81559 MiB"
    assert (gpu.findtext("temperature/gpu_temp") or "").endswith(" C")
    assert gpu.findtext("gpu_power_readings/current_power_limit") == "700.00 W"
    assert gpu.findtext("clocks/sm_clock") == "345 MHz"
    assert gpu.findtext("ecc_errors/volatile/dram_uncorrectable") == "0"
    # nvsmi_device_v12.dtd: every reason element carries the section's prefix, nested ones too.
    reasons = gpu.find("clocks_event_reasons")
    assert reasons is not None
    assert {e.tag for e in reasons} >= {
        "clocks_event_reason_gpu_idle",
        "clocks_event_reason_hw_thermal_slowdown",
        "clocks_event_reason_hw_power_brake_slowdown",
        "clocks_event_reason_display_clocks_setting",
    }
    assert all(e.tag.startswith("clocks_event_reason_") for e in reasons)


@pytest.mark.parametrize(
    ("profile", "driver"),
    [("hgx-a100-80-8", "470.57.02"), ("hgx-h100-8", "565.57.01"), ("hgx-h100-8", "590.48.01")],
)
def test_q_x_reads_as_the_same_facts_as_q(tmp_path: Path, profile: str, driver: str) -> None:
    """Old (R470), current (R565) and R590+ layouts: the XML and the text say the same."""
    node = make_node(tmp_path / "node", profile, driver=driver)
    assert run_tool(node, "nvidia_smi.py", "-i", "3", "-pl", "400").returncode == 0
    text = parse_smi_query(run_tool(node, "nvidia_smi.py", "-q").stdout)
    xml = parse_smi_query_xml(run_tool(node, "nvidia_smi.py", "-q", "-x").stdout)
    assert xml.warnings == text.warnings == ()
    assert xml.driver_version == text.driver_version == driver
    assert xml.gpus == text.gpus and len(xml.gpus) == 8
    assert xml.gpus[3].power_limit_w == 400.0 and xml.gpus[0].throttle_reasons == ("gpu_idle",)


@pytest.mark.usefixtures("daemons")
def test_diag_j_is_dcgm_json(run: Run) -> None:
    done = run("dcgmi.py", "diag", "-r", "2", "-j")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["Driver Version Detected"] == "535.183.01"
    assert doc["GPU Device IDs"] == ["2330"] * 8
    categories = {c["category"]: c["tests"] for c in doc["DCGM GPU Diagnostic"]["test_categories"]}
    assert set(categories) == {"Deployment", "Integration", "Hardware"}
    memory = next(t for t in categories["Hardware"] if t["name"] == "GPU Memory")
    assert [r["status"] for r in memory["results"]] == ["Pass"] * 8
    assert memory["results"][0]["gpu_id"] == "0"
    persistence = next(t for t in categories["Deployment"] if t["name"] == "Persistence Mode")
    assert "Persistence mode for GPU 0 is disabled" in persistence["results"][0]["info"][0]


@pytest.mark.usefixtures("daemons")
def test_diag_json_and_table_parse_to_the_same_results(node: Path, run: Run) -> None:
    inject_fault(node, "ecc-uncorrectable", gpu=1, count=2)
    table = parse_dcgmi_diag(run("dcgmi.py", "diag", "-r", "2").stdout)
    done = run("dcgmi.py", "diag", "-r", "2", "-j")
    assert done.returncode == 226
    from_json = parse_dcgm_output(done.stdout)
    assert from_json.warnings == ()
    assert from_json.metadata == table.metadata
    assert [(t.name, t.category) for t in from_json.tests] == [
        (t.name, t.category) for t in table.tests
    ]
    remap = next(t for t in from_json.tests if t.name == "Page Retirement/Row Remap")
    assert remap.result == "Fail" and "GPU 1 had uncorrectable" in remap.messages[0].text
    memory = next(t for t in from_json.tests if t.name == "GPU Memory")
    assert memory.gpus_with("Fail") == (1,)
    assert [m.gpu for m in memory.messages if m.kind == "Warning"] == [1]
    assert parse_dcgm_output(run("dcgmi.py", "diag", "-r", "2").stdout).tests == table.tests
    assert parse_dcgm_output("{}").warnings == ("not a `dcgmi diag -j` JSON document",)
    deep = '{"a":' * 100_000 + "1" + "}" * 100_000
    assert parse_dcgm_output(deep).warnings == ("not a `dcgmi diag -j` JSON document",)
