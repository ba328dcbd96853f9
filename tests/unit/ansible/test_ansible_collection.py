"""The gpuforge.gpu collection: role layout and documentation, and ansible-lint / syntax-check."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
COLLECTION = REPO / "src" / "gpuforge" / "ansible_collections" / "gpuforge" / "gpu"
ROLES = sorted(path.name for path in (COLLECTION / "roles").iterdir() if path.is_dir())
CONTRACT = [
    "gpu_access_group",
    "gpu_access_users",
    "nvidia_repo_mode",
    "nvidia_repo_url",
    "nvidia_driver_branch",
    "nvidia_driver_version",
    "nvidia_driver_open_modules",
    "nvidia_driver_fabricmanager",
    "nvidia_driver_reboot_allowed",
    "cuda_toolkit_version",
    "nccl_version",
    "nccl_cuda_version",
    "nccl_env",
    "cudnn_version",
    "cudnn_cuda_major",
    "fabric_type",
    "fabric_roce_pfc_priority",
    "fabric_roce_ecn",
    "fabric_roce_dscp",
    "gpu_tuning_persistence_mode",
    "gpu_tuning_power_limit_w",
    "gpu_tuning_compute_mode",
    "gpu_tuning_locked_clocks",
    "mig_enabled",
    "mig_config",
    "mps_enabled",
    "container_toolkit_version",
    "dcgm_version",
    "gpu_validation_dcgm_level",
    "gpu_validation_collect_dir",
    "hardening_ssh_cidrs",
]


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _options(role: str) -> dict[str, dict[str, Any]]:
    specs = _load(COLLECTION / "roles" / role / "meta" / "argument_specs.yml")
    options: dict[str, dict[str, Any]] = specs["argument_specs"]["main"]["options"]
    return options


def test_all_roles_are_present() -> None:
    assert ROLES == [
        "container_toolkit",
        "cuda_toolkit",
        "cudnn",
        "dcgm",
        "fabric",
        "gpu_access",
        "gpu_tuning",
        "gpu_validation",
        "hardening",
        "mig",
        "monitoring",
        "mps",
        "nccl",
        "nvidia_driver",
        "nvidia_repo",
        "slurm",
        "spot_watcher",
        "stack_packages",
    ]


@pytest.mark.parametrize("role", ROLES)
def test_role_defaults_match_the_argument_spec(role: str) -> None:
    defaults = _load(COLLECTION / "roles" / role / "defaults" / "main.yml")
    options = _options(role)
    assert set(defaults) == set(options)
    for name, option in options.items():
        assert name.startswith(role + "_"), name
        assert option.get("description"), name
        assert option.get("type"), name
        value = defaults[name]
        if not (isinstance(value, str) and "{{" in value):
            assert option.get("default") == value, name


@pytest.mark.parametrize("role", ROLES)
def test_role_has_a_preflight_and_documented_defaults(role: str) -> None:
    tasks = COLLECTION / "roles" / role / "tasks"
    assert "ansible.builtin.assert" in (tasks / "preflight.yml").read_text()
    main = _load(tasks / "main.yml")
    assert [task["ansible.builtin.import_tasks"] for task in main] == ["preflight.yml", "apply.yml"]
    assert (tasks / "apply.yml").is_file()
    assert (COLLECTION / "roles" / role / "defaults" / "main.yml").read_text().count("\n# ") >= 1


def test_the_renderer_contract_variables_are_role_options() -> None:
    every = {name for role in ROLES for name in _options(role)}
    assert sorted(set(CONTRACT) - every) == []


@pytest.mark.slow
def test_collection_passes_ansible_lint_production_and_syntax_check() -> None:
    done = subprocess.run(
        [str(REPO / "scripts" / "lint-ansible.sh")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "Profile 'production' was required, and it passed" in done.stdout + done.stderr
    # ansible-lint still passes when a plugin's DOCUMENTATION does not parse; Ansible says so.
    assert "[ERROR]" not in done.stdout + done.stderr
    for playbook in ("site", "upgrade", "rollback", "validate"):
        assert f"syntax ok: playbooks/{playbook}.yml" in done.stdout
