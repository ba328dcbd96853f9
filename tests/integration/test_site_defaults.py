"""The collection's own site.yml, run on its own with its role defaults, converges a fresh fleet
node; only the repository is pointed at the node's stand-in one (NVIDIA's is out of reach). The
validation collector then takes the structured forms the installed tools offer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gpuforge.configure import collections_root
from gpuforge.fleet import Fleet, Node, sim_module
from gpuforge.validate import parse_dcgm_output, parse_smi_query_output

pytestmark = [
    pytest.mark.integration,
    pytest.mark.fleet,
    pytest.mark.skipif(os.geteuid() != 0, reason="the fleet needs root (namespaces, mounts)"),
    pytest.mark.skipif(sim_module() is None, reason="needs the simulated hardware"),
]
CLUSTER = "sitedef"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Fleet, Node]]:
    fleet = Fleet(tmp_path_factory.mktemp("fleet-site"), seed_hardware=True)
    try:
        yield fleet, fleet.up(CLUSTER, "gpu", "hgx-h100-8", 1)[0]
    finally:
        fleet.down()


def _ansible(
    program: str, fleet: Fleet, target: Node, tmp_path: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """Run ansible-playbook or ansible against the node with the collection and no other setup."""
    env = {**os.environ, "ANSIBLE_HOME": str(tmp_path), "ANSIBLE_LOCAL_TEMP": str(tmp_path)}
    env |= {
        "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3",
        "ANSIBLE_COLLECTIONS_PATH": str(collections_root()),
    }
    return subprocess.run(
        [str(Path(sys.executable).with_name(program)), "-i", f"{target.address},",
         "-u", "root", "--private-key", str(fleet.client_key_path(CLUSTER)),
         "--ssh-common-args", f"-F {fleet.ssh_config_path(CLUSTER)}", *args],
        capture_output=True, text=True, check=False, timeout=900, env=env,
    )  # fmt: skip


def test_site_yml_runs_with_its_defaults(node: tuple[Fleet, Node], tmp_path: Path) -> None:
    fleet, target = node
    site = collections_root() / "ansible_collections/gpuforge/gpu/playbooks/site.yml"
    done = _ansible("ansible-playbook", fleet, target, tmp_path, "-e", "nvidia_repo_mode=local",
                    str(site))  # fmt: skip
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    installed = fleet.run(target, ["dpkg-query", "-W", "libcudnn9-cuda-12"]).stdout
    assert "9.1.0.70-1" in installed
    # The driver by the names of NVIDIA's debian12 repository, read from the node's facts,
    # on the role's default branch (R535): Debian's names carry no branch, the version does.
    driver = fleet.run(target, ["dpkg-query", "-W", "-f=${Version}", "nvidia-driver"]).stdout
    assert driver.startswith("535.") and driver.endswith("-1"), driver

    # The collector asks the installed nvidia-smi and dcgmi for XML and JSON, and gets them.
    dest = "/tmp/gf-collect"
    collect = _ansible("ansible", fleet, target, tmp_path, "all", "-m", "gpuforge.gpu.gpu_collect",
                       "-a", f"dest={dest} dcgm_level=1 nccl=false")  # fmt: skip
    assert collect.returncode == 0, collect.stdout[-4000:] + collect.stderr[-2000:]
    index = json.loads(fleet.run(target, ["cat", f"{dest}/collectors.json"]).stdout)
    assert index["smi_q"]["command"] == ["nvidia-smi", "-q", "-x"]
    assert index["dcgmi_diag"]["command"] == ["dcgmi", "diag", "-r", "1", "-j"]
    report = parse_smi_query_output(fleet.run(target, ["cat", f"{dest}/smi-q.txt"]).stdout)
    assert len(report.gpus) == 8 and report.driver_version == driver.split("-")[0]
    diag = parse_dcgm_output(fleet.run(target, ["cat", f"{dest}/dcgmi-diag.txt"]).stdout)
    assert diag.warnings == () and diag.tests
