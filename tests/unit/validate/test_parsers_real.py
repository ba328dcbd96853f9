"""Every parser against every real capture in fixtures/validate/real/, asserting real values."""

from __future__ import annotations

import pytest
from validate_captures import REAL, captures, real

from gpuforge.validate import (
    QUERY_GPU_FIELDS,
    gpus_from_csv,
    parse_dcgmi_diag,
    parse_ibstat,
    parse_ibv_devinfo,
    parse_mig_instances,
    parse_mig_profiles,
    parse_nccl_tests,
    parse_query_gpu_csv,
    parse_smi_query,
    parse_smi_table,
    parse_topo,
    parse_xids,
)

KINDS = {
    "smi-csv",
    "smi-q",
    "smi-q-power",
    "smi-table",
    "topo",
    "mig",
    "dcgmi-diag",
    "ibstat",
    "ibv_devinfo",
    "nccl-tests",
    "xid",
}


def test_every_capture_kind_is_covered() -> None:
    folders = {p.name for p in REAL.iterdir() if p.is_dir()}
    assert folders == KINDS


# --- nvidia-smi --query-gpu CSV -----------------------------------------------------------

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


@pytest.mark.parametrize("name", captures("smi-csv"))
def test_csv_reads_every_row(name: str) -> None:
    table = parse_query_gpu_csv(real(name), NOHEADER_FIELDS.get(name, QUERY_GPU_FIELDS))
    assert table.warnings == ()
    assert table.rows
    assert all(len(row) == len(table.fields) for row in table.rows)


def test_csv_header_with_units_and_bracket_na() -> None:
    table = parse_query_gpu_csv(real("smi-csv/a100-8gpu-csv-header-units-bracketNA-drv525.txt"))
    assert table.fields == ("power.draw", "utilization.gpu", "fan.speed", "temperature.gpu")
    assert len(table.rows) == 8
    assert table.rows[1] == {
        "power.draw": "87.12 W",
        "utilization.gpu": "100 %",
        "fan.speed": None,
        "temperature.gpu": "30",
    }
    assert [g.temperature_c for g in gpus_from_csv(table)][:3] == [28.0, 30.0, 28.0]


def test_csv_all_fields_h100_gives_full_gpu_facts() -> None:
    gpu = gpus_from_csv(
        parse_query_gpu_csv(real("smi-csv/h100-allfields-csv-header-units-drv590.txt"))
    )[0]
    assert gpu.name == "NVIDIA H100 80GB HBM3"
    assert gpu.bus_id == "00000000:00:09.0"
    assert gpu.driver == "590.48.01"
    assert gpu.memory_mib == 81559
    assert gpu.persistence is True
    assert gpu.compute_mode == "DEFAULT"
    assert (gpu.power_limit_w, gpu.power_default_w, gpu.power_min_w, gpu.power_max_w) == (
        700.0,
        700.0,
        200.0,
        700.0,
    )
    assert gpu.ecc_uncorrected_volatile == 0 and gpu.ecc_corrected_volatile == 0
    assert gpu.remap_pending is False
    # The R590 header says clocks_event_reasons.active; 0x1 is "GPU idle".
    assert gpu.throttle_reasons == ("gpu_idle",)
    assert gpu.mig_mode is False
    assert gpu.temperature_c == 41.0


def test_csv_header_names_without_units() -> None:
    gpus = gpus_from_csv(parse_query_gpu_csv(real("smi-csv/a100-80g-4gpu-csv-header-drv580.txt")))
    assert [g.index for g in gpus] == [0, 1, 2, 3]
    assert {g.name for g in gpus} == {"NVIDIA A100-SXM4-80GB"}
    assert {g.memory_mib for g in gpus} == {81920}
    assert {g.driver for g in gpus} == {"580.105.08"}


