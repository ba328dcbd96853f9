"""The collection's own modules on a real fleet node.

pinned_packages, systemd_units, config_files, cdi_spec and gpu_collect.

Each play asserts what the module returned; the tests then read the node's real state (dpkg's
database, the unit's state, the files on the controller) over SSH.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gpuforge.configure import EngineSettings, PlaybookResult, run_playbook
from gpuforge.fleet import Fleet, Node

pytestmark = [pytest.mark.fleet, pytest.mark.slow]

CLUSTER = "gfmodules"

SOURCE = """\
- name: Point APT at the fleet's stand-in repository
  hosts: nodes
  gather_facts: false
  tasks:
    - name: Write the source
      ansible.builtin.copy:
        content: "deb [trusted=yes] file:/srv/gpuforge-apt/debian12/x86_64/ /\\n"
        dest: /etc/apt/sources.list.d/gpuforge-test.list
        mode: "0644"
"""

PACKAGES = """\
- name: Pinned packages
  hosts: nodes
  gather_facts: false
  tasks:
    - name: Check mode reports the install without doing it, and no optional package nobody offers
      gpuforge.gpu.pinned_packages:
        name: [libnccl2=2.18.*+cuda12.2]
        optional: [gpuforge-no-such-package]
        hold: true
      check_mode: true
      register: dry
    - name: Refresh the lists, install the newest 2.18 build for CUDA 12.2 and hold it
      gpuforge.gpu.pinned_packages:
        name: [libnccl2=2.18.*+cuda12.2, datacenter-gpu-manager=3.3.8*]
        hold: true
        update_cache: true
      register: first
    - name: The same again changes nothing
      gpuforge.gpu.pinned_packages:
        name: [libnccl2=2.18.*+cuda12.2, datacenter-gpu-manager=3.3.8*]
        hold: true
        update_cache: true
        cache_valid_time: 3600
      register: again
    - name: A new pin moves the held package down
      gpuforge.gpu.pinned_packages:
        name: [libnccl2=2.18.3-*+cuda12.2]
        hold: true
      register: down
    - name: A pin nothing matches fails with what the repositories offer
      gpuforge.gpu.pinned_packages:
        name: [libnccl2=2.99.*]
      register: nomatch
      ignore_errors: true
    - name: Check the results
      ansible.builtin.assert:
        that:
          - dry is changed
          - dry.planned == ['libnccl2=2.18.*+cuda12.2']
          - first is changed
          - first.installed['libnccl2'] == '2.18.5-1+cuda12.2'
          - first.installed['datacenter-gpu-manager'] == '1:3.3.8'
          - first.held | sort == ['datacenter-gpu-manager', 'libnccl2']
          - again is not changed
          - again.planned == []
          - not again.cache_updated
          - down is changed
          - down.installed['libnccl2'] == '2.18.3-1+cuda12.2'
          - nomatch is failed
          - "'2.18.5-1+cuda12.2' in nomatch.msg"
"""


def _driver(branch: str, version: str) -> str:
    """NVIDIA's ubuntu2204 names, which carry the branch (debian12's do not)."""
    names = ("nvidia-driver-{}-open", "nvidia-utils-{}", "nvidia-kernel-common-{}")
    return "[" + ", ".join(f"{name.format(branch)}={version}-*" for name in names) + "]"


BRANCHES = f"""\
- name: A held driver moves to another branch and back
  hosts: nodes
  gather_facts: false
  tasks:
    - name: Add the ubuntu2204 repository, whose driver packages are named per branch
      ansible.builtin.copy:
        content: "deb [trusted=yes] file:/srv/gpuforge-apt/ubuntu2204/x86_64/ /\\n"
        dest: /etc/apt/sources.list.d/gpuforge-test-ubuntu.list
        mode: "0644"
    - name: R570, held
      gpuforge.gpu.pinned_packages:
        name: {_driver("570", "570.172.08")}
        hold: true
        update_cache: true
      register: r570
    - name: R580 replaces the held R570 packages in one transaction and holds its own
      gpuforge.gpu.pinned_packages:
        name: {_driver("580", "580.95.05")}
        hold: true
      register: r580
    - name: And back to R570
      gpuforge.gpu.pinned_packages:
        name: {_driver("570", "570.172.08")}
        hold: true
      register: back
    - name: Check the results
      ansible.builtin.assert:
        that:
          - r570 is changed
          - r580 is changed
          - r580.installed['nvidia-utils-580'] == '580.95.05-0ubuntu1'
          - r580.released | sort == ['nvidia-driver-570-open',
            'nvidia-kernel-common-570', 'nvidia-utils-570']
          - back.installed['nvidia-utils-570'] == '570.172.08-0ubuntu1'
          - back.held | length == 3
    - name: Remove the ubuntu2204 repository again
      ansible.builtin.file:
        path: /etc/apt/sources.list.d/gpuforge-test-ubuntu.list
        state: absent
