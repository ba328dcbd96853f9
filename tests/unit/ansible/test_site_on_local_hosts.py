"""site.yml over hosts with a local connection: which roles each host includes, and the checks
of the roles' inputs (Ansible's own argument-spec validation, then each role's preflight).

The runs select a tag no task inside the roles has: only the includes (tagged `always`) and
Ansible's argument validation of each included role (also `always`) run, so nothing on this
machine changes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from local_play import REPO, run_local

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
OFF_BY_DEFAULT = {"mig", "mps", "hardening", "gpu_validation"}
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
NO_ROLE_TASK = ("--tags", "gpuforge_no_such_tag")
PREFLIGHTS = """\
- name: Run every role's own preflight
  hosts: all
  gather_facts: true
  gather_subset: ["!all", "!min", distribution, platform]
  tasks:
    - name: Include each role's preflight
      ansible.builtin.include_role:
        name: "gpuforge.gpu.{{ role_under_test }}"
        tasks_from: preflight
      loop: "{{ roles_under_test }}"
      loop_control:
        loop_var: role_under_test
"""


def _included(out: str) -> dict[str, list[str]]:
    """Role name -> the hosts that included it, sorted, from ansible-playbook's output."""
    found = re.findall(r"^included: gpuforge\.gpu\.(\w+) for (.+?)$", out, re.M)
    return {role: sorted(hosts.replace(",", " ").split()) for role, hosts in found}


def test_site_includes_each_role_in_order_on_the_hosts_that_switch_it_on(tmp_path: Path) -> None:
    hosts: dict[str, dict[str, Any]] = {
        "plain": {},
        # A switch may be a bool or, as from `-e name=value`, a string.
        "partitioned": {
            "gpuforge_enable_mig": True,
            "gpuforge_enable_fabric": "false",
            "mig_enabled": True,
            "mig_config": {"3g.40gb": 2},
        },
    }
    out = run_local(tmp_path, hosts, BASE, *NO_ROLE_TASK, "gpuforge.gpu.site")
    included = _included(out)
    on_both = [role for role in ROLES if role not in OFF_BY_DEFAULT | {"fabric"}]
    assert list(included) == [role for role in ROLES if role in included], "order"
    assert set(included) == {*on_both, "fabric", "mig"}, out[-3000:]
    for role in on_both:
        assert included[role] == ["partitioned", "plain"], role
    assert included["fabric"] == ["plain"]
    assert included["mig"] == ["partitioned"]
    # Ansible validated each included role's arguments, once per host that included it.
    validated = re.findall(r"^TASK \[gpuforge\.gpu\.(\w+) : Validating arguments", out, re.M)
    assert validated == list(included)


def test_extra_vars_switch_a_role_off_and_on_everywhere(tmp_path: Path) -> None:
    hosts: dict[str, dict[str, Any]] = {"one": {}, "two": {"gpuforge_enable_dcgm": True}}
    out = run_local(
        tmp_path,
        hosts,
        BASE,
        *NO_ROLE_TASK,
        "-e",
        "gpuforge_enable_dcgm=false",
        "-e",
        "gpuforge_enable_hardening=true",
        "gpuforge.gpu.site",
    )
    included = _included(out)
    assert "dcgm" not in included
    assert included["hardening"] == ["one", "two"]


@pytest.mark.parametrize(
    ("role", "broken"),
    [
        ("nccl", {"nccl_fabric_type": "token-ring"}),
        ("nccl", {"nccl_env": ["NCCL_DEBUG", "INFO"]}),
        ("dcgm", {"dcgm_exporter_port": "nine thousand"}),
        ("cuda_toolkit", {"cuda_toolkit_profile": "maybe"}),
    ],
)
def test_ansible_refuses_a_role_argument_against_its_spec(
    tmp_path: Path, role: str, broken: dict[str, Any]
) -> None:
    out = run_local(
        tmp_path,
        {"node": broken},
        BASE,
        *NO_ROLE_TASK,
        "gpuforge.gpu.site",
        expect_failure=True,
    )
    failed_task = re.findall(r"^TASK \[(.+?)\]", out.split("\nfatal: ")[0], re.M)[-1]
    assert failed_task.startswith(f"gpuforge.gpu.{role} : Validating arguments"), failed_task
    assert "Validation of arguments failed" in out
    assert next(iter(broken)) in out


@pytest.mark.parametrize(
    ("role", "broken"),
    [
        ("nvidia_driver", {"nvidia_driver_branch": "58"}),
        (
            "fabric",
            {"fabric_type": "roce", "fabric_roce_pfc_priority": 3, "fabric_roce_cnp_priority": 3},
        ),
        ("gpu_tuning", {"gpu_tuning_locked_clocks": {"min": 2000, "max": 1000}}),
        ("nccl", {"nccl_env": {"nccl_debug": "INFO"}}),
        ("dcgm", {"dcgm_exporter_port": 70000}),
        # A newline would add a second (trusted) line to the node's APT sources.
        (
            "nvidia_repo",
            {
                "nvidia_repo_mode": "mirror",
                "nvidia_repo_url": "https://m.example.com/cuda\ndeb [trusted=yes] http://e.test /",
            },
        ),
    ],
)
def test_a_role_s_preflight_refuses_what_its_spec_cannot_say(
    tmp_path: Path, role: str, broken: dict[str, Any]
) -> None:
    (tmp_path / "play.yml").write_text(PREFLIGHTS)
    out = run_local(
        tmp_path,
        {"node": {"roles_under_test": ROLES, **broken}},
        BASE,
        str(tmp_path / "play.yml"),
        expect_failure=True,
    )
    failed = re.search(r'"msg": "([^"]*)"', out)
    assert failed is not None, out[-3000:]
    assert failed.group(1).startswith(f"{role}:"), failed.group(1)
    assert "To fix" in failed.group(1)


def test_every_role_s_preflight_passes_the_renderer_s_inputs(tmp_path: Path) -> None:
    (tmp_path / "play.yml").write_text(PREFLIGHTS)
    run_local(tmp_path, {"node": {"roles_under_test": ROLES}}, BASE, str(tmp_path / "play.yml"))


def test_site_yml_is_plain_ansible() -> None:
    """Each role is one include of its own, switched by a `when` on the enabled list."""
    site = REPO / "src/gpuforge/ansible_collections/gpuforge/gpu/playbooks/site.yml"
    text = site.read_text(encoding="utf-8")
    assert "rolespec_validate" not in text
    assert "{%" not in text, "no Jinja statements: filters only"
    for role in ROLES:
        assert f"name: gpuforge.gpu.{role}\n" in text
        assert f"when: \"'{role}' in gpuforge_site_enabled_roles\"" in text