def test_csv_noheader_uses_the_query_fields() -> None:
    name = "smi-csv/rtxa6000-2gpu-csv-noheader-nounits.txt"
    gpus = gpus_from_csv(parse_query_gpu_csv(real(name), NOHEADER_FIELDS[name]))
    assert [(g.index, g.uuid, g.name) for g in gpus] == [
        (0, "GPU-9de4332b-3b09-a3b4-5589-30229f0c14fe", "NVIDIA RTX A6000"),
        (1, "GPU-9c468c54-b125-4903-1476-77c4d63270be", "NVIDIA RTX A6000"),
    ]


def test_csv_noheader_with_wrong_field_list_warns_instead_of_guessing() -> None:
    table = parse_query_gpu_csv(real("smi-csv/rtx3090-8gpu-csv-noheader-with-units.txt"))
    assert table.rows == ()
    assert len(table.warnings) == 8


def test_csv_nounits_with_unit_header_and_compute_apps() -> None:
    p100 = parse_query_gpu_csv(real("smi-csv/tesla-p100-csv-nounits-header-with-units.txt"))
    assert p100.rows[0]["memory.free"] == "16280" and p100.rows[0]["fan.speed"] is None
    apps = parse_query_gpu_csv(real("smi-csv/h200-query-compute-apps-csv-drv590.txt"))
    assert [r["pid"] for r in apps.rows] == ["10291", "10293", "10309"]
    assert apps.rows[2]["used_gpu_memory"] == "28234 MiB"


# --- nvidia-smi -q ------------------------------------------------------------------------


@pytest.mark.parametrize("name", captures("smi-q") + captures("smi-q-power"))
def test_smi_q_every_capture(name: str) -> None:
    result = parse_smi_query(real(name))
    assert result.warnings == ()
    assert result.gpus
    assert all(g.power_limit_w and g.power_min_w and g.power_max_w for g in result.gpus)
    assert all(g.bus_id for g in result.gpus)


def test_smi_q_a100_eight_gpus_old_layout() -> None:
    result = parse_smi_query(real("smi-q/a100sxm80-8gpu-full-q-drv525.60-raw-file.txt"))
    assert (result.driver_version, result.cuda_version, result.attached_gpus) == (
        "525.60.13",
        "12.0",
        8,
    )
    assert [g.bus_id for g in result.gpus][:2] == ["00000000:07:00.0", "00000000:0B:00.0"]
    first = result.gpus[0]
    assert first.uuid == "GPU-eb0003d2-77b4-70fd-4ab9-3ef1c9853c49"
    assert (first.power_limit_w, first.power_min_w, first.power_max_w) == (400.0, 100.0, 400.0)
    assert first.mig_mode is False and first.remap_pending is False
    assert first.ecc_uncorrected_volatile == 0


def test_smi_q_a10_reports_pending_row_remap() -> None:
    gpu = parse_smi_query(real("smi-q/a10-1gpu-full-q-drv535.129.txt")).gpus[0]
    assert gpu.name == "NVIDIA A10" and gpu.memory_mib == 23028
    assert gpu.remap_pending is True
    assert gpu.throttle_reasons == ("gpu_idle",)


def test_smi_q_h100_mig_and_sram_parity_fields() -> None:
    result = parse_smi_query(real("smi-q/h100-mig-full-q-drv590.txt"))
    gpu = result.gpus[0]
    assert result.cuda_version == "13.1"
    assert gpu.mig_mode is True and gpu.memory_mib == 81559
    assert gpu.ecc_uncorrected_volatile == 0 and gpu.ecc_corrected_volatile == 0


def test_smi_q_r610_ceiling_power_limit_and_deprecated_driver_line() -> None:
    result = parse_smi_query(real("smi-q/rtx2080super-full-q-drv610.txt"))
    gpu = result.gpus[0]
    assert result.driver_version == "610.57.04" and result.cuda_version == "13.3"
    assert (gpu.power_limit_w, gpu.power_min_w, gpu.power_max_w) == (250.0, 105.0, 350.0)
    assert gpu.ecc_uncorrected_volatile is None and gpu.persistence is False


