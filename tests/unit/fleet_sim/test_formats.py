"""The real captures pass the format rules, then the simulator's output passes the same rules."""

from __future__ import annotations

import pytest

from . import formats
from .conftest import Run

CSV_CAPTURES = {
    "smi-csv/a100-80g-4gpu-csv-header-drv580.txt": (True, True),
    "smi-csv/a100-8gpu-csv-header-units-bracketNA-drv525.txt": (True, True),
    "smi-csv/h100-allfields-csv-header-units-drv590.txt": (True, True),
    "smi-csv/rtx3090-8gpu-csv-noheader-with-units.txt": (False, True),
    "smi-csv/rtxa6000-2gpu-csv-noheader-nounits.txt": (False, False),
    "smi-csv/tesla-p100-csv-nounits-header-with-units.txt": (True, False),
}


@pytest.mark.parametrize("name", sorted(CSV_CAPTURES))
def test_csv_rules_hold_on_real_captures(name: str) -> None:
    header, units = CSV_CAPTURES[name]
    assert formats.check_csv(formats.capture(name), header, units)


@pytest.mark.parametrize(
    ("fmt", "header", "units"),
    [
        ("csv", True, True),
        ("csv,noheader", False, True),
        ("csv,noheader,nounits", False, False),
        ("csv,nounits", True, False),
    ],
)
def test_sim_csv_follows_the_same_rules(run: Run, fmt: str, header: bool, units: bool) -> None:
    fields = "index,name,pci.bus_id,memory.total,power.draw,power.limit,fan.speed,temperature.gpu"
    out = run("nvidia_smi.py", f"--query-gpu={fields}", f"--format={fmt}")
    assert out.returncode == 0, out.stdout
    rows = formats.check_csv(out.stdout, header, units)
    assert len(rows) == 8
    assert rows[0][6] == "[N/A]"


def test_sim_accepts_every_field_of_the_real_h100_header_it_knows(run: Run) -> None:
    text = formats.capture("smi-csv/h100-allfields-csv-header-units-drv590.txt")
    real_header = text.splitlines()[0].split(", ")
    known = [
        "memory.total [MiB]",
        "power.limit [W]",
        "clocks.max.sm [MHz]",
        "pci.bus_id",
        "ecc.errors.uncorrected.volatile.total",
        "remapped_rows.pending",
        "compute_cap",
        "clocks_event_reasons.active",
        "mig.mode.current",
        "persistence_mode",
    ]
    fields = [h.split(" [")[0] for h in known]
    out = run("nvidia_smi.py", f"--query-gpu={','.join(fields)}", "--format=csv", "-i", "0")
    header = out.stdout.splitlines()[0].split(", ")
    assert header == known
    assert set(known) <= set(real_header)


def test_unknown_field_is_refused_like_the_real_tool(run: Run) -> None:
    out = run("nvidia_smi.py", "--query-gpu=index,bogus", "--format=csv")
    assert out.returncode == 2
    assert 'Field "bogus" is not a valid field to query.' in out.stdout


def test_table_rules_on_real_and_sim(run: Run) -> None:
    real = formats.check_smi_table(formats.capture("smi-table/h100-8gpu-drv550.txt"))
    sim = formats.check_smi_table(run("nvidia_smi.py").stdout)
    assert len(real) == len(sim) == 8
    assert [g["name"] for g in sim] == [g["name"] for g in real]
    assert [g["bus"] for g in sim] == [g["bus"] for g in real]
    assert sim[0]["cap"] == real[0]["cap"] == "700"


@pytest.mark.parametrize(
    "name", ["smi-q/h100sxm-8gpu-a-drv565.txt", "smi-q/a10-1gpu-full-q-drv535.129.txt"]
)
def test_q_rules_on_real_captures(name: str) -> None:
    values = formats.check_q(formats.capture(name))
    assert "Product Name" in values


def test_q_rules_on_sim_and_same_keys_as_real(run: Run) -> None:
    real = formats.check_q(formats.capture("smi-q/h100sxm-8gpu-a-drv565.txt"))
    sim = formats.check_q(run("nvidia_smi.py", "-q").stdout)
    for key in (
        "Product Name",
        "Persistence Mode",
        "Current Power Limit",
        "Max Power Limit",
        "Compute Mode",
        "Bus Id",
        "GPU UUID",
        "Total",
        "Pending",
    ):
        assert key in sim and key in real, key
    assert sim["Product Name"] == real["Product Name"]


