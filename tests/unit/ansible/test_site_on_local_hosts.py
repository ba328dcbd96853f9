"""site.yml over hosts with a local connection: which roles each host includes, and the checks
of the roles' inputs (Ansible's own argument-spec validation, then each role's preflight).

The runs select a tag no task inside the roles has: only the includes (tagged `always`) and
Ansible's argument validation of each included role (also `always`) run, so nothing on this
machine changes.
"""

from __future__ import annotations

import json
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


ARGUMENT_CASES = [
    ("nccl", {"nccl_fabric_type": "token-ring"}),
    ("nccl", {"nccl_env": ["NCCL_DEBUG", "INFO"]}),
    ("dcgm", {"dcgm_exporter_port": "nine thousand"}),
    ("cuda_toolkit", {"cuda_toolkit_profile": "maybe"}),
]
PREFLIGHT_CASES = [
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
]


def _ids(cases: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [f"{role}-{index}" for index, (role, _) in enumerate(cases)]


_FAILED = re.compile(r"^(\S+) \| FAILED! => ", re.M)


def _failures(out: str) -> dict[str, dict[str, Any]]:
    """Host -> its failed task's result, from the `minimal` callback's output."""
    decoder = json.JSONDecoder()
    return {
        found.group(1): decoder.raw_decode(out, found.end())[0] for found in _FAILED.finditer(out)
    }


def _one_run(work: Path, hosts: dict[str, dict[str, Any]], *args: str) -> dict[str, Any]:
    """One ansible-playbook over every case's host (a failed host stops alone): the failures."""
    out = run_local(
        work,
        hosts,
        BASE,
        *args,
        env={"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.minimal"},
        expect_failure=True,
    )
    return _failures(out)


@pytest.fixture(scope="module")
def argument_failures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """site.yml once, one host per argument case."""
    hosts = {f"case{index}": broken for index, (_, broken) in enumerate(ARGUMENT_CASES)}
    work = tmp_path_factory.mktemp("arguments")
    return _one_run(work, hosts, *NO_ROLE_TASK, "gpuforge.gpu.site")


@pytest.fixture(scope="module")
def preflight_failures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every role's preflight once, one host per case plus `clean` (the renderer's inputs)."""
    hosts = {
        f"case{index}": {"roles_under_test": ROLES, **broken}
        for index, (_, broken) in enumerate(PREFLIGHT_CASES)
    }
    hosts["clean"] = {"roles_under_test": ROLES}
    work = tmp_path_factory.mktemp("preflights")
    (work / "play.yml").write_text(PREFLIGHTS)
    return _one_run(work, hosts, str(work / "play.yml"))


@pytest.mark.parametrize("index", range(len(ARGUMENT_CASES)), ids=_ids(ARGUMENT_CASES))
def test_ansible_refuses_a_role_argument_against_its_spec(
    argument_failures: dict[str, Any], index: int
) -> None:
    role, broken = ARGUMENT_CASES[index]
    result = argument_failures[f"case{index}"]
    assert result["validate_args_context"]["name"] == role, result
    assert result["msg"].startswith("Validation of arguments failed"), result["msg"]
    assert next(iter(broken)) in result["msg"]


@pytest.mark.parametrize("index", range(len(PREFLIGHT_CASES)), ids=_ids(PREFLIGHT_CASES))
def test_a_role_s_preflight_refuses_what_its_spec_cannot_say(
    preflight_failures: dict[str, Any], index: int
) -> None:
    role, _ = PREFLIGHT_CASES[index]
    message = preflight_failures[f"case{index}"]["msg"]
    assert message.startswith(f"{role}:"), message
    assert "To fix" in message


def test_every_role_s_preflight_passes_the_renderer_s_inputs(
    preflight_failures: dict[str, Any],
) -> None:
    assert "clean" not in preflight_failures
    assert len(preflight_failures) == len(PREFLIGHT_CASES)


def test_site_yml_is_plain_ansible() -> None:
    """Each role is one include of its own, switched by a `when` on the enabled list."""
    site = REPO / "src/gpuforge/ansible_collections/gpuforge/gpu/playbooks/site.yml"
    text = site.read_text(encoding="utf-8")
    assert "rolespec_validate" not in text
    assert "{%" not in text, "no Jinja statements: filters only"
    for role in ROLES:
        assert f"name: gpuforge.gpu.{role}\n" in text
        assert f"when: \"'{role}' in gpuforge_site_enabled_roles\"" in text
