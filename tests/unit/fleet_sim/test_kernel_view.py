"""Devices and kernel as the tools see them: lspci, /proc files, /dev nodes, modinfo, reboot,
journalctl."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from gpuforge.fleet.sim._seed import PROC_DIR

from .conftest import TOOLS, Run, make_node, run_tool


def test_lspci_lists_gpus_nvswitches_and_hcas_with_their_pci_ids(run: Run) -> None:
    listing = run("lspci.py", "-nn").stdout.splitlines()
    gpus = [line for line in listing if "[10de:2330]" in line]
    assert len(gpus) == 8
    assert gpus[0] == (
        "19:00.0 3D controller [0302]: NVIDIA Corporation GH100 [H100 SXM5 80GB] "
        "[10de:2330] (rev a1)"
    )
    assert sum("[10de:22a3]" in line for line in listing) == 4
    assert (
        sum("Infiniband controller [0207]" in line and "[15b3:1021]" in line for line in listing)
        == 8
    )
    nvidia = run("lspci.py", "-d", "10de:").stdout.splitlines()
    assert len(nvidia) == 12 and all("NVIDIA Corporation" in line for line in nvidia)
    assert run("lspci.py", "-n", "-d", "10de:2330").stdout.splitlines()[0] == (
        "19:00.0 0302: 10de:2330 (rev a1)"
    )
    verbose = run("lspci.py", "-v", "-s", "19:00.0").stdout
    assert "Kernel driver in use: nvidia\n" in verbose and "NUMA node 0" in verbose
    assert run("lspci.py", "-x").returncode == 2


def test_lspci_knows_a100_and_efa_ids(tmp_path: Path) -> None:
    a100 = make_node(tmp_path / "a", "hgx-a100-80-8", driver=None)
    listing = run_tool(a100, "lspci.py", "-nn").stdout
    assert listing.count("[10de:20b2]") == 8 and listing.count("[10de:1af1]") == 6
    assert "Kernel driver" not in run_tool(a100, "lspci.py", "-k", "-d", "10de:20b2").stdout
    p5 = make_node(tmp_path / "p", "p5-efa", driver=None)
    assert run_tool(p5, "lspci.py", "-d", "1d0f:efa1").stdout.count("Elastic Fabric Adapter") == 32


def test_proc_files_and_dev_nodes_follow_the_driver(node: Path, run: Run) -> None:
    version = node / PROC_DIR / "driver/nvidia/version"
    text = version.read_text()
    assert text.startswith("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  535.183.01  ")
    modules = (node / PROC_DIR / "modules").read_text().splitlines()
    assert [m.split()[0] for m in modules[:4]] == [
        "nvidia_uvm", "nvidia_drm", "nvidia_modeset", "nvidia"
    ]  # fmt: skip
    assert modules[3].endswith("(OE)") and "mlx5_core" in {m.split()[0] for m in modules}
    dev = node / "dev"
    names = {str(p.relative_to(dev)) for p in dev.rglob("*")}
    assert {f"nvidia{i}" for i in range(8)} | {"nvidiactl", "nvidia-uvm"} <= names
    assert {"infiniband/uverbs0", "infiniband/umad7"} <= names
    done = run("simpkg.py", "remove", "nvidia-driver-535-server", "driver", "535.183.01")
    assert done.returncode == 0, done.stderr
    assert not version.exists()
    assert not [p for p in dev.iterdir() if p.name.startswith("nvidia")]
    assert "nvidia" not in (node / PROC_DIR / "modules").read_text()


def test_modinfo_reports_the_installed_driver(tmp_path: Path) -> None:
    node = make_node(tmp_path / "n", driver=None)
    missing = run_tool(node, "modinfo.py", "nvidia")
    assert (missing.returncode, missing.stderr) == (1, "modinfo: ERROR: Module nvidia not found.\n")
    make_node(node)
    assert run_tool(node, "modinfo.py", "-F", "version", "nvidia").stdout == "535.183.01\n"
    full = run_tool(node, "modinfo.py", "nvidia").stdout
    assert "license:        Dual MIT/GPL\n" in full
    assert f"/lib/modules/{os.uname().release}/updates/dkms/nvidia.ko" in full


def test_shutdown_reboots_the_node_and_changes_the_boot_id(node: Path, run: Run) -> None:
    boot_id = (node / PROC_DIR / "boot_id").read_text()
    assert run("nvidia_smi.py", "-pm", "1").returncode == 0
    done = run("shutdown.py", "-r", "0", "Reboot initiated by Ansible")
    assert done.returncode == 0, done.stderr
    assert (node / PROC_DIR / "boot_id").read_text() != boot_id
    assert "Disabled" in run("nvidia_smi.py", "--query-gpu=persistence_mode", "--format=csv").stdout
    refused = run("shutdown.py", "-h", "now")
    assert refused.returncode == 1 and "cannot power off" in refused.stderr


def test_reboot_runs_as_its_own_name(node: Path, tmp_path: Path) -> None:
    reboot = tmp_path / "reboot"
    shutil.copy(TOOLS / "shutdown.py", reboot)
    boot_id = (node / PROC_DIR / "boot_id").read_text()
    env = dict(os.environ, GPUFORGE_SIM_ROOT=str(node), PYTHONPATH=str(TOOLS))
    done = subprocess.run(
        [sys.executable, "-S", str(reboot)], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert (node / PROC_DIR / "boot_id").read_text() != boot_id


def test_journalctl_shows_a_units_output(node: Path, run: Run) -> None:
    journal = node / "var/log/journal"
    journal.mkdir(parents=True)
    (journal / "nvidia-persistenced.service.log").write_text("Started NVIDIA Persistence\n")
    shown = run("journalctl.py", "-u", "nvidia-persistenced", "--no-pager", "-o", "cat")
    assert shown.stdout == "Started NVIDIA Persistence\n"
    assert run("journalctl.py", "-u", "nvidia-dcgm", "-q").stdout == ""
    assert run("journalctl.py", "-u", "nvidia-dcgm").stdout == "-- No entries --\n"
    assert "NVRM: loading" in run("journalctl.py", "-k").stdout