@pytest.mark.parametrize("name", formats.captures("smi-q-power"))
def test_q_power_rules_on_real_captures(name: str) -> None:
    values = formats.check_q(formats.capture(name))
    assert values["Max Power Limit"].endswith(" W")


def test_q_power_on_sim(run: Run) -> None:
    text = run("nvidia_smi.py", "-q", "-d", "POWER", "-i", "0").stdout
    values = formats.check_q(text)
    assert values["Max Power Limit"] == "700.00 W"
    assert values["Min Power Limit"] == "200.00 W"
    assert "Power Samples" in text
    assert "Product Name" not in values


@pytest.mark.parametrize("name", formats.captures("topo"))
def test_topo_rules_on_real_captures(name: str) -> None:
    assert formats.check_topo(formats.capture(name))


def test_topo_on_sim_matches_real_hgx_h100(run: Run) -> None:
    real = formats.check_topo(
        formats.capture("topo/h100-8gpu-nv18-6nic-EMPTY-cpu-affinity-slurm-cgroup.txt")
    )
    sim = formats.check_topo(run("nvidia_smi.py", "topo", "-m").stdout)
    assert [r[1:9] for r in sim[:8]] == [r[1:9] for r in real[:8]]
    gpu_row = run("nvidia_smi.py", "topo", "-m").stdout.splitlines()[1]
    assert gpu_row.endswith("\t0\t\tN/A")


def test_topo_nv12_on_a100(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from .conftest import make_node, run_tool

    root = make_node(tmp_path / "a100", "hgx-a100-80-8")
    rows = formats.check_topo(run_tool(root, "nvidia_smi.py", "topo", "-m").stdout)
    assert rows[0][2] == "NV12"


@pytest.mark.parametrize("name", [n for n in formats.captures("mig") if "lgip" in n])
def test_lgip_rules_on_real_captures(name: str) -> None:
    assert formats.check_lgip(formats.capture(name))


@pytest.mark.parametrize("name", [n for n in formats.captures("mig") if "lgi-" in n])
def test_lgi_rules_on_real_captures(name: str) -> None:
    assert formats.check_lgi(formats.capture(name))


def test_lgip_sim_matches_real_layout(run: Run) -> None:
    run("nvidia_smi.py", "-i", "0", "-mig", "1")
    sim = run("nvidia_smi.py", "mig", "-lgip").stdout
    rows = formats.check_lgip(sim)
    assert [r[1] for r in rows] == [
        "1g.10gb",
        "1g.10gb+me",
        "1g.20gb",
        "2g.20gb",
        "3g.40gb",
        "4g.40gb",
        "7g.80gb",
    ]
    real = formats.capture("mig/h100nvl-azure-nc40ads-lgip-drv560.txt").splitlines()
    assert sim.splitlines()[:5] == real[:5]
    assert sim.splitlines()[6] == real[6], "engine line columns"


@pytest.mark.parametrize("name", formats.captures("dcgmi-diag"))
def test_dcgm_rules_on_real_captures(name: str) -> None:
    results = formats.check_dcgm(formats.capture(name))
    assert results


@pytest.mark.parametrize("name", formats.captures("ibstat"))
def test_ibstat_rules_on_real_captures(name: str) -> None:
    assert formats.check_ibstat(formats.capture(name))


def test_ibstat_sim(run: Run) -> None:
    cas = formats.check_ibstat(run("ibstat.py").stdout)
    assert [c["name"] for c in cas] == [f"mlx5_{i}" for i in range(8)]
    assert {c["Rate"] for c in cas} == {"400"}
    assert {c["Link layer"] for c in cas} == {"InfiniBand"}


@pytest.mark.parametrize("name", formats.captures("ibv_devinfo"))
def test_ibv_devinfo_rules_on_real_captures(name: str) -> None:
    assert formats.check_ibv_devinfo(formats.capture(name))


def test_ibv_devinfo_sim(run: Run) -> None:
    devs = formats.check_ibv_devinfo(run("ibv_devinfo.py").stdout)
    assert len(devs) == 8
    assert devs[0]["state"] == "PORT_ACTIVE (4)"


@pytest.mark.parametrize(
    "name",
    [n for n in formats.captures("nccl-tests") if "FIXTURE" not in n and "FAILED" not in n],
)
def test_nccl_rules_on_real_captures(name: str) -> None:
    busbw = formats.check_nccl(formats.capture(name))
    assert busbw["avg"] > 0


@pytest.mark.parametrize("name", formats.captures("xid"))
def test_xid_captures_parse(name: str) -> None:
    text = formats.capture(name)
    assert formats.xids(text) or "fallen off the bus" in text
