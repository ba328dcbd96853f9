"""site.yml's steps that run on the controller, over hosts with a local connection.

role_preflight judges each role's inputs exactly as the role's own preflight does, in one task,
and returns the packages, units and files each role's tasks would set:
each host of a local inventory is one case whose host variables break (or keep) one role's
inputs, and the same play runs the action over every role and, for comparison, each role's own
`tasks/preflight.yml` through `include_role`, where Ansible itself layers the variables.

site.yml includes the same roles in the same order on every host, also when only some hosts
switch a role on.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from local_play import REPO, run_local

ROLES_DIR = REPO / "src" / "gpuforge" / "ansible_collections" / "gpuforge" / "gpu" / "roles"
ROLES = [
    "nvidia_repo",
    "stack_packages",
    "nvidia_driver",
    "fabric",
    "cuda_toolkit",
    "nccl",
    "cudnn",
    "gpu_tuning",
    "mig",
    "mps",
    "container_toolkit",
    "dcgm",
    "monitoring",
    "hardening",
    "gpu_validation",
]
CASES: dict[str, dict[str, Any]] = {
    "usable": {},
    "driver_branch": {"nvidia_driver_branch": "58"},
    "fabric_priorities": {
        "fabric_type": "roce",
        "fabric_roce_pfc_priority": 3,
        "fabric_roce_cnp_priority": 3,
    },
    "locked_clocks": {"gpu_tuning_locked_clocks": {"min": 2000, "max": 1000}},
    "nccl_env_key": {"nccl_env": {"nccl_debug": "INFO"}},
    "exporter_port": {"dcgm_exporter_port": 70000},
    # A newline would add a second (trusted) line to the node's APT sources.
    "repo_url_newline": {
        "nvidia_repo_mode": "mirror",
        "nvidia_repo_url": "https://mirror.example.com/cuda\ndeb [trusted=yes] http://evil.test /",
    },
    # Role variables outrank host variables: the role's own list wins and the check passes.
    "role_vars_win": {"_nvidia_repo_supported": []},
}
# What every role needs from the renderer (the rest are role defaults).
BASE = {
    "nvidia_driver_branch": "580",
    "nvidia_driver_version": "580.95.05",
    "cuda_toolkit_version": "12.9.1",
    "nccl_version": "2.27.7",
    "nccl_cuda_version": "12.9",
    "cudnn_version": "9.13.0.50",
    "cudnn_cuda_major": "12",
    "gpu_validation_collect_dir": "/tmp/collected",
    "hardening_ssh_cidrs": ["10.0.0.0/8"],
}
PLAY = """\
- name: Judge every case both ways
  hosts: all
  gather_facts: true
  gather_subset: ["!all", "!min", distribution, platform]
  tasks:
    - name: All roles at once
      gpuforge.gpu.role_preflight:
        roles: "{{ roles_under_test }}"
      register: site_check
      ignore_errors: true

    - name: Role by role
      block:
        - name: Run each role's own preflight
          ansible.builtin.include_role:
            name: "gpuforge.gpu.{{ role_under_test }}"
            tasks_from: preflight
            public: true
          loop: "{{ roles_under_test }}"
          loop_control:
            loop_var: role_under_test
      rescue:
        - name: Keep the failure
          ansible.builtin.set_fact:
            own_failure: "{{ ansible_failed_result.msg }}"

    - name: Write both verdicts
      ansible.builtin.copy:
        content: "{{ {'site': site_check, 'own': own_failure | default(none),
                      'stacks': stacks, 'units': units, 'files': files} | to_json }}"
        dest: "{{ out_dir }}/{{ inventory_hostname }}.json"
        mode: "0644"
      delegate_to: localhost
      vars:
        # Each role's package list as the role itself saw it (its role vars are public).
        stacks: >-
          {{ dict(roles_under_test | zip(query('ansible.builtin.vars',
                  *(roles_under_test | map('regex_replace', '^(.*)$', '_\\1_stack')), default='')))
             | dict2items | selectattr('value') | items2dict }}
        units: >-
          {{ dict(roles_under_test | zip(query('ansible.builtin.vars',
                  *(roles_under_test | map('regex_replace', '^(.*)$', '_\\1_units')), default='')))
             | dict2items | selectattr('value') | items2dict }}
        # Each role's files as Ansible renders them outside the action: its templates are
        # linked into the play's templates/ folder, on the play's search path.
        files: >-
          {{ dict(roles_under_test | zip(query('ansible.builtin.vars',
                  *(roles_under_test | map('regex_replace', '^(.*)$', '_\\1_files')), default='')))
             | dict2items | rejectattr('value', 'equalto', '') | items2dict }}