def test_smi_q_volta_layout_and_power_only_queries() -> None:
    titan = parse_smi_query(real("smi-q/titanv-1gpu-full-q-drv560.txt")).gpus[0]
    assert titan.name == "NVIDIA TITAN V" and titan.power_max_w == 300.0
    assert titan.ecc_uncorrected_volatile is None
    vm = parse_smi_query(real("smi-q-power/1gpu-180w-vm-q-i0-d-power-drv545.txt")).gpus[0]
    assert (vm.bus_id, vm.power_limit_w, vm.power_min_w, vm.power_max_w) == (
        "00000000:06:10.0",
        180.0,
        90.0,
        217.0,
    )
    rtx = parse_smi_query(real("smi-q-power/rtx5060ti-q-d-power-drv595.txt"))
    assert rtx.driver_version == "595.71.05" and rtx.gpus[0].power_min_w == 150.0
    a10 = parse_smi_query(real("smi-q-power/a10-q-d-memory-power-drv535.txt")).gpus[0]
    assert a10.memory_mib == 23028 and a10.power_limit_w == 150.0


def test_smi_q_h100_eight_gpus() -> None:
    result = parse_smi_query(real("smi-q/h100sxm-8gpu-a-drv565.txt"))
    assert len(result.gpus) == 8 and result.driver_version == "565.57.01"
    assert result.gpus[-1].bus_id == "00000000:DB:00.0"
    assert {g.power_limit_w for g in result.gpus} == {700.0}


# --- default nvidia-smi table -------------------------------------------------------------


@pytest.mark.parametrize("name", captures("smi-table"))
def test_smi_table_every_capture(name: str) -> None:
    table = parse_smi_table(real(name))
    assert table.warnings == ()
    assert table.driver_version and table.cuda_version
    assert all(g.bus_id and g.memory_mib for g in table.gpus)


def test_smi_table_h100_eight_gpus() -> None:
    table = parse_smi_table(real("smi-table/h100-8gpu-drv550.txt"))
    assert (table.driver_version, table.cuda_version) == ("550.90.07", "12.4")
    assert [g.index for g in table.gpus] == list(range(8))
    assert table.gpus[7].bus_id == "00000000:DB:00.0"
    assert {(g.power_limit_w, g.memory_mib, g.persistence, g.mig_mode) for g in table.gpus} == {
        (700.0, 81559, True, False)
    }


def test_smi_table_mig_devices_and_processes() -> None:
    nvl = parse_smi_table(real("smi-table/h100nvl-mig-3devices-drv560-no-timestamp.txt"))
    assert nvl.gpus[0].mig_mode is True and nvl.gpus[0].bus_id == "00000001:00:00.0"
    assert [(m.gpu_instance, m.memory_total_mib) for m in nvl.mig_devices] == [
        (1, 47488),
        (5, 22144),
        (13, 11008),
    ]
    h200 = parse_smi_table(real("smi-table/h200-load-with-procs-drv590.txt"))
    assert [(p.pid, p.name, p.memory_mib) for p in h200.processes] == [
        (10291, "/root/tools/memhog", 2566),
        (10293, "/root/tools/memhog", 1542),
        (10309, "./gpu_burn", 28234),
    ]
    v100 = parse_smi_table(real("smi-table/v100pcie-8gpu-drv470-with-procs.txt"))
    assert v100.gpus[0].name == "Tesla V100-PCIE..." and len(v100.processes) == 3


def test_smi_table_old_layouts_and_windows() -> None:
    a100 = parse_smi_table(real("smi-table/a100-sxm40g-drv450-oldest-layout-i0.txt"))
    assert a100.gpus[0].name == "A100-SXM4-40GB" and a100.gpus[0].persistence is False
    rtx = parse_smi_table(real("smi-table/rtx4090-err-fan-drv525-old-layout.txt")).gpus[0]
    assert rtx.compute_mode == "EXCLUSIVE_PROCESS" and rtx.temperature_c == 38.0
    win = parse_smi_table(real("smi-table/rtx2080super-windows-wddm-drv610.txt"))
    assert win.driver_version == "610.62" and len(win.processes) == 19
    a30 = parse_smi_table(real("smi-table/a30-mig-3devices-drv535.txt"))
    assert len(a30.mig_devices) == 3 and a30.gpus[0].power_limit_w == 165.0


