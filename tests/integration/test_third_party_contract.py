"""What automation written elsewhere relies on, as a contract on a fresh fleet node.

Read from the public sources of NVIDIA's `ansible-role-nvidia-driver` (tasks/main.yml,
tasks/install-debian-cuda-repo.yml) and DeepOps' driver and NCCL playbooks: they gate on
`lspci` listing NVIDIA devices, install the driver from an APT repository, drop an override into
the `nvidia-persistenced` unit and enable it, reboot with `ansible.builtin.reboot` (which runs
`shutdown -r` and waits for a new boot id) when the install changed something, then expect the
driver's /proc file, its module and its device nodes, and a re-run to change nothing. This play
is our own, written from that reading; it runs twice with real ansible-playbook over real SSH.
The tools and headers they ask the distribution for (`pciutils`, `kmod`, `dkms`, kernel headers,
`firmware-misc-nonfree`) come from the node's distribution sources. The driver comes the way
NVIDIA's role takes it from the CUDA repository: `cuda-keyring_1.1-1_all.deb` from the
repository directory of the node's distribution (`<root>/<distro>/x86_64/`, the directory named
from the node's facts: debian12, ubuntu2204), then `cuda-drivers-<branch>`; on Debian, whose
names carry no branch, after the branch's `nvidia-driver-pinning-<branch>` as NVIDIA's install
guide says. It runs on a Debian 12 node and on a node presenting Ubuntu 22.04.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gpuforge.fleet import Fleet, Node, sim_module

pytestmark = [
    pytest.mark.integration,
    pytest.mark.fleet,
    pytest.mark.skipif(os.geteuid() != 0, reason="the fleet needs root (namespaces, mounts)"),
    pytest.mark.skipif(sim_module() is None, reason="needs the simulated hardware"),
]
CLUSTER = "contract"
PLAY = """
- name: Third-party driver automation contract
  hosts: all
  gather_facts: true
  tasks:
    - name: The GPUs are on the PCI bus as lspci shows them
      ansible.builtin.command: lspci -nn -d "10de:"
      register: pci
      changed_when: false
    - name: Eight H100 SXM5 3D controllers and the NVSwitches
      ansible.builtin.assert:
        that:
          - pci.stdout_lines | select('search', '3D controller \\\\[0302\\\\].*\\\\[10de:2330\\\\]')
            | list | length == 8
          - pci.stdout_lines | select('search', 'Bridge \\\\[0680\\\\]') | list | length == 4
    - name: The tools and headers they ask the distribution for
      ansible.builtin.apt:
        name: [pciutils, kmod, dkms, "linux-headers-{{ ansible_kernel }}", firmware-misc-nonfree]
        update_cache: true
    - name: The distribution the facts report is the one the node presents
      ansible.builtin.assert:
        that:
          - ansible_distribution == expected.distribution
          - ansible_distribution_major_version == expected.major
          - ansible_distribution_release == expected.release
    - name: The CUDA repository's keyring package, from the distribution's repository directory
      ansible.builtin.apt:
        deb: "/srv/gpuforge-apt/{{ cuda_repo }}/x86_64/cuda-keyring_1.1-1_all.deb"
      vars:
        cuda_repo: >-
          {{ ('debian' ~ ansible_distribution_major_version) if ansible_distribution == 'Debian'
             else ('ubuntu' ~ ansible_distribution_version | replace('.', '')) }}
    - name: The branch pinning package, where the names carry no branch
      ansible.builtin.apt:
        name: nvidia-driver-pinning-580
        update_cache: true
      when: ansible_distribution == 'Debian'
    - name: The driver branch metapackage
      ansible.builtin.apt:
        name: cuda-drivers-580
        update_cache: true
      register: install_driver
    - name: An override directory for the persistence daemon
      ansible.builtin.file:
        path: /etc/systemd/system/nvidia-persistenced.service.d
        state: directory
        mode: "0755"
    - name: Persistence mode on through the daemon's override
      ansible.builtin.copy:
        dest: /etc/systemd/system/nvidia-persistenced.service.d/override.conf
        content: |
          [Service]
          ExecStart=
          ExecStart=/usr/bin/nvidia-persistenced --persistence-mode
        mode: "0644"
    - name: The persistence daemon enabled
      ansible.builtin.systemd_service:
        name: nvidia-persistenced
        enabled: true
    - name: Reboot after a driver install
      ansible.builtin.reboot:
      when: install_driver is changed
    - name: The loaded driver's version file
      ansible.builtin.slurp:
        src: /proc/driver/nvidia/version
      register: version_file
    - name: The module on disk
      ansible.builtin.command: modinfo -F version nvidia
      register: modinfo
      changed_when: false
    - name: A device node per GPU
      ansible.builtin.stat:
        path: /dev/nvidia7
      register: dev
    - name: Driver, module and devices agree
      ansible.builtin.assert:
        that:
          - "'580.95.05' in (version_file.content | b64decode)"
          - modinfo.stdout == '580.95.05'
          - dev.stat.exists and dev.stat.ischr
    - name: The names of the node's own CUDA repository are installed
      ansible.builtin.command: dpkg-query -W -f '${Package}=${Version} ' {{ expected.driver }}
      register: installed
      changed_when: false
    - name: Each at the repository's version string
      ansible.builtin.assert:
        that: installed.stdout.split() | sort == expected.pins | sort
