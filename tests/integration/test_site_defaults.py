"""The collection's own site.yml, run on its own with its role defaults, converges a fresh fleet
node; only the repository is pointed at the node's stand-in one (NVIDIA's is out of reach)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gpuforge.configure import collections_root
from gpuforge.fleet import Fleet, Node, sim_module

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


def test_site_yml_runs_with_its_defaults(node: tuple[Fleet, Node], tmp_path: Path) -> None:
    fleet, target = node
    site = collections_root() / "ansible_collections/gpuforge/gpu/playbooks/site.yml"
    env = {**os.environ, "ANSIBLE_HOME": str(tmp_path), "ANSIBLE_LOCAL_TEMP": str(tmp_path)}
    env |= {
        "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3",
        "ANSIBLE_COLLECTIONS_PATH": str(collections_root()),
    }
    done = subprocess.run(
        [str(Path(sys.executable).with_name("ansible-playbook")), "-i", f"{target.address},",
         "-u", "root", "--private-key", str(fleet.client_key_path(CLUSTER)),
         "--ssh-common-args", f"-F {fleet.ssh_config_path(CLUSTER)}",
         "-e", "nvidia_repo_mode=local", str(site)],
        capture_output=True, text=True, check=False, timeout=900, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    installed = fleet.run(target, ["dpkg-query", "-W", "libcudnn9-cuda-12"]).stdout
    assert "9.1.0.70-1" in installed
    # The driver by the names of NVIDIA's debian12 repository, read from the node's facts,
    # on the role's default branch (R535): Debian's names carry no branch, the version does.
    driver = fleet.run(target, ["dpkg-query", "-W", "-f=${Version}", "nvidia-driver"]).stdout
    assert driver.startswith("535.") and driver.endswith("-1"), driver