# --- nvidia-smi topo -m -------------------------------------------------------------------


@pytest.mark.parametrize("name", captures("topo"))
def test_topo_every_capture(name: str) -> None:
    topo = parse_topo(real(name))
    assert topo.warnings == ()
    assert topo.gpus and all(topo.link(g, g) == "X" for g in topo.gpus)


def test_topo_h100_nv18_with_nic_legend_and_empty_cpu_affinity() -> None:
    topo = parse_topo(real("topo/h100-8gpu-nv18-6nic-EMPTY-cpu-affinity-slurm-cgroup.txt"))
    assert len(topo.gpus) == 8
    assert all(topo.nvlinks(a, b) == 18 for a in topo.gpus for b in topo.gpus if a != b)
    assert topo.link("GPU0", "NIC0") == "PIX" and topo.link("GPU3", "NIC2") == "PIX"
    assert topo.nic_names["NIC5"] == "mlx5_5"
    assert "GPU0" not in topo.cpu_affinity and topo.numa_affinity["GPU7"] == "1"


def test_topo_dgx1_mixed_nvlinks_and_pcie_boxes() -> None:
    dgx = parse_topo(real("topo/dgx1-v100-nv1nv2-mlx5cols-oldlegend.txt"))
    assert dgx.link("GPU0", "GPU3") == "NV2" and dgx.nvlinks("GPU0", "GPU1") == 1
    assert dgx.nvlinks("GPU0", "GPU5") == 0 and dgx.link("GPU0", "mlx5_0") == "PIX"
    assert dgx.cpu_affinity["GPU7"] == "0-19,40-59"
    a5000 = parse_topo(real("topo/pcie-8x-a5000-pxb-pix-sys-mlx5cols-savio4.txt"))
    assert a5000.link("GPU2", "GPU3") == "PIX" and a5000.numa_affinity["GPU4"] == "1"
    k40 = parse_topo(real("topo/k40m-4gpu-pcie-phb-soc-mlx4-col-2017-oldest.txt"))
    assert k40.link("GPU0", "GPU2") == "SOC" and k40.cpu_affinity["GPU3"] == "6-11"


def test_topo_a100_tabs_ansi_and_single_gpu() -> None:
    a100 = parse_topo(real("topo/a100-4gpu-nv12-roce-nic-rocep49s0-tabs-drv580.txt"))
    assert a100.nvlinks("GPU1", "GPU3") == 12 and a100.nic_names == {"NIC0": "rocep49s0"}
    assert a100.cpu_affinity["GPU0"] == "32-63,96-127"
    vm = parse_topo(real("topo/h100-1gpu-vm-ansi-underline-drv590.txt"))
    assert vm.devices == ("GPU0",) and vm.cpu_affinity == {"GPU0": "0-19"}
    kvm = parse_topo(real("topo/h100pcie-1gpu-1nic-kvm-drv575.txt"))
    assert kvm.link("GPU0", "NIC0") == "PHB" and kvm.link("NIC0", "GPU0") == "PHB"


# --- MIG ------------------------------------------------------------------------------------

LGI = [n for n in captures("mig") if "-lgi-" in n]
LGIP = [n for n in captures("mig") if "-lgip-" in n]


def test_mig_captures_split_into_lgi_and_lgip() -> None:
    assert len(LGI) + len(LGIP) == len(captures("mig"))


@pytest.mark.parametrize("name", LGI)
def test_mig_instances_every_capture(name: str) -> None:
    parsed = parse_mig_instances(real(name))
    assert parsed.warnings == () and len(parsed.instances) == 3


