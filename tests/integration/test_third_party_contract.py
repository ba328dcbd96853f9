"""What automation written elsewhere relies on, as a contract on a fresh fleet node.

Read from the public sources of NVIDIA's `ansible-role-nvidia-driver` (tasks/main.yml,
tasks/install-debian-cuda-repo.yml) and DeepOps' driver and NCCL playbooks: they gate on
`lspci` listing NVIDIA devices, install the driver from an APT repository, drop an override into
the `nvidia-persistenced` unit and enable it, reboot with `ansible.builtin.reboot` (which runs
`shutdown -r` and waits for a new boot id) when the install changed something, then expect the
driver's /proc file, its module and its device nodes, and a re-run to change nothing. This play
is our own, written from that reading; it runs twice with real ansible-playbook over real SSH.
The tools and headers they ask the distribution for (`pciutils`, `kmod`, `dkms`, kernel headers,
`firmware-misc-nonfree`) come from the node's distribution sources. Not yet covered: NVIDIA's
repository layout and keyring (`cuda-keyring`, `cuda-drivers-<branch>`; the stand-in repository
still uses Ubuntu archive names), so the play installs the stand-in's driver package by its
current name.
"""

from __future__ import annotations

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
    - name: The package source
      ansible.builtin.copy:
        dest: /etc/apt/sources.list.d/stand-in.list
        content: "deb [trusted=yes] file:/srv/gpuforge-apt ./\\n"
        mode: "0644"
    - name: The driver package
      ansible.builtin.apt:
        name: nvidia-driver-535-server
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
          - "'535.183.01' in (version_file.content | b64decode)"
          - modinfo.stdout == '535.183.01'
          - dev.stat.exists and dev.stat.ischr
"""


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Fleet, Node]]:
    fleet = Fleet(tmp_path_factory.mktemp("fleet-contract"), seed_hardware=True)
    try:
        yield fleet, fleet.up(CLUSTER, "gpu", "hgx-h100-8", 1)[0]
    finally:
        fleet.down()


def _play(fleet: Fleet, node: Node, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    playbook = tmp_path / "contract.yml"
    playbook.write_text(PLAY)
    env = {**os.environ, "ANSIBLE_HOME": str(tmp_path), "ANSIBLE_LOCAL_TEMP": str(tmp_path)}
    env |= {"ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3", "ANSIBLE_HOST_KEY_CHECKING": "0"}
    return subprocess.run(
        [str(Path(sys.executable).with_name("ansible-playbook")), "-i", f"{node.address},",
         "-u", "root", "--private-key", str(fleet.client_key_path(CLUSTER)),
         "--ssh-common-args", f"-F {fleet.ssh_config_path(CLUSTER)}", str(playbook)],
        capture_output=True, text=True, check=False, timeout=600, env=env,
    )  # fmt: skip


def test_driver_automation_installs_reboots_and_reruns_with_no_change(
    node: tuple[Fleet, Node], tmp_path: Path
) -> None:
    fleet, target = node
    boot_id = fleet.run(target, ["cat", "/proc/sys/kernel/random/boot_id"]).stdout
    first = _play(fleet, target, tmp_path)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    after = fleet.run(target, ["cat", "/proc/sys/kernel/random/boot_id"]).stdout
    assert after != boot_id
    second = _play(fleet, target, tmp_path)
    assert second.returncode == 0, second.stdout[-4000:] + second.stderr[-2000:]
    assert f"{target.address} " in second.stdout and "changed=0" in second.stdout
