"""Settings change the simulated state as the real tools do, and a reboot resets them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from . import formats
from .conftest import Run, make_node, run_tool


def query(run: Run, fields: str, gpu: str = "0") -> list[str]:
    out = run("nvidia_smi.py", "-i", gpu, f"--query-gpu={fields}", "--format=csv,noheader,nounits")
    assert out.returncode == 0, out.stdout
    return out.stdout.strip().split(", ")


def test_power_on_defaults(run: Run) -> None:
    assert query(run, "persistence_mode,compute_mode,power.limit,mig.mode.current") == [
        "Disabled",
        "Default",
        "700.00",
        "Disabled",
    ]


def test_power_limit_then_query(run: Run) -> None:
    out = run("nvidia_smi.py", "-i", "0", "-pl", "500")
    assert out.returncode == 0
    assert out.stdout == (
        "Power limit for GPU 00000000:19:00.0 was set to 500.00 W from 700.00 W.\nAll done.\n"
    )
    assert query(run, "power.limit") == ["500.00"]
    assert query(run, "power.limit", gpu="1") == ["700.00"]


def test_power_limit_out_of_range_fails_with_the_real_message(run: Run) -> None:
    out = run("nvidia_smi.py", "-pl", "900")
    assert out.returncode == 2
    assert out.stdout.splitlines() == [
        "Provided power limit 900.00 W is not a valid power limit which should be between "
        "200.00 W and 700.00 W for GPU 00000000:19:00.0",
        "Terminating early due to previous errors.",
    ]
    assert query(run, "power.limit") == ["700.00"]


def test_persistence_compute_mode_and_clocks(run: Run) -> None:
    assert (
        "Enabled persistence mode for GPU 00000000:19:00.0."
        in run("nvidia_smi.py", "-pm", "1").stdout
    )
    assert "already Enabled" in run("nvidia_smi.py", "-i", "0", "-pm", "1").stdout
    assert "Set compute mode to EXCLUSIVE_PROCESS" in run("nvidia_smi.py", "-c", "1").stdout
    run("nvidia_smi.py", "-lgc", "1200,1980")
    assert query(run, "persistence_mode,compute_mode,clocks.sm") == [
        "Enabled",
        "Exclusive_Process",
        "1200",
    ]
    run("nvidia_smi.py", "-rgc")
    assert query(run, "clocks.sm") == ["345"]


def test_mig_create_list_destroy(run: Run) -> None:
    assert run("nvidia_smi.py", "mig", "-lgip").returncode == 6
    assert (
        "Enabled MIG Mode for GPU 00000000:19:00.0"
        in run("nvidia_smi.py", "-i", "0", "-mig", "1").stdout
    )
    out = run("nvidia_smi.py", "mig", "-cgi", "9,3g.40gb", "-C")
    assert out.returncode == 0, out.stdout
    assert out.stdout.splitlines()[0] == (
        "Successfully created GPU instance ID  2 on GPU  0 using profile MIG 3g.40gb (ID  9)"
    )
    assert (
        "compute instance ID  0 on GPU  0 GPU instance ID  1 using profile MIG 3g.40gb (ID  2)"
        in out.stdout
    )
    rows = formats.check_lgi(run("nvidia_smi.py", "mig", "-lgi").stdout)
    assert [(r[1], r[3], r[4], r[5]) for r in rows] == [
        ("3g.40gb", "1", "0", "4"),
        ("3g.40gb", "2", "4", "4"),
    ]
    full = run("nvidia_smi.py", "mig", "-cgi", "19")
    assert full.returncode == 255 and "Insufficient Resources" in full.stdout
    free = formats.check_lgip(run("nvidia_smi.py", "mig", "-lgip").stdout)
    assert all(r[3] == "0" for r in free)
    assert "In use by another client" in run("nvidia_smi.py", "mig", "-dgi").stdout
    assert run("nvidia_smi.py", "mig", "-dci").returncode == 0
    assert run("nvidia_smi.py", "mig", "-dgi").returncode == 0
    assert run("nvidia_smi.py", "mig", "-lgi").returncode == 6
    assert run("nvidia_smi.py", "-i", "0", "-mig", "0").returncode == 0
    assert query(run, "mig.mode.current") == ["Disabled"]


def test_mig_unsupported_on_l40s(tmp_path: Path) -> None:
    root = make_node(tmp_path / "l40s", "l40s-4")
    out = run_tool(root, "nvidia_smi.py", "-i", "0", "-mig", "1")
    assert out.returncode == 3
    assert "Unable to enable MIG Mode for GPU" in out.stdout


def test_reboot_resets_settings_and_mig(run: Run) -> None:
    run("nvidia_smi.py", "-pm", "1")
    run("nvidia_smi.py", "-pl", "400")
    run("nvidia_smi.py", "-i", "0", "-mig", "1")
    run("nvidia_smi.py", "mig", "-cgi", "0", "-C")
    assert run("sim_reboot.py").returncode == 0
    assert query(run, "persistence_mode,power.limit,mig.mode.current") == [
        "Disabled",
        "700.00",
        "Disabled",
    ]


def test_no_driver_behaves_like_a_machine_without_one(tmp_path: Path) -> None:
    root = make_node(tmp_path / "bare", driver=None)
    out = run_tool(root, "nvidia_smi.py")
    assert out.returncode == 9
    assert out.stdout.startswith("NVIDIA-SMI has failed because it couldn't communicate")


def test_tools_start_on_the_standard_library_alone(node: Path) -> None:
    """A tool imports nothing beyond the standard library and the simulator's own modules: the
    nodes' Python may have no other packages, and start-up stays cheap without a timed test."""
    from .conftest import TOOLS

    own = {path.stem for path in TOOLS.glob("*.py")}
    env = {"GPUFORGE_SIM_ROOT": str(node), "PATH": "/usr/bin:/bin"}
    for tool in ("nvidia_smi.py", "dcgmi.py", "ibstat.py"):
        cmd = ["/usr/bin/python3", "-S", "-X", "importtime", str(TOOLS / tool), "--help"]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        imported = {
            line.split("|")[-1].strip().split(".")[0]
            for line in done.stderr.splitlines()
            if line.startswith("import time:") and "imported package" not in line
        }
        assert imported, done.stderr[-2000:]
        assert imported - set(sys.stdlib_module_names) - own == set(), tool