"""


def _write_units(title: str, names: str) -> str:
    """A play's start whose first task writes a simple service unit for each of `names`."""
    return (
        f"- name: {title}\n  hosts: nodes\n  gather_facts: false\n  tasks:\n"
        f"    - name: Write the units {names}\n      ansible.builtin.copy:\n"
        + """\
        content: |
          [Unit]
          Description=gpuforge test unit {{ item }}
          [Service]
          ExecStart=/bin/sleep 3600
          [Install]
          WantedBy=multi-user.target
        dest: /etc/systemd/system/{{ item }}.service
        mode: "0644"
"""
        + f"      loop: {names}\n"
    )


UNITS = (
    _write_units("systemd units", "[gf-test, gf-second]")
    + """\
    - name: Check mode on a unit that does not exist yet reports the change
      gpuforge.gpu.systemd_units:
        name: [gf-missing]
      check_mode: true
      register: dry
    - name: Enable and start it
      gpuforge.gpu.systemd_units:
        name: [gf-test]
        daemon_reload: true
      register: first
    - name: The same again changes nothing
      gpuforge.gpu.systemd_units:
        name: [gf-test.service]
      register: again
    - name: A unit that does not exist fails
      gpuforge.gpu.systemd_units:
        name: [gf-missing]
      register: missing
      ignore_errors: true
    - name: Of two units read in one call, only the one not started yet is enabled and started
      gpuforge.gpu.systemd_units:
        name: [gf-second, gf-test]
      register: both
    - name: Stop one unit and disable the other, behind the module's back
      ansible.builtin.command: "systemctl {{ item }}"
      loop: ["stop gf-test", "disable gf-second"]
      changed_when: true
    - name: The stopped unit is only started, the disabled one only enabled
      gpuforge.gpu.systemd_units:
        name: [gf-test, gf-second]
      register: apart
    - name: Both are then in place
      gpuforge.gpu.systemd_units:
        name: [gf-test, gf-second]
      register: settled
    - name: Check the results
      ansible.builtin.assert:
        that:
          - apart.enabled == ['gf-second.service'] and apart.started == ['gf-test.service']
          - settled is not changed
          - dry is changed
          - first is changed
          - first.enabled == ['gf-test.service']
          - first.started == ['gf-test.service']
          - again is not changed
          - missing is failed
          - "'not found' in missing.msg"
          - both is changed
          - both.enabled == ['gf-second.service'] and both.started == ['gf-second.service']
          - both.states['gf-test.service'].ActiveState == 'active'
          - both.states['gf-second.service'].UnitFileState not in ['enabled']
"""
)

