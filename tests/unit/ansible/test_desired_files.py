"""The desired state's file digests and units are those Ansible itself derives from the roles.

gpuforge evaluates each role's `_<role>_files` and `_<role>_units` with Jinja2 (gpuforge.desired);
here ansible-playbook includes the same roles over hosts that carry each pool's group_vars and
reports the SHA-256 of every file's content and the unit names, which must be the same.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from local_play import REPO, run_local

from gpuforge.check import read_lock
from gpuforge.desired import PoolState, desired_state
from gpuforge.spec import load_spec_text

SPEC = (REPO / "examples" / "local.yaml").read_text(encoding="utf-8")
LOCK = REPO / "examples" / "local.lock"
ROLES_DIR = REPO / "src" / "gpuforge" / "ansible_collections" / "gpuforge" / "gpu" / "roles"
ROLES_WITH_DECLARATIONS = ["nvidia_repo", "nvidia_driver", "fabric", "cuda_toolkit", "nccl"]
ROLES_WITH_DECLARATIONS += ["gpu_tuning", "mig", "mps", "container_toolkit", "dcgm", "monitoring"]
ROLES_WITH_DECLARATIONS += ["spot_watcher", "gpu_access"]
# What the mig role's first task registers on a node (the profile ids it created), which its boot
# script replays: gpuforge cannot know it before the run (that file's digest is None).
MIG_RESULT = {"layout": {"0": [9, 9]}}
# What gpu_access's group task registers on a node (the group's id), which the driver's device
# file options carry: that file's digest is None in gpuforge too.
GPU_GROUP_RESULT = {"gid": 4242}
# The h100 pool on spot with a checkpoint hook: its nodes run the spot watcher.
SPOT = (
    SPEC.replace("  h100:\n    count: 2\n", "  h100:\n    count: 2\n    market: spot\n")
    + "cost: {spot: {checkpoint_command: [/opt/ckpt, --now, 'a b; c']}}\n"
)

PLAY = """
- name: What each role declares it writes and runs
  hosts: all
  gather_facts: true
  gather_subset: ["!all", "!min", distribution, platform, env]
  tasks:
    - name: Load each role's variables
      ansible.builtin.include_role:
        name: "gpuforge.gpu.{{ item }}"
        tasks_from: preflight
        public: true
      loop: "{{ roles_to_read }}"
    - name: Gather what each role declares, on the controller (no module run per role)
      ansible.builtin.set_fact:
        declared: >-
          {{ declared | default({}) | combine({item: lookup('ansible.builtin.vars',
          '_' ~ item ~ '_files', default=[])}) }}
      loop: "{{ roles_to_read }}"
    - name: Write it, one file per host
      ansible.builtin.copy:
        dest: "{{ out_dir }}/{{ inventory_hostname }}.json"
        mode: "0644"
        content: "{{ declared | to_json }}"
"""


def _states(text: str) -> dict[str, PoolState]:
    return desired_state(load_spec_text(text, "cluster.yaml").spec, read_lock(LOCK))


def _fabric_variant(fabric: str) -> str:
    """The example on `fabric` with MPS on; on RoCE (its QoS files) also the GPU group's udev
    rule and device options, and the script that gives MIG instances to the group."""
    text = SPEC.replace("fabric: {type: infiniband}", f"fabric: {{type: {fabric}}}").replace(
        "compute_mode: EXCLUSIVE_PROCESS}", "compute_mode: EXCLUSIVE_PROCESS, mps: true}"
    )
    if fabric != "roce":
        return text
    groups = 'mig: {devices: {"3g.40gb": 2}, groups: {"3g.40gb": gpu}}'
    return text.replace('mig: {"3g.40gb": 2}', groups) + "security: {gpu_group: gpu}\n"


def test_file_digests_match_ansible(tmp_path: Path) -> None:
    """Every file the desired state lists has the digest of the content Ansible renders.

    One host per pool and fabric (the NCCL environment and the module list depend on it).
    """
    states = {
        f"{fabric}-{name}": state
        for fabric in ("infiniband", "roce", "ethernet")
        for name, state in _states(_fabric_variant(fabric)).items()
    }
    states.update({f"spot-{name}": state for name, state in _states(SPOT).items()})
    assert "spot_watcher" in states["spot-h100"].roles
    assert "spot_watcher" not in states["spot-a100"].roles
    hosts = {host: dict(state.variables) for host, state in states.items()}
    (tmp_path / "play.yml").write_text(PLAY, encoding="utf-8")
    # Outside its role a template (file) lookup searches the play's templates/ (files/): the
    # roles' own.
    for folder in ("templates", "files"):
        (tmp_path / folder).mkdir()
        for role in ROLES_WITH_DECLARATIONS:
            for source in (ROLES_DIR / role / folder).glob("*"):
                (tmp_path / folder / source.name).symlink_to(source)
    run_local(
        tmp_path,
        hosts,
        {
            "roles_to_read": ROLES_WITH_DECLARATIONS,
            "out_dir": str(tmp_path),
            "__mig_result": MIG_RESULT,
            "__gpu_access_group": GPU_GROUP_RESULT,
        },
        str(tmp_path / "play.yml"),
    )
    for host, state in states.items():
        ansible: dict[str, str | None] = {}
        declared = json.loads((tmp_path / f"{host}.json").read_text(encoding="utf-8"))
        for role in state.roles:
            if role not in ROLES_WITH_DECLARATIONS:
                continue
            for entry in declared[role]:
                content = entry.get("content")
                ansible[entry["dest"]] = content and hashlib.sha256(content.encode()).hexdigest()
        # A file made on the node (no digest in gpuforge) is compared by its path alone; the
        # hardening role's files are tests/unit/desired's (its preflight needs an SSH client).
        read = [item for item in state.files if item.role in ROLES_WITH_DECLARATIONS]
        assert {item.path for item in read} == set(ansible), host
        known = {item.path: item.sha256 for item in read if item.sha256 is not None}
        assert known == {path: ansible[path] for path in known}, host
        assert {item.path for item in read if item.sha256 is None} == {
            "/etc/cdi/nvidia.yaml",
            *(["/usr/local/sbin/gpuforge-mig"] if "mig" in state.roles else []),
            *(["/etc/modprobe.d/gpuforge-gpu-access.conf"] if "gpu_access" in state.roles else []),
        }, host
    roce = {item.path for item in states["roce-h100"].files}
    assert {"/etc/gpuforge/roce-qos.conf", "/usr/local/sbin/gpuforge-roce-qos"} <= roce
    assert "/etc/udev/rules.d/70-gpuforge-gpu-access.rules" in roce
    assert "/usr/local/sbin/gpuforge-mig-access" in {
        item.path for item in states["roce-a100"].files
    }
    assert {"/etc/gpuforge/gpu-watch.json", "/usr/local/lib/gpuforge-gpu-watch.py"} <= roce