def test_mig_instances_values() -> None:
    a30 = parse_mig_instances(real("mig/a30-lgi-3instances-drv535.txt"))
    assert a30.layout(0) == {"1g.6gb": 2, "2g.12gb": 1}
    assert a30.instances[2].placement_start == 2 and a30.instances[2].placement_size == 2
    pro = parse_mig_instances(real("mig/rtxpro6000-blackwell-lgi-mixed-wide.txt"))
    assert [(i.profile, i.instance_id) for i in pro.instances] == [
        ("1g.24gb", 5),
        ("1g.24gb", 6),
        ("2g.48gb", 1),
    ]


@pytest.mark.parametrize("name", LGIP)
def test_mig_profiles_every_capture(name: str) -> None:
    parsed = parse_mig_profiles(real(name))
    assert parsed.warnings == () and parsed.profiles


def test_mig_profiles_values() -> None:
    used = parse_mig_profiles(real("mig/a100-40gb-2gpu-lgip-all-used.txt"))
    assert len(used.profiles) == 14 and {p.free for p in used.profiles} == {0}
    nvl = parse_mig_profiles(real("mig/h100nvl-azure-nc40ads-lgip-drv560.txt"))
    seven = nvl.profiles[-1]
    assert (seven.profile, seven.profile_id, seven.memory_gib, seven.sm) == (
        "7g.94gb",
        0,
        93.12,
        132,
    )
    assert parse_mig_instances("No MIG-enabled devices found.\n").warnings == ()


# --- dcgmi diag -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", captures("dcgmi-diag"))
def test_dcgm_every_capture(name: str) -> None:
    diag = parse_dcgmi_diag(real(name))
    assert diag.warnings == () and diag.tests


def test_dcgm_2x_blacklist_failures() -> None:
    diag = parse_dcgmi_diag(real("dcgmi-diag/dcgm2.x-r1-deployment-only-blacklist-fail.txt"))
    assert [t.name for t in diag.tests if t.result == "Fail"] == [
        "Persistence Mode",
        "Environment Variables",
        "Page Retirement",
        "Graphics Processes",
        "Inforom",
    ]
    assert diag.metadata == {}
    r4 = parse_dcgmi_diag(real("dcgmi-diag/dcgm2.x-r4-all-pass-blacklist-no-metadata.txt"))
    assert len(r4.tests) == 18 and {t.result for t in r4.tests} == {"Pass"}
    assert "Diagnostic" in [t.name for t in r4.tests]
    assert r4.tests[-1].name == "Memtest" and r4.tests[-1].scope == "All"


def test_dcgm_3x_fail_all_with_wrapped_warnings() -> None:
    diag = parse_dcgmi_diag(
        real("dcgmi-diag/dcgm3.3.8-r3-failearly-8gpu-h100-cuinit-fail-drv560.txt")
    )
    assert diag.metadata["DCGM Version"] == "3.3.8"
    memory = next(t for t in diag.tests if t.name == "GPU Memory")
    assert (memory.category, memory.result, memory.scope) == ("Hardware", "Fail", "All")
    assert memory.gpus_with("Fail") == tuple(range(8))
    assert memory.messages[0].text.startswith(
        "GPU 0 Error using CUDA API cuInit Check DCGM and system"
    )
    assert memory.messages[0].text.endswith("https://github.com/nvidia/cuda-samples")
    persistence = next(t for t in diag.tests if t.name == "Persistence Mode")
    assert "Enable persistence mode by running" in persistence.messages[0].text
    assert next(t for t in diag.tests if t.name == "PCIe").result == "Skip"


def test_dcgm_4x_per_gpu_rows() -> None:
    diag = parse_dcgmi_diag(real("dcgmi-diag/dcgm4.4.1-r2-8gpu-b200-pcie-fail-drv570.txt"))
    assert diag.metadata["Driver Version Detected"] == "570.172.08"
    pcie = next(t for t in diag.tests if t.name == "pcie")
    assert pcie.result == "Fail" and pcie.gpu_results == {g: "Pass" for g in range(8)}
    assert "couldn't be parsed" in pcie.messages[0].text
    skipped = parse_dcgmi_diag(real("dcgmi-diag/dcgm4.4.2-r3-1gpu-2e12-all-skip-drv580.txt"))
    assert [t.result for t in skipped.tests] == ["Pass"] + ["Skip"] * 7
    assert skipped.tests[1].gpus_with("Skip") == (0,)