"""


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Run the play once over every case; each case's two verdicts by case name."""
    work = tmp_path_factory.mktemp("preflight")
    (work / "play.yml").write_text(PLAY)
    templates = work / "templates"
    templates.mkdir()
    for template in sorted(ROLES_DIR.glob("*/templates/*")):
        link = templates / template.name
        assert not link.exists(), f"two roles have a template named {template.name}"
        link.symlink_to(template)
    common = {"roles_under_test": ROLES, "out_dir": str(work)}
    run_local(
        work,
        {name: {**common, **case} for name, case in CASES.items()},
        BASE,
        str(work / "play.yml"),
    )
    return {name: json.loads((work / f"{name}.json").read_text()) for name in CASES}


def test_usable_inputs_pass_both_ways(verdicts: dict[str, dict[str, Any]]) -> None:
    for case in ("usable", "role_vars_win"):
        site, own = verdicts[case]["site"], verdicts[case]["own"]
        assert own is None, own
        assert not site.get("failed"), site["msg"]
        assert site["roles"] == ROLES
        # The package lists handed to roles_in_place are the ones each role's install task uses.
        assert site["packages"] == verdicts[case]["stacks"]
        assert set(site["packages"]) >= {"nvidia_driver", "nccl", "dcgm", "gpu_validation"}
        driver = site["packages"]["nvidia_driver"]
        assert driver["hold"] is True and any("580.95.05" in name for name in driver["packages"])
        # So are the units each role's service task enables and the files its file task writes.
        assert site["units"] == verdicts[case]["units"]
        assert set(site["units"]) >= {"nvidia_driver", "dcgm", "monitoring", "gpu_tuning"}
        written = {
            role: [
                {
                    "dest": entry["dest"],
                    "checksum": hashlib.sha1(entry["content"].encode()).hexdigest(),
                    "mode": entry.get("mode", "0644"),
                }
                for entry in entries
            ]
            for role, entries in verdicts[case]["files"].items()
        }
        assert site["files"] == written
        assert {role for role, entries in written.items() if entries} >= {
            "nvidia_repo",
            "cuda_toolkit",
            "nccl",
            "gpu_tuning",
        }


@pytest.mark.parametrize(
    ("case", "role"),
    [
        ("driver_branch", "nvidia_driver"),
        ("fabric_priorities", "fabric"),
        ("locked_clocks", "gpu_tuning"),
        ("nccl_env_key", "nccl"),
        ("exporter_port", "dcgm"),
        ("repo_url_newline", "nvidia_repo"),
    ],
)
def test_a_broken_input_fails_with_the_role_s_own_message(
    verdicts: dict[str, dict[str, Any]], case: str, role: str
) -> None:
    site, own = verdicts[case]["site"], verdicts[case]["own"]
    assert site["failed"] is True and site["role"] == role
    assert own is not None and own.startswith(f"{role}:")
    assert site["msg"] == own
    assert "To fix" in site["msg"]


def test_site_includes_the_same_roles_in_order_on_every_host(tmp_path: Path) -> None:
    # No task inside the roles has this tag: only the steps tagged `always` run.
    hosts = {
        "plain": {},
        "partitioned": {
            "gpuforge_enable_mig": True,
            "mig_enabled": True,
            "mig_config": {"3g.40gb": 2},
        },
    }
    out = run_local(tmp_path, hosts, BASE, "--tags", "gpuforge_no_such_tag", "gpuforge.gpu.site")
    included = re.findall(r"^included: gpuforge\.gpu\.(\w+) for (.+?) =>", out, re.M)
    # fabric on plain Ethernet installs, writes and starts nothing: in place on both hosts, it
    # is left out (roles_in_place), as the other roles would be on hosts that have their stack.
    left_out = ("mps", "hardening", "gpu_validation", "fabric")
    expected = [role for role in ROLES if role not in left_out]
    assert [role for role, _ in included] == expected, out[-3000:]
    for role, names in included:
        assert sorted(names.replace(",", " ").split()) == ["partitioned", "plain"], role
