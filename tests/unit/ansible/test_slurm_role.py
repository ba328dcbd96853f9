"""The slurm role's configuration (issue 18, "Drain is real"): slurm.conf names every node with
its address, CPU count and GPU gres, gres.conf follows the host's GPUs, or with MIG the
instances the host reports (parsed from a real `nvidia-smi mig -lgi` capture), in Slurm's
MultipleFiles form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from local_play import REPO, run_local

ROLE = REPO / "src" / "gpuforge" / "ansible_collections" / "gpuforge" / "gpu" / "roles" / "slurm"
LGI = REPO / "tests" / "fixtures" / "validate" / "real" / "mig" / "a30-lgi-3instances-drv535.txt"


HOSTS = {
    "demo-h100-0": {"ansible_host": "10.1.2.10", "slurm_gpus": 8},
    "demo-h100-1": {"ansible_host": "10.1.2.11", "slurm_gpus": 8, "slurm_cgroups": True},
    "demo-a30-0": {
        "ansible_host": "10.1.2.12",
        "slurm_gpus": 1,
        "slurm_mig": {"1g.6gb": 2, "2g.12gb": 1},
    },
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """slurm.conf, gres.conf and cgroup.conf of every host of HOSTS, as <host>.<file>."""
    tmp_path = tmp_path_factory.mktemp("slurm-role")
    capture = "".join(
        line for line in LGI.read_text().splitlines(True) if line.startswith(("|", "+"))
    )
    tasks: list[dict[str, Any]] = [
        {"name": "role vars", "ansible.builtin.include_vars": str(ROLE / "vars/main.yml")},
        {
            "name": "what nvidia-smi mig -lgi printed",
            "ansible.builtin.set_fact": {"__slurm_mig_lgi": {"stdout": capture}},
        },
    ]
    tasks += [
        {
            "name": f"render {name}",
            "ansible.builtin.template": {
                "src": str(ROLE / "templates" / f"{name}.j2"),
                "dest": str(tmp_path) + "/{{ inventory_hostname }}." + name,
                "mode": "0644",
            },
        }
        for name in ("slurm.conf", "gres.conf", "cgroup.conf")
    ]
    playbook = tmp_path / "play.yml"
    playbook.write_text(yaml.safe_dump([{"hosts": "all", "gather_facts": False, "tasks": tasks}]))
    variables = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    variables.update(slurm_node_group="all", slurm_cluster_name="demo", slurm_cgroups=False)
    run_local(tmp_path, HOSTS, variables, str(playbook))
    return tmp_path


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line and not line.startswith("#")]


def test_slurm_conf_names_every_node_with_its_address_cpus_and_gpus(rendered: Path) -> None:
    conf = _lines(rendered / "demo-h100-0.slurm.conf")
    assert "ClusterName=demo" in conf
    assert "SlurmctldHost=demo-a30-0(10.1.2.12)" in conf  # the group's first host, sorted
    assert "GresTypes=gpu" in conf and "AuthType=auth/munge" in conf
    assert "ProctrackType=proctrack/linuxproc" in conf
    nodes = [line for line in conf if line.startswith("NodeName=")]
    assert nodes == [
        "NodeName=demo-a30-0 NodeAddr=10.1.2.12 State=UNKNOWN Gres=gpu:1g.6gb:2,gpu:2g.12gb:1",
        "NodeName=demo-h100-0 NodeAddr=10.1.2.10 State=UNKNOWN Gres=gpu:8",
        "NodeName=demo-h100-1 NodeAddr=10.1.2.11 State=UNKNOWN Gres=gpu:8",
    ]
    for other in ("demo-h100-1", "demo-a30-0"):  # every host holds the same node list
        assert [ln for ln in _lines(rendered / f"{other}.slurm.conf") if "NodeName=" in ln] == nodes
    assert conf[-1] == "PartitionName=gpu Nodes=ALL Default=YES MaxTime=INFINITE State=UP"


def test_gres_conf_lists_the_gpu_device_files(rendered: Path) -> None:

    assert _lines(rendered / "demo-h100-0.gres.conf") == ["Name=gpu File=/dev/nvidia[0-7]"]
    assert _lines(rendered / "demo-h100-0.cgroup.conf") == ["CgroupPlugin=cgroup/v1"]


def test_gres_conf_with_mig_has_one_gres_per_instance_the_host_reports(rendered: Path) -> None:

    # GPU 0's instances 3, 4 (1g.6gb) and 2 (2g.12gb): mig-minors numbers each GPU instance
    # 3 + 135 * gpu + 9 * instance, its compute instance 0 one above.
    assert _lines(rendered / "demo-a30-0.gres.conf") == [
        "Name=gpu Type=1g.6gb MultipleFiles=/dev/nvidia0,/dev/nvidia-caps/nvidia-cap30,"
        "/dev/nvidia-caps/nvidia-cap31",
        "Name=gpu Type=1g.6gb MultipleFiles=/dev/nvidia0,/dev/nvidia-caps/nvidia-cap39,"
        "/dev/nvidia-caps/nvidia-cap40",
        "Name=gpu Type=2g.12gb MultipleFiles=/dev/nvidia0,/dev/nvidia-caps/nvidia-cap21,"
        "/dev/nvidia-caps/nvidia-cap22",
    ]


def test_hosts_with_cgroups_track_jobs_in_them(rendered: Path) -> None:
    conf = _lines(rendered / "demo-h100-1.slurm.conf")
    assert "ProctrackType=proctrack/cgroup" in conf
    assert "TaskPlugin=task/cgroup,task/affinity" in conf
    assert _lines(rendered / "demo-h100-1.cgroup.conf") == [
        "CgroupPlugin=autodetect",
        "ConstrainDevices=yes",
    ]