# --- ibstat / ibv_devinfo -------------------------------------------------------------------


@pytest.mark.parametrize("name", captures("ibstat"))
def test_ibstat_every_capture(name: str) -> None:
    hcas = parse_ibstat(real(name))
    assert hcas.warnings == () and hcas.hcas
    assert all(p.rate_gbps and p.link_layer for h in hcas.hcas for p in h.ports)


def test_ibstat_values() -> None:
    a100 = parse_ibstat(real("ibstat/a100-cx6-200g-mixed-ib-eth-8plus1.txt")).hcas
    assert len(a100) == 9 and [h.ports[0].link_layer for h in a100].count("InfiniBand") == 8
    assert a100[0].firmware == "22.35.2302" and a100[0].ports[0].rate_gbps == 200.0
    roce = parse_ibstat(real("ibstat/h100-cx7-400g-roce-some-down.txt")).hcas
    down = {
        h.name: (h.ports[0].state, h.ports[0].physical_state)
        for h in roce
        if h.ports[0].state != "Active"
    }
    assert down == {"mlx5_11": ("Down", "Polling"), "mlx5_5": ("Down", "Disabled")}
    fdr = parse_ibstat(real("ibstat/cx3-mlx4-fdr56-ib.txt")).hcas[0]
    assert (fdr.name, fdr.ca_type, fdr.ports[0].rate_gbps) == ("mlx4_0", "MT4099", 56.0)


@pytest.mark.parametrize("name", captures("ibv_devinfo"))
def test_ibv_devinfo_every_capture(name: str) -> None:
    hcas = parse_ibv_devinfo(real(name))
    assert hcas.warnings == () and hcas.hcas
    assert all(p.state in {"Active", "Down"} and p.link_layer for h in hcas.hcas for p in h.ports)


def test_ibv_devinfo_values() -> None:
    azure = parse_ibv_devinfo(real("ibv_devinfo/azure-h200-8x-cx7vf-ndr-plus-eth-an0.txt")).hcas
    assert [h.name for h in azure][-1] == "mlx5_an0" and len(azure) == 9
    assert azure[0].firmware == "28.40.1702" and azure[0].ports[0].link_layer == "InfiniBand"
    dual = parse_ibv_devinfo(
        real("ibv_devinfo/cx3-mlx4-roce-dualport-ethernet-device-ports-2017.txt")
    )
    assert [p.number for p in dual.hcas[0].ports] == [1, 2]
    spark = parse_ibv_devinfo(real("ibv_devinfo/cx7-roce-rocep-names-2up-2down-dgx-spark-like.txt"))
    assert [(h.name, h.ports[0].state) for h in spark.hcas] == [
        ("rocep1s0f0", "Down"),
        ("rocep1s0f1", "Active"),
        ("roceP2p1s0f0", "Down"),
        ("roceP2p1s0f1", "Active"),
    ]


# --- nccl-tests -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", captures("nccl-tests"))
def test_nccl_every_capture(name: str) -> None:
    result = parse_nccl_tests(real(name))
    assert result.rows and result.avg_busbw_gbps and result.ranks
    assert result.out_of_bounds is not None


def test_nccl_single_node_sweep() -> None:
    result = parse_nccl_tests(
        real("nccl-tests/a100-sxm40g-1node-g8-single-process-64B-10G-full-sweep.txt")
    )
    assert len(result.rows) == 28 and result.avg_busbw_gbps == 81.112
    assert result.rows[-1].size_bytes == 8589934592 and result.rows[-1].busbw_out == 235.14
    assert result.peak_busbw_gbps == 235.21 and result.wrong == 0 and result.warnings == ()
    assert result.hosts == ("inst-ks8ls-comp",)


