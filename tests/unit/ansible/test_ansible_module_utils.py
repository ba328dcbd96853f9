"""The pure logic of the gpuforge.gpu modules, fed with real nvidia-smi captures.

The captures live in ../shared/reference/real-outputs/; line 1 of each names its source.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[3]
REAL = REPO.parent / "shared" / "reference" / "real-outputs"
sys.path.insert(0, str(REPO / "src" / "gpuforge"))
_UTILS = "ansible_collections.gpuforge.gpu.plugins.module_utils."


def _utils(name: str) -> ModuleType:
    return importlib.import_module(_UTILS + name)


smi = _utils("smi")
gs = _utils("gpu_settings")
mig = _utils("mig")
collect = _utils("collect")

pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason="real captures not present")


def capture(relative: str) -> str:
    """Return a real capture without its source line."""
    return (REAL / relative).read_text().split("\n", 1)[1]


H100_ALL = "smi-csv/h100-allfields-csv-header-units-drv590.txt"
HEADER_CAPTURES = [
    "smi-csv/a100-80g-4gpu-csv-header-drv580.txt",
    "smi-csv/a100-8gpu-csv-header-units-bracketNA-drv525.txt",
    H100_ALL,
    "smi-csv/h200-query-compute-apps-csv-drv590.txt",
    "smi-csv/tesla-p100-csv-nounits-header-with-units.txt",
]


@pytest.mark.parametrize("name", HEADER_CAPTURES)
def test_every_header_capture_parses_into_rows_keyed_without_units(name: str) -> None:
    rows = smi.parse_csv(capture(name))
    assert rows
    assert all("[" not in key for key in rows[0])
    assert all(len(row) == len(rows[0]) for row in rows)


def test_h100_capture_values_and_missing_cells() -> None:
    (row,) = smi.parse_csv(capture(H100_ALL))
    assert row["name"] == "NVIDIA H100 80GB HBM3"
    assert smi.number(row["power.limit"]) == 700.0
    assert smi.number(row["power.min_limit"]) == 200.0
    assert smi.number(row["fan.speed"]) is None
    assert row["persistence_mode"] == "Enabled"
    assert row["compute_mode"] == "Default"


def test_units_in_values_and_bracket_na() -> None:
    rows = smi.parse_csv(capture("smi-csv/a100-8gpu-csv-header-units-bracketNA-drv525.txt"))
    assert [smi.number(row["power.draw"]) for row in rows][:2] == [67.97, 87.12]
    assert {row["fan.speed"] for row in rows} == {"[N/A]"}


def test_ragged_csv_is_refused() -> None:
    with pytest.raises(ValueError, match="2 cells, header has 3"):
        smi.parse_csv("index, name, uuid\n0, A100\n")


def test_gpu_selector_omits_i_when_all_gpus() -> None:
    assert smi.gpu_selector([1, 0], [0, 1]) == []
    assert smi.gpu_selector([3, 1], [0, 1, 2, 3]) == ["-i", "1,3"]


def test_settings_already_right_on_h100_change_nothing() -> None:
    desired = gs.Desired(persistence_mode=True, power_limit_w=700, compute_mode="DEFAULT")
    plan = gs.plan_settings(capture(H100_ALL), desired)
    assert plan.commands == []
    assert plan.errors == []


def test_settings_that_differ_on_h100_become_commands() -> None:
    desired = gs.Desired(
        persistence_mode=False, power_limit_w=500, compute_mode="EXCLUSIVE_PROCESS"
    )
    plan = gs.plan_settings(capture(H100_ALL), desired)
    assert plan.commands == [
        ("persistence_mode", ["-pm", "0"]),
        ("power_limit", ["-pl", "500"]),
        ("compute_mode", ["-c", "1"]),
    ]


def test_power_limit_outside_the_gpu_range_is_an_error_not_a_command() -> None:
    plan = gs.plan_settings(capture(H100_ALL), gs.Desired(power_limit_w=150))
    assert plan.commands == []
    assert plan.errors == ["GPU 0: power limit 150 W is outside its range 200-700 W"]


MULTI = (
    "index, persistence_mode, power.limit [W], power.min_limit [W], power.max_limit [W],"
    " compute_mode, clocks.applications.memory [MHz], clocks.applications.graphics [MHz]\n"
    "0, Enabled, 700.00, 200.00, 700.00, Exclusive_Process, 2619, 1980\n"
    "1, Disabled, 650.00, 200.00, 700.00, Default, 2619, 1755\n"
    "2, Enabled, 700.00, 200.00, 700.00, Exclusive_Process, [N/A], [N/A]\n"
)


def test_only_the_gpus_that_differ_are_addressed() -> None:
    desired = gs.Desired(
        persistence_mode=True,
        power_limit_w=700,
        compute_mode="EXCLUSIVE_PROCESS",
        application_clocks=(2619, 1980),
    )
    plan = gs.plan_settings(MULTI, desired)
    assert plan.commands == [
        ("persistence_mode", ["-i", "1", "-pm", "1"]),
        ("power_limit", ["-i", "1", "-pl", "700"]),
        ("compute_mode", ["-i", "1", "-c", "1"]),
        ("application_clocks", ["-i", "1,2", "-ac", "2619,1980"]),
    ]


def test_gpu_subset_and_unknown_gpu() -> None:
    plan = gs.plan_settings(MULTI, gs.Desired(compute_mode="DEFAULT"), gpus=[0])
    assert plan.commands == [("compute_mode", ["-i", "0", "-c", "0"])]
    assert gs.plan_settings(MULTI, gs.Desired(compute_mode="DEFAULT"), gpus=[7]).errors


def test_locked_clocks_follow_the_recorded_state() -> None:
    same = gs.plan_settings(MULTI, gs.Desired(locked_clocks=(1400, 1980)), locked_now=(1400, 1980))
    assert same.commands == []
    new = gs.plan_settings(MULTI, gs.Desired(locked_clocks=(1500, 1980)), locked_now=(1400, 1980))
    assert new.commands == [("locked_clocks", ["-lgc", "1500,1980"])]
    reset = gs.plan_settings(MULTI, gs.Desired(reset_locked_clocks=True), locked_now=(1400, 1980))
    assert reset.commands == [("locked_clocks", ["-rgc"])]
    assert gs.plan_settings(MULTI, gs.Desired(reset_locked_clocks=True)).commands == []


LGIP = {
    "mig/a100-40gb-2gpu-lgip-all-used.txt": ({0, 1}, 7),
    "mig/a100-40gb-lgip-7profiles-doc.txt": ({0}, 7),
    "mig/a30-lgip-drv535.txt": ({0}, 5),
    "mig/h100nvl-azure-nc40ads-lgip-drv560.txt": ({0}, 7),
}


@pytest.mark.parametrize("name", sorted(LGIP))
def test_every_lgip_capture_parses(name: str) -> None:
    gpus, count = LGIP[name]
    table = mig.parse_lgip(capture(name))
    assert set(table) == gpus
    assert all(len(profiles) == count for profiles in table.values())


def test_lgip_fields() -> None:
    profiles = mig.parse_lgip(capture("mig/h100nvl-azure-nc40ads-lgip-drv560.txt"))[0]
    assert profiles["3g.47gb"] == mig.Profile("3g.47gb", 9, 2, 2, 46.38)
    assert profiles["1g.12gb+me"].profile_id == 20
    used = mig.parse_lgip(capture("mig/a100-40gb-2gpu-lgip-all-used.txt"))[1]["1g.5gb"]
    assert (used.free, used.total) == (0, 7)


def test_lgi_captures_parse_including_wide_blackwell_rows() -> None:
    a30 = mig.parse_lgi(capture("mig/a30-lgi-3instances-drv535.txt"))
    assert [(i.name, i.profile_id, i.instance_id, i.start, i.size) for i in a30] == [
        ("1g.6gb", 14, 3, 0, 1),
        ("1g.6gb", 14, 4, 1, 1),
        ("2g.12gb", 5, 2, 2, 2),
    ]
    wide = mig.parse_lgi(capture("mig/rtxpro6000-blackwell-lgi-mixed-wide.txt"))
    assert sorted(i.name for i in wide) == ["1g.24gb", "1g.24gb", "2g.48gb"]
    assert mig.parse_lgi("No GPU instances found: Not Found\n") == []


def test_matching_instances_leave_the_gpu_alone_in_any_order() -> None:
    profiles = mig.parse_lgip(capture("mig/a30-lgip-drv535.txt"))[0]
    existing = mig.parse_lgi(capture("mig/a30-lgi-3instances-drv535.txt"))
    action = mig.plan_gpu(0, {"2g.12gb": 1, "MIG 1g.6gb": 2}, profiles, existing)
    assert action == mig.GpuAction(0, destroy=False, create=[])


def test_different_instances_are_destroyed_and_recreated_largest_first() -> None:
    profiles = mig.parse_lgip(capture("mig/a30-lgip-drv535.txt"))[0]
    existing = mig.parse_lgi(capture("mig/a30-lgi-3instances-drv535.txt"))
    action = mig.plan_gpu(0, {"1g.6gb": 2, "2g.12gb": 1, "4g.24gb": 0}, profiles, existing[:2])
    assert action == mig.GpuAction(0, destroy=True, create=[5, 14, 14])
    assert mig.create_command(action) == ["mig", "-i", "0", "-cgi", "5,14,14", "-C"]
    fresh = mig.plan_gpu(0, {"4g.24gb": 1}, profiles, [])
    assert fresh == mig.GpuAction(0, destroy=False, create=[0])


def test_impossible_configs_are_refused() -> None:
    profiles = mig.parse_lgip(capture("mig/a30-lgip-drv535.txt"))[0]
    with pytest.raises(ValueError, match=r"no MIG profile 3g\.20gb"):
        mig.plan_gpu(0, {"3g.20gb": 1}, profiles, [])
    with pytest.raises(ValueError, match=r"at most 4 x 1g\.6gb, 5 asked"):
        mig.plan_gpu(0, {"1g.6gb": 5}, profiles, [])


def test_named_layouts_resolve_per_gpu_model() -> None:
    a100 = mig.parse_lgip(capture("mig/a100-40gb-lgip-7profiles-doc.txt"))[0]
    assert mig.resolve_layout("all-1g", a100) == {"1g.5gb": 7}
    assert mig.resolve_layout("all-balanced", a100) == {"1g.5gb": 2, "2g.10gb": 1, "3g.20gb": 1}
    nvl = mig.parse_lgip(capture("mig/h100nvl-azure-nc40ads-lgip-drv560.txt"))[0]
    assert mig.resolve_layout("all-7g", nvl) == {"7g.94gb": 1}
    a30 = mig.parse_lgip(capture("mig/a30-lgip-drv535.txt"))[0]
    with pytest.raises(ValueError, match="no 3g profile"):
        mig.resolve_layout("all-3g", a30)
    with pytest.raises(ValueError, match="unknown MIG layout"):
        mig.resolve_layout("half", a30)


def test_collectors_follow_the_options() -> None:
    names = [c.name for c in collect.collectors(dcgm_level=1, mig=False, nccl_gpus=0)]
    assert names == [
        "smi_query",
        "smi_q",
        "smi_topo",
        "smi_apps",
        "ps_owners",
        "gpu_watch",
        "dcgmi_diag",
        "ibstat",
        "kernel_log",
        "packages",
    ]
    full = {c.name: c for c in collect.collectors(dcgm_level=3, mig=True, nccl_gpus=8)}
    assert full["dcgmi_diag"].commands == (
        ("dcgmi", "diag", "-r", "3", "-j"),
        ("dcgmi", "diag", "-r", "3"),
    )
    assert full["smi_q"].commands == (("nvidia-smi", "-q", "-x"), ("nvidia-smi", "-q"))
    assert full["nccl_all_reduce"].commands[0][-2:] == ("-g", "8")
    assert "mig_lgi" in full
    query = full["smi_query"].commands[0][1]
    assert query.startswith("--query-gpu=index,name,uuid,pci.bus_id,driver_version,")
    assert query.endswith(",mig.mode.current,temperature.gpu")


def test_the_structured_form_is_kept_and_the_text_form_is_the_fallback() -> None:
    """`-q -x` and `diag -j` are kept when their output is XML/JSON, whatever the exit status;
    a tool that rejects the option or prints text instead falls back to the text form."""
    full = {c.name: c for c in collect.collectors(dcgm_level=2, mig=False, nccl_gpus=0)}
    smi, dcgm, kernel = full["smi_q"], full["dcgmi_diag"], full["kernel_log"]
    xml = '<?xml version="1.0" ?>\n<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v12.dtd">\n'
    text = capture("smi-q/h100sxm-8gpu-a-drv565.txt")
    assert smi.keeps(smi.commands[0], 0, xml + "<nvidia_smi_log/>\n")
    assert not smi.keeps(smi.commands[0], 0, text)
    assert not smi.keeps(smi.commands[0], 2, "Invalid combination of input arguments.\n")
    assert smi.keeps(smi.commands[1], 0, text)
    assert smi.keeps(smi.commands[1], 9, "NVIDIA-SMI has failed\n")
    assert dcgm.keeps(dcgm.commands[0], 226, '{"DCGM GPU Diagnostic": {}}')
    assert not dcgm.keeps(
        dcgm.commands[0], 0, capture("dcgmi-diag/dcgm2.x-r4-all-pass-blacklist-no-metadata.txt")
    )
    assert kernel.keeps(kernel.commands[0], 0, "") and not kernel.keeps(kernel.commands[0], 1, "")


def test_gpu_count_reads_the_query_output() -> None:
    assert collect.gpu_count(capture("smi-csv/a100-80g-4gpu-csv-header-drv580.txt")) == 4
    assert (
        collect.gpu_count("NVIDIA-SMI has failed because it couldn't communicate with the driver\n")
        == 0
    )
    assert collect.gpu_count("") == 0


def test_collector_files_follow_the_layout_gpuforge_validate_reads() -> None:
    layout = importlib.import_module("gpuforge.validate._layout")
    ours = collect.collectors(dcgm_level=1, mig=True, nccl_gpus=8)
    assert sorted(c.filename for c in ours) == sorted(c.file for c in layout.COLLECTORS)
    assert {c.stem for c in ours} == {c.stem for c in layout.COLLECTORS}
    assert collect.SMI_FIELDS == layout.QUERY_GPU_FIELDS


def test_locked_clocks_reset_by_hand_are_locked_again() -> None:
    """The record says locked, but a GPU's graphics clock is outside the range: lock again."""
    header = MULTI.split("\n", 1)[0] + ", clocks.gr [MHz]\n"
    rows = "0, Enabled, 700.00, 200.00, 700.00, Exclusive_Process, 2619, 1980, {}\n"
    locked = gs.Desired(locked_clocks=(1400, 1980))
    inside = gs.plan_settings(header + rows.format(1400), locked, locked_now=(1400, 1980))
    assert inside.commands == []
    reset = gs.plan_settings(header + rows.format(345), locked, locked_now=(1400, 1980))
    assert reset.commands == [("locked_clocks", ["-lgc", "1400,1980"])]