FILES = """\
- name: Config files
  hosts: nodes
  gather_facts: false
  vars:
    files:
      - {dest: /etc/gf-test/deep/a.conf, content: "a = 1\\n"}
      - {dest: /etc/gf-test/b.sh, content: "echo b\\n", mode: "0755"}
  tasks:
    - name: Check mode plans both files and writes nothing
      gpuforge.gpu.config_files:
        files: "{{ files }}"
      check_mode: true
      diff: true
      register: dry
    - name: Write both, with their folders
      gpuforge.gpu.config_files:
        files: "{{ files }}"
        directory_mode: "0750"
      register: first
    - name: The same again changes nothing
      gpuforge.gpu.config_files:
        files: "{{ files }}"
      register: again
    - name: A new mode alone is a change of that file only
      gpuforge.gpu.config_files:
        files:
          - {dest: /etc/gf-test/deep/a.conf, content: "a = 1\\n", mode: "0600"}
          - {dest: /etc/gf-test/b.sh, content: "echo b\\n", mode: "0755"}
      register: mode
    - name: A relative path fails
      gpuforge.gpu.config_files:
        files: [{dest: relative.conf, content: ""}]
      register: relative
      ignore_errors: true
    - name: Check the results
      ansible.builtin.assert:
        that:
          - dry is changed
          - dry.changed_files == ['/etc/gf-test/deep/a.conf', '/etc/gf-test/b.sh']
          - dry.diff[0].after == 'a = 1\\n' and dry.diff[0].before == ''
          - first.changed_files == ['/etc/gf-test/deep/a.conf', '/etc/gf-test/b.sh']
          - again is not changed
          - mode.changed_files == ['/etc/gf-test/deep/a.conf']
          - relative is failed
"""

CDI = """\
- name: CDI spec
  hosts: nodes
  gather_facts: false
  tasks:
    - name: Without nvidia-ctk, check mode reports the spec as a change
      gpuforge.gpu.cdi_spec:
        dest: /etc/gf-cdi/nvidia.yaml
      check_mode: true
      register: dry
    - name: Without nvidia-ctk, a real run fails
      gpuforge.gpu.cdi_spec:
        dest: /etc/gf-cdi/nvidia.yaml
      register: missing
      ignore_errors: true
    - name: Stand in for the toolkit's nvidia-ctk
      ansible.builtin.copy:
        content: |
          #!/bin/sh
          [ "$1 $2" = "cdi generate" ] || exit 2
          printf 'cdiVersion: 0.5.0\\nkind: nvidia.com/gpu\\n'
        dest: /usr/local/bin/nvidia-ctk
        mode: "0755"
    - name: Write the spec, with its folder
      gpuforge.gpu.cdi_spec:
        dest: /etc/gf-cdi/nvidia.yaml
      diff: true
      register: first
    - name: The same again changes nothing
      gpuforge.gpu.cdi_spec:
        dest: /etc/gf-cdi/nvidia.yaml
      register: again
    - name: Remove the stand-in
      ansible.builtin.file:
        path: /usr/local/bin/nvidia-ctk
        state: absent
    - name: Check the results
      ansible.builtin.assert:
        that:
          - dry is changed and 'not installed' in dry.msg
          - missing is failed and 'nvidia-ctk' in missing.msg
          - first is changed
          - "first.diff[0].after == 'cdiVersion: 0.5.0\\nkind: nvidia.com/gpu\\n'"
          - again is not changed
"""

COLLECT = """\
- name: Collect
  hosts: nodes
  gather_facts: false
  tasks:
    - name: Collect onto the controller
      gpuforge.gpu.gpu_collect:
        dcgm_level: 0
        nccl: false
        controller_dest: "{{ collect_dir }}"
    - name: A required collector that fails fails the host
      gpuforge.gpu.gpu_collect:
        dcgm_level: 0
        nccl: false
        required: [smi_query]
      register: required
      ignore_errors: true
    - name: Check the results
      ansible.builtin.assert:
        that:
          - required is failed
          - "'required collectors failed' in required.msg"
          - "'smi_query (rc 127)' in required.msg"
"""


SITE_SPEC = """\
apiVersion: gpuforge/v1
kind: Cluster
name: gfdry
target: local
pools:
  gpu:
    gpu: H100:8
    count: 1
fabric: {type: infiniband}
software: {os: debian-12, driver: "580", cuda: "12.9"}
"""


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Fleet, Node]]:
    fleet = Fleet(tmp_path_factory.mktemp("fleet-state"))
    try:
        (node,) = fleet.up(CLUSTER, "pool", "hgx-h100-8", 1)
        yield fleet, node
    finally:
        fleet.down(CLUSTER)