def test_nccl_wrong_and_out_of_bounds() -> None:
    result = parse_nccl_tests(
        real("nccl-tests/gh200-2node-2rank-wrong-nonzero-out-of-bounds-FAILED.txt")
    )
    assert result.wrong == 128 and result.out_of_bounds == 4
    assert result.tests_version == "2.17.8" and result.avg_busbw_gbps == 4.79995
    assert len(result.failures) == 2 and "common.cu:1189" in result.failures[0]


def test_nccl_old_format_with_mpi_tags_and_error_column() -> None:
    result = parse_nccl_tests(
        real("nccl-tests/a100-p4d-2node-efa-old-format-error-col-tag-output-nccl-info.txt")
    )
    assert len(result.rows) == 30 and len(result.ranks) == 16
    assert result.rows[0].wrong_out is None and result.wrong == 0
    assert result.nccl_version == "2.9.9+cuda11.2" and result.avg_busbw_gbps == 11.2432
    assert result.rows[-1].busbw_out == 43.81 and result.ranks[0].gpu == "A100-SXM4-40GB"


def test_nccl_clobbered_row_is_skipped_with_a_warning() -> None:
    result = parse_nccl_tests(
        real("nccl-tests/h200-2node-16rank-interleaved-nccl-info-clobbered-row-FIXTURE.txt")
    )
    assert len(result.rows) == 31 and result.rows[0].size_bytes == 0
    assert result.nccl_version == "2.27.7+cuda12.4" and result.avg_busbw_gbps == 15.9501
    assert len(result.warnings) == 1 and "clobbered" in result.warnings[0]
    assert result.rows[0].dtype == "bfloat16"


def test_nccl_multi_node_hosts_and_versions() -> None:
    a3 = parse_nccl_tests(real("nccl-tests/h100-a3mega-2node-16gpu-mpi.txt"))
    assert a3.hosts == ("ztan-mig-235z", "ztan-mig-gq73") and a3.avg_busbw_gbps == 70.742
    assert a3.peak_busbw_gbps == 338.82
    olivia = parse_nccl_tests(real("nccl-tests/gh200-2node-8rank-slingshot-v2.18.3.txt"))
    assert olivia.tests_version == "2.18.3" and olivia.rows[0].dtype == "int8"
    horovod = parse_nccl_tests(
        real("nccl-tests/a100-sxm40g-2node-16rank-horovod-container-full-sweep.txt")
    )
    assert len(horovod.ranks) == 16 and horovod.avg_busbw_gbps == 24.2272


# --- XIDs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", captures("xid"))
def test_xid_every_capture(name: str) -> None:
    assert parse_xids(real(name)).events


def test_xid_values() -> None:
    iso = parse_xids(real("xid/xid48-63-94-iso-timestamps-with-peermem.txt")).events
    assert [e.code for e in iso[:3]] == [48, 63, 94] and len(iso) == 11
    assert iso[0].pid is None and iso[0].text.startswith("An uncorrectable double bit error")
    assert (iso[3].pid, iso[3].process, iso[3].text) == (1248209, "python3.10", "Ch 00000008")
    aws = parse_xids(real("xid/xid63-row-remap-syslog-line-in-alert-wrapper-aws.txt")).events[0]
    assert (aws.bus_id, aws.code, aws.pid) == ("0000:10:1c", 63, 1850)
    gsp = parse_xids(real("xid/xid120-gsp-crashcat-journalctl-fedora.txt")).events
    assert [(e.bus_id, e.code) for e in gsp] == [("0000:23:00", 120)]
    fallen = parse_xids(real("xid/fallen-off-bus-multiline-no-xid-dmesg-drv570.txt")).events
    assert [(e.bus_id, e.code) for e in fallen] == [("0000:b3:00.0", 79)]
    assert "fallen off the bus" in fallen[0].text
