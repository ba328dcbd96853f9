"""Hardware profiles come from the catalog and carry the topology the tools report."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from gpuforge.errors import InputError
from gpuforge.fleet.sim import get_profile, profile_names, seed_node


def test_profile_names_cover_the_required_systems() -> None:
    assert {
        "hgx-h100-8",
        "hgx-a100-80-8",
        "hgx-a100-40-8",
        "h200-8",
        "l40s-4",
        "a10g-1",
        "t4-1",
        "dgx-b200-8",
        "p5-efa",
    } <= set(profile_names())


def test_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(InputError) as err:
        get_profile("hgx-z900-8")
    assert "hgx-h100-8" in err.value.fix


@pytest.mark.parametrize(
    ("name", "model", "links", "power"),
    [
        ("hgx-h100-8", "H100", 18, (700.0, 200.0, 700.0)),
        ("hgx-a100-80-8", "A100-80GB", 12, (400.0, 100.0, 400.0)),
        ("l40s-4", "L40S", 0, (350.0, 100.0, 350.0)),
    ],
)
def test_gpu_facts_come_from_the_catalog(
    name: str, model: str, links: int, power: tuple[float, float, float]
) -> None:
    profile = get_profile(name)
    assert profile.gpu.model == model
    assert profile.nvlink_links == links
    assert (profile.gpu.power_default_w, profile.gpu.power_min_w, profile.gpu.power_max_w) == power


def test_p5_has_efa_not_mlx5() -> None:
    profile = get_profile("p5-efa")
    assert profile.efa and len(profile.hcas) == 32
    assert {h.kind for h in profile.hcas} == {"efa"}
    assert not get_profile("hgx-h100-8").efa


def test_mig_profiles_only_where_supported() -> None:
    assert next(m.name for m in get_profile("hgx-a100-40-8").gpu.mig) == "1g.5gb"
    assert get_profile("l40s-4").gpu.mig == ()


def test_seed_writes_state_and_only_the_distribution_apt_source(tmp_path: Path) -> None:
    seed_node(tmp_path, get_profile("hgx-h100-8"), "gpu-3", 3)
    hw = json.loads((tmp_path / "var/lib/gpuforge-sim/hardware.json").read_text())
    state = json.loads((tmp_path / "var/lib/gpuforge-sim/state.json").read_text())
    assert hw["node"] == "gpu-3" and len(hw["gpus"]) == 8
    assert state["driver"] is None
    assert {g["power_limit_w"] for g in state["gpus"]} == {700.0}
    assert (tmp_path / "etc/apt/sources.list").read_text() == (
        "deb [trusted=yes] file:/srv/gpuforge-apt/distro ./\n"
    )
    for item in (tmp_path / "etc/apt/sources.list.d").iterdir():
        assert item.read_text() == ""
    assert (tmp_path / "usr/bin/dmesg").stat().st_mode & 0o111
    assert not (tmp_path / "usr/bin/nvidia-smi").exists()


def test_node_commands_run_the_tool_library_from_its_bytecode(tmp_path: Path) -> None:
    seed_node(tmp_path, get_profile("hgx-h100-8"), "gpu-3", 3)
    launcher = (tmp_path / "usr/bin/dmesg").read_text()
    assert "from dmesg import main" in launcher and len(launcher.splitlines()) < 12
    cached = list((tmp_path / "usr/lib/gpuforge-sim/__pycache__").glob("dmesg.*.pyc"))
    assert cached, "the library should be compiled when the node is seeded"
    # The node's own command, pointed at this root as a node's shell would be.
    done = subprocess.run(
        ["/usr/bin/python3", "-S", str(tmp_path / "usr/bin/dmesg")],
        env=dict(os.environ, GPUFORGE_SIM_ROOT=str(tmp_path)),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "gpuforge simulated node gpu-3" in done.stdout


def test_nodes_get_distinct_gpu_uuids(tmp_path: Path) -> None:
    profile = get_profile("hgx-h100-8")
    uuids = set()
    for i in range(2):
        seed_node(tmp_path / f"n{i}", profile, f"n{i}", i)
        hw = json.loads((tmp_path / f"n{i}/var/lib/gpuforge-sim/hardware.json").read_text())
        uuids |= {g["uuid"] for g in hw["gpus"]}
    assert len(uuids) == 16