def _play(tmp_path: Path, node: tuple[Fleet, Node], text: str, **extra: str) -> PlaybookResult:
    handle, target = node
    deploy = tmp_path / "deploy"
    deploy.mkdir(exist_ok=True)
    key = handle.client_key_path(CLUSTER)
    (deploy / "hosts.ini").write_text(
        f"[nodes]\n{target.name} ansible_host={target.address} ansible_user=root "
        f"ansible_ssh_private_key_file={key}\n"
    )
    (deploy / "play.yml").write_text(text)
    settings = EngineSettings.tuned(known_hosts=handle.known_hosts_path(CLUSTER))
    return run_playbook(deploy, "play.yml", Path("hosts.ini"), settings=settings, extra_vars=extra)


def test_pinned_packages_installs_holds_moves_and_explains(
    tmp_path: Path, node: tuple[Fleet, Node]
) -> None:
    handle, target = node
    assert _play(tmp_path, node, SOURCE).status == "ok"
    result = _play(tmp_path, node, PACKAGES)
    assert result.status == "ok", result.failures
    query = handle.run(
        target, ["dpkg-query", "-W", "-f", "${Package} ${Version} ${db:Status-Want}\\n", "libnccl2"]
    )
    assert query.stdout.split() == ["libnccl2", "2.18.3-1+cuda12.2", "hold"]


def test_pinned_packages_moves_a_held_driver_to_another_branch_and_back(
    tmp_path: Path, node: tuple[Fleet, Node]
) -> None:
    """The old branch's held packages conflict with the new ones: the module releases exactly
    those holds within its one apt-get transaction and holds the new packages."""
    handle, target = node
    assert _play(tmp_path, node, SOURCE).status == "ok"
    try:
        _branch_change(tmp_path, node)
    finally:
        # The other tests of this module expect a node without a driver (no nvidia-smi).
        handle.run(target, ["apt-get", "purge", "-y", "-q", "--allow-change-held-packages",
                            *DRIVER_570])  # fmt: skip


DRIVER_570 = (
    "nvidia-driver-570-open",
    "nvidia-utils-570",
    "nvidia-kernel-common-570",
    "nvidia-compute-utils-570",
)


