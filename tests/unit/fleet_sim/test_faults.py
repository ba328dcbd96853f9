"""Each fault shows where the real one would; heal clears them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gpuforge.errors import FleetError, InputError
from gpuforge.fleet.sim import FAULTS, active_faults, heal, inject_fault

from . import formats
from .conftest import TOOLS, Run


@pytest.fixture
def daemons(node: Path) -> Iterator[None]:
    """nv-hostengine and nv-fabricmanager running for the node, as their services would."""
    env = dict(os.environ, GPUFORGE_SIM_ROOT=str(node))
    procs = [
        subprocess.Popen([sys.executable, "-S", str(TOOLS / "daemon.py"), name], env=env)
        for name in ("nv-hostengine", "nv-fabricmanager")
    ]
    pidfiles = [
        node / f"var/lib/gpuforge-sim/{n}.pid" for n in ("nv-hostengine", "nv-fabricmanager")
    ]
    for _ in range(200):
        if all(p.exists() for p in pidfiles):
            break
        subprocess.run(["sleep", "0.01"], check=True)
    yield
    for proc in procs:
        proc.terminate()
        proc.wait()


def test_every_fault_is_described() -> None:
    assert {
        "xid",
        "ecc-uncorrectable",
        "gpu-missing",
        "ib-port-down",
        "ib-degraded",
        "nvlink-down",
        "nccl-slow",
        "package-fail",
        "thermal-throttle",
    } <= set(FAULTS)


def test_unknown_fault_and_unseeded_root(tmp_path: Path, node: Path) -> None:
    with pytest.raises(InputError):
        inject_fault(node, "meteor")
    with pytest.raises(FleetError):
        inject_fault(tmp_path / "nothing", "xid")
    with pytest.raises(InputError):
        inject_fault(node, "xid", gpu=12)


def test_xid79_gpu_falls_off_the_bus(node: Path, run: Run) -> None:
    inject_fault(node, "xid", gpu=3, code=79)
    log = run("dmesg.py").stdout
    assert (
        "0000:5d:00",
        79,
        "pid='<unknown>', name=<unknown>, GPU has fallen off the bus.",
    ) in formats.xids(log)
    assert formats.DMESG_PREFIX.match(log.splitlines()[-3])
    table = run("nvidia_smi.py")
    assert table.returncode == 15
    assert table.stdout.startswith(
        "Unable to determine the device handle for GPU0000:5D:00.0: Unknown Error"
    )
    assert len(formats.check_smi_table(table.stdout)) == 7
    assert active_faults(node) == ["xid"]
    heal(node)
    assert run("nvidia_smi.py").returncode == 0
    assert active_faults(node) == []


def test_xid_iso_dmesg_matches_real_capture_format(node: Path, run: Run) -> None:
    inject_fault(node, "xid", gpu=0, code=63)
    sim = run("dmesg.py", "--time-format", "iso").stdout.splitlines()[-1]
    real = formats.capture("xid/xid48-63-94-iso-timestamps-with-peermem.txt").splitlines()[11]
    pattern = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d,\d{6}\+00:00 NVRM: Xid \(PCI:"
    import re

    assert re.match(pattern, real) and re.match(pattern, sim), (real, sim)
    assert query_remap(run) == "Yes"


def query_remap(run: Run) -> str:
    out = run(
        "nvidia_smi.py", "-i", "0", "--query-gpu=remapped_rows.pending", "--format=csv,noheader"
    )
    return out.stdout.strip()


def test_ecc_uncorrectable_shows_in_smi_and_dcgmi(node: Path, run: Run, daemons: None) -> None:
    assert run("dcgmi.py", "diag", "-r", "2").returncode == 0
    inject_fault(node, "ecc-uncorrectable", gpu=1, count=2)
    out = run(
        "nvidia_smi.py",
        "-i",
        "1",
        "--query-gpu=ecc.errors.uncorrected.volatile.total",
        "--format=csv,noheader",
    )
    assert out.stdout.strip() == "2"
    diag = run("dcgmi.py", "diag", "-r", "2")
    assert diag.returncode != 0
    results = formats.check_dcgm(diag.stdout)
    assert results["Page Retirement/Row Remap"][0] == "Fail"
    assert results["GPU Memory"][:2] == ["Pass - GPUs: 0, 2, 3, 4, 5, 6, 7", "Fail - GPU: 1"]


def test_dcgmi_needs_the_host_engine(run: Run) -> None:
    out = run("dcgmi.py", "diag", "-r", "1")
    assert out.returncode == 255
    assert "Unable to connect to host engine" in out.stderr


def test_dcgmi_r1_all_pass_shows_persistence_info(run: Run, daemons: None) -> None:
    results = formats.check_dcgm(run("dcgmi.py", "diag", "-r", "1").stdout)
    assert results["Denylist"] == ["Pass"]
    assert "".join(results["Info"]).startswith("Persistence mode for GPU 0 is disabled.")
    assert "GPU Memory" not in results


def test_gpu_missing(node: Path, run: Run) -> None:
    inject_fault(node, "gpu-missing", gpu=7)
    assert len(run("nvidia_smi.py", "-L").stdout.splitlines()) == 7
    assert "probe routine failed" in run("dmesg.py").stdout


def test_ib_port_down_and_degraded(node: Path, run: Run) -> None:
    inject_fault(node, "ib-port-down", hca="mlx5_2")
    inject_fault(node, "ib-degraded", hca="mlx5_5", rate=200)
    cas = {c["name"]: c for c in formats.check_ibstat(run("ibstat.py").stdout)}
    assert (cas["mlx5_2"]["State"], cas["mlx5_2"]["Physical state"]) == ("Down", "Polling")
    assert cas["mlx5_5"]["Rate"] == "200"
    devs = {d["hca_id"]: d for d in formats.check_ibv_devinfo(run("ibv_devinfo.py").stdout)}
    assert devs["mlx5_2"]["state"] == "PORT_DOWN (1)"


def test_nvlink_down_changes_topology_and_bandwidth(node: Path, run: Run, daemons: None) -> None:
    run_nccl = lambda: formats.check_nccl(  # noqa: E731
        run("all_reduce_perf.py", "-b", "1G", "-e", "8G", "-f", "2", "-g", "8").stdout
    )
    _install_nccl(run)
    healthy = run_nccl()
    assert 440 < healthy["8589934592"] < 480
    inject_fault(node, "nvlink-down", gpu=2)
    rows = formats.check_topo(run("nvidia_smi.py", "topo", "-m").stdout)
    assert rows[2][1] == "NODE" and rows[0][2] == "NV18"
    assert run_nccl()["8589934592"] < 50
    assert (
        formats.check_dcgm(run("dcgmi.py", "diag", "-r", "2").stdout)["PCIe"][1] == "Fail - GPU: 2"
    )


def _install_nccl(run: Run) -> None:
    out = run("simpkg.py", "configure", "libnccl2", "nccl", "2.18.5", "cuda=12.2")
    assert out.returncode == 0, out.stderr


def test_nccl_multi_node_and_slow_factor(node: Path, run: Run, daemons: None) -> None:
    _install_nccl(run)
    two = {"GPUFORGE_SIM_HOSTS": "node-0,node-1"}
    out = run("all_reduce_perf.py", "-b", "8", "-e", "8G", "-f", "2", "-g", "8", env=two)
    busbw = formats.check_nccl(out.stdout)
    assert 380 < busbw["8589934592"] < 460
    assert len([line for line in out.stdout.splitlines() if line.startswith("#  Rank")]) == 16
    inject_fault(node, "ib-port-down", hca="all")
    assert (
        formats.check_nccl(
            run("all_reduce_perf.py", "-b", "1G", "-e", "1G", "-g", "8", env=two).stdout
        )["1073741824"]
        < 5
    )
    heal(node)
    inject_fault(node, "nccl-slow", factor=0.5)
    slow = formats.check_nccl(run("all_reduce_perf.py", "-b", "8G", "-e", "8G", "-g", "8").stdout)
    assert 200 < slow["8589934592"] < 240


def test_nccl_needs_the_library_and_the_fabric_manager(run: Run) -> None:
    out = run("all_reduce_perf.py", "-g", "8")
    assert out.returncode == 127 and "libnccl.so.2" in out.stderr
    _install_nccl(run)
    out = run("all_reduce_perf.py", "-g", "8")
    assert out.returncode != 0 and "system not yet initialized" in out.stdout


def test_thermal_throttle(node: Path, run: Run, daemons: None) -> None:
    inject_fault(node, "thermal-throttle", gpu=4)
    out = run(
        "nvidia_smi.py",
        "-i",
        "4",
        "--query-gpu=clocks_throttle_reasons.active,"
        "clocks_event_reasons.sw_thermal_slowdown,temperature.gpu",
        "--format=csv,noheader",
    )
    active, sw_thermal, temp = out.stdout.strip().split(", ")
    assert int(active, 16) & 0x20 and sw_thermal == "Active" and int(temp) >= 87
    results = formats.check_dcgm(run("dcgmi.py", "diag", "-r", "3").stdout)
    assert results["Targeted Stress"][1] == "Fail - GPU: 4"


def test_package_fail_makes_postinst_fail(node: Path, run: Run) -> None:
    inject_fault(node, "package-fail", name="nvidia-driver-550-server")
    out = run("simpkg.py", "configure", "nvidia-driver-550-server", "driver", "550.90.07")
    assert out.returncode == 1
    assert "Bad return status for module build" in out.stderr
    assert run("simpkg.py", "configure", "libnccl2", "nccl", "2.18.5").returncode == 0


def test_mig_mode_stays_pending_while_dcgm_holds_the_gpu(run: Run, daemons: None) -> None:
    out = run("nvidia_smi.py", "-i", "0", "-mig", "1")
    assert "MIG mode is in pending enable state for GPU 00000000:19:00.0" in out.stdout
    fields = ["--query-gpu=mig.mode.current,mig.mode.pending", "--format=csv,noheader", "-i", "0"]
    assert run("nvidia_smi.py", *fields).stdout.strip() == "Disabled, Enabled"
    assert "was successfully reset" in run("nvidia_smi.py", "-i", "0", "-r").stdout
    assert run("nvidia_smi.py", *fields).stdout.strip() == "Enabled, Enabled"


def test_dcgm_exporter_metrics_follow_the_state(node: Path, run: Run) -> None:
    inject_fault(node, "xid", gpu=5, code=48)
    code = "import exporter; print(exporter.dcgm_metrics())"
    env = dict(os.environ, GPUFORGE_SIM_ROOT=str(node), PYTHONPATH=str(TOOLS))
    text = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    xid_lines = [line for line in text.splitlines() if line.startswith("DCGM_FI_DEV_XID_ERRORS{")]
    assert len(xid_lines) == 8
    assert [line.rsplit(" ", 1)[1] for line in xid_lines].count("48") == 1
    assert 'gpu="5"' in next(line for line in xid_lines if line.endswith(" 48"))