"""
DISTROS = {
    "debian-12": {
        "distribution": "Debian",
        "major": "12",
        "release": "bookworm",
        "driver": "nvidia-driver nvidia-kernel-dkms",
        "pins": ["nvidia-driver=580.95.05-1", "nvidia-kernel-dkms=580.95.05-1"],
    },
    "ubuntu-22.04": {
        "distribution": "Ubuntu",
        "major": "22",
        "release": "jammy",
        "driver": "nvidia-driver-580 nvidia-compute-utils-580",
        "pins": [
            "nvidia-driver-580=580.95.05-0ubuntu1",
            "nvidia-compute-utils-580=580.95.05-0ubuntu1",
        ],
    },
}


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Fleet, dict[str, Node]]]:
    """One fresh node per distribution the fleet presents, in one cluster."""
    fleet = Fleet(tmp_path_factory.mktemp("fleet-contract"), seed_hardware=True)
    try:
        up = {name: fleet.up(CLUSTER, name[:6], "hgx-h100-8", 1, os_name=name) for name in DISTROS}
        yield fleet, {name: started[0] for name, started in up.items()}
    finally:
        fleet.down()


def _inventory(nodes: dict[str, Node], tmp_path: Path) -> Path:
    """Both nodes, each with what its distribution should show (as host variables)."""
    hosts = {node.address: {"expected": DISTROS[os_name]} for os_name, node in nodes.items()}
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps({"all": {"hosts": hosts}}))
    return path


def _play(fleet: Fleet, inventory: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    playbook = tmp_path / "contract.yml"
    playbook.write_text(PLAY)
    env = {**os.environ, "ANSIBLE_HOME": str(tmp_path), "ANSIBLE_LOCAL_TEMP": str(tmp_path)}
    env |= {"ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3", "ANSIBLE_HOST_KEY_CHECKING": "0"}
    return subprocess.run(
        [str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(inventory),
         "-u", "root", "--private-key", str(fleet.client_key_path(CLUSTER)),
         "--ssh-common-args", f"-F {fleet.ssh_config_path(CLUSTER)}", str(playbook)],
        capture_output=True, text=True, check=False, timeout=600, env=env,
    )  # fmt: skip


def _boot_ids(fleet: Fleet, nodes: dict[str, Node]) -> dict[str, str]:
    return {
        name: fleet.run(node, ["cat", "/proc/sys/kernel/random/boot_id"]).stdout
        for name, node in nodes.items()
    }


def test_driver_automation_installs_reboots_and_reruns_with_no_change(
    nodes: tuple[Fleet, dict[str, Node]], tmp_path: Path
) -> None:
    """On Debian 12 and on Ubuntu 22.04 alike, from each one's own repository layout and names."""
    fleet, targets = nodes
    inventory = _inventory(targets, tmp_path)
    booted = _boot_ids(fleet, targets)
    first = _play(fleet, inventory, tmp_path)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    rebooted = _boot_ids(fleet, targets)
    assert all(rebooted[name] != booted[name] for name in targets)
    second = _play(fleet, inventory, tmp_path)
    assert second.returncode == 0, second.stdout[-4000:] + second.stderr[-2000:]
    for node in targets.values():
        assert f"{node.address} " in second.stdout
    assert second.stdout.count("changed=0") == len(targets), second.stdout[-3000:]