def _branch_change(tmp_path: Path, node: tuple[Fleet, Node]) -> None:
    handle, target = node
    result = _play(tmp_path, node, BRANCHES)
    assert result.status == "ok", result.failures
    query = handle.run(
        target,
        [
            "dpkg-query",
            "-W",
            "-f",
            "${Package} ${Version} ${db:Status-Want} ${db:Status-Status}\\n",
        ],
    )
    driver = sorted(line for line in query.stdout.splitlines() if line.startswith("nvidia-"))
    assert [line.split()[:3] for line in driver if line.endswith(" installed")] == [
        ["nvidia-compute-utils-570", "570.172.08-0ubuntu1", "install"],
        ["nvidia-driver-570-open", "570.172.08-0ubuntu1", "hold"],
        ["nvidia-kernel-common-570", "570.172.08-0ubuntu1", "hold"],
        ["nvidia-utils-570", "570.172.08-0ubuntu1", "hold"],
    ]
    assert not [line for line in driver if "-580" in line.split()[0]], "R580 was purged"
    smi = handle.run(target, ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"])
    assert set(smi.stdout.split()) == {"570.172.08"}


def test_systemd_units_enables_and_starts_once(tmp_path: Path, node: tuple[Fleet, Node]) -> None:
    handle, target = node
    result = _play(tmp_path, node, UNITS)
    assert result.status == "ok", result.failures
    assert handle.run(target, ["systemctl", "is-active", "gf-test"]).stdout.strip() == "active"
    assert handle.run(target, ["systemctl", "is-enabled", "gf-test"]).stdout.strip() == "enabled"


def test_config_files_writes_what_differs_with_folders_modes_and_check_mode(
    tmp_path: Path, node: tuple[Fleet, Node]
) -> None:
    handle, target = node
    result = _play(tmp_path, node, FILES)
    assert result.status == "ok", result.failures
    listing = handle.run(
        target,
        [
            "stat",
            "-c",
            "%n %a %U",
            "/etc/gf-test/deep",
            "/etc/gf-test/deep/a.conf",
            "/etc/gf-test/b.sh",
        ],
    )
    assert listing.stdout.splitlines() == [
        "/etc/gf-test/deep 750 root",
        "/etc/gf-test/deep/a.conf 600 root",
        "/etc/gf-test/b.sh 755 root",
    ]
    assert handle.run(target, ["cat", "/etc/gf-test/b.sh"]).stdout == "echo b\n"


def test_cdi_spec_writes_the_generated_spec_once_and_dry_runs_without_the_toolkit(
    tmp_path: Path, node: tuple[Fleet, Node]
) -> None:
    handle, target = node
    result = _play(tmp_path, node, CDI)
    assert result.status == "ok", result.failures
    written = handle.run(target, ["cat", "/etc/gf-cdi/nvidia.yaml"]).stdout
    assert written == "cdiVersion: 0.5.0\nkind: nvidia.com/gpu\n"
    assert handle.run(target, ["stat", "-c", "%a", "/etc/gf-cdi"]).stdout.strip() == "755"


def test_gpu_collect_writes_the_raw_files_on_the_controller_and_fails_required(
    tmp_path: Path, node: tuple[Fleet, Node]
) -> None:
    _, target = node
    collect = tmp_path / "collected"
    stale = collect / target.name / "stale.txt"
    stale.parent.mkdir(parents=True)
    stale.write_text("from an earlier run")
    result = _play(tmp_path, node, COLLECT, collect_dir=str(collect))
    assert result.status == "ok", result.failures
    folder = collect / target.name
    # No driver package on this node: nvidia-smi is missing, and its rc says so.
    index = json.loads((folder / "collectors.json").read_text())
    assert index["smi_query"]["rc"] == 127
    assert (folder / "query-gpu.rc").read_text().strip() == "127"
    assert index["kernel_log"]["rc"] == 0
    assert "gpuforge simulated node" in (folder / "kernel.log").read_text()
    assert not stale.exists()
    assert not [p for p in collect.iterdir() if p.name.startswith(".")]


def test_site_in_check_mode_on_a_new_node_reports_changes_and_makes_none(tmp_path: Path) -> None:
    """A dry run before anything is installed: no driver, no nvidia-ctk, no repository yet."""
    fleet = Fleet(tmp_path / "fleet-state")
    try:
        (fresh,) = fleet.up("gfdry", "gpu", "hgx-h100-8", 1)
        spec = tmp_path / "dry.yaml"
        spec.write_text(SITE_SPEC)
        deploy = tmp_path / "deploy"
        rendered = subprocess.run(
            [sys.executable, "-m", "gpuforge", "render", str(spec), "--out", str(deploy), "--json"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert rendered.returncode == 0, rendered.stdout + rendered.stderr
        inventory = deploy / "ansible" / "inventory"
        (inventory / "hosts.yml").write_text(
            f"all:\n  children:\n    pool_gpu:\n      hosts:\n        {fresh.name}:\n"
            f"          ansible_host: {fresh.address}\n          ansible_user: root\n"
            f"          ansible_ssh_private_key_file: {fleet.client_key_path('gfdry')}\n"
        )
        settings = EngineSettings.tuned(known_hosts=fleet.known_hosts_path("gfdry"))
        result = run_playbook(deploy, "site", inventory, settings=settings, check=True, diff=True)
        assert result.status == "ok", result.failures
        assert result.hosts[fresh.name].changed > 0
        installed = fleet.run(
            fresh, ["sh", "-c", "dpkg -l | grep -c -E 'nvidia|nccl|dcgm' || true"]
        )
        assert installed.stdout.strip() == "0"
        sources = fleet.run(fresh, ["ls", "/etc/apt/sources.list.d"]).stdout.split()
        assert not [name for name in sources if "nvidia" in name or "gpuforge" in name]
    finally:
        fleet.down("gfdry")
