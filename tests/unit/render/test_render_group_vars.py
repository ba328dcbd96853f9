"""group_vars: the local example's values match its committed lock, and every rendered name is
one the gpuforge.gpu collection reads (a role option or a play toggle of site.yml).

A misspelt variable would be silently ignored by Ansible (the role keeps its default), so the
names are checked against the options of the roles' `meta/argument_specs.yml`, and the values
against the types of their defaults.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from gpuforge.check import inputs_digest, read_lock
from gpuforge.render import GROUP_VARS_DIR, load_group_vars, render_deployment
from gpuforge.spec import load_spec

from .conftest import CASES, COLLECTION, EXAMPLES

# Labels for people (`ansible-inventory --host`, reports); no role reads them.
METADATA = {"gpuforge_cluster", "gpuforge_pool", "gpuforge_gpu_model", "gpuforge_gpus_per_node"}


def _yaml(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def role_defaults() -> dict[str, Any]:
    """Every option a role of the collection declares in meta/argument_specs.yml, with the
    default in its role's defaults/main.yml."""
    declared: dict[str, Any] = {}
    for path in sorted(COLLECTION.glob("roles/*/meta/argument_specs.yml")):
        defaults = _yaml(path.parents[1] / "defaults" / "main.yml") or {}
        for name in _yaml(path)["argument_specs"]["main"]["options"]:
            declared[name] = defaults.get(name)
    return declared


def play_toggles() -> set[str]:
    """The `gpuforge_*` variables playbooks/site.yml reads: those it names, and the role
    switch `gpuforge_enable_<role>` it reads for each role of gpuforge_site_defaults."""
    path = COLLECTION / "playbooks" / "site.yml"
    text = path.read_text(encoding="utf-8")
    named = set(re.findall(r"\b(gpuforge_[a-z0-9_]+)\b", text))
    roles = list(_yaml(path)[0]["vars"]["gpuforge_site_defaults"])
    assert "query('ansible.builtin.varnames', '^gpuforge_enable_')" in text
    return named | {f"gpuforge_enable_{role}" for role in roles}


def _group_vars(deployment: Path) -> dict[str, dict[str, Any]]:
    folder = deployment / GROUP_VARS_DIR
    return {
        path.name: load_group_vars(path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.yml"))
    }


def _kind(value: Any) -> str:
    """A YAML value's kind; bool is not a number, and int/float are both numbers."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


@pytest.fixture(scope="module")
def local_rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The local example rendered with its committed lock, and that lock's YAML data."""
    spec = load_spec(EXAMPLES / "local.yaml").spec
    lock_file = EXAMPLES / "local.lock"
    lock = read_lock(lock_file)
    assert lock.digest == inputs_digest(spec), "examples/local.lock is stale: run gpuforge lock"
    out = tmp_path_factory.mktemp("local-lock") / "deploy"
    render_deployment(spec, lock, out)
    return out, _yaml(lock_file)


@pytest.mark.parametrize("pool", ["h100", "a100"])
def test_local_group_vars_pin_the_locked_stack(
    pool: str, local_rendered: tuple[Path, dict[str, Any]]
) -> None:
    deployment, lock = local_rendered
    pinned = lock["pools"][pool]
    values = _group_vars(deployment)[f"pool_{pool}.yml"]
    assert values["nvidia_driver_version"] == pinned["driver"]
    assert values["nvidia_driver_branch"] == pinned["driver_branch"]
    assert values["nvidia_driver_open_modules"] is (pinned["driver_modules"] == "open")
    assert values["nvidia_driver_fabricmanager"] is pinned["fabricmanager"]
    assert values["cuda_toolkit_version"] == pinned["cuda"]
    assert f"{values['nccl_version']}+cuda{values['nccl_cuda_version']}" == pinned["nccl"]
    assert values["cudnn_version"] == pinned["cudnn"]
    assert values["cudnn_cuda_major"] == pinned["cuda"].split(".")[0]
    assert values["container_toolkit_version"] == pinned["container_toolkit"]
    assert values["dcgm_version"] == pinned["dcgm"]
    assert values["gpuforge_gpu_model"] == pinned["gpu"]
    assert values["nvidia_repo_mode"] == "local"
    assert values["nvidia_repo_url"].startswith("file:")
    # The fleet's nodes are hardened too: each is its own network namespace with its firewall.
    assert values["gpuforge_enable_hardening"] is True


def test_local_group_vars_carry_mig_only_on_the_mig_pool(
    local_rendered: tuple[Path, dict[str, Any]],
) -> None:
    files = _group_vars(local_rendered[0])
    a100, h100 = files["pool_a100.yml"], files["pool_h100.yml"]
    assert a100["mig_config"] == {"3g.40gb": 2}
    assert a100["mig_enabled"] is a100["gpuforge_enable_mig"] is a100["gpu_validation_mig"] is True
    assert h100["mig_config"] == {}
    assert h100["mig_enabled"] is h100["gpuforge_enable_mig"] is False
    assert h100["gpu_tuning_power_limit_w"] == 600
    assert a100["gpu_tuning_power_limit_w"] is None
    assert files["all.yml"]["fabric_type"] == "infiniband"


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_rendered_variable_is_read_by_the_collection(
    case: str, rendered: Callable[[str], Path]
) -> None:
    known = set(role_defaults()) | play_toggles() | METADATA
    for name, values in _group_vars(rendered(case)).items():
        unknown = sorted(set(values) - known)
        assert not unknown, f"{case} {name}: no role or play reads {unknown}"


@pytest.mark.parametrize("case", sorted(CASES))
def test_rendered_values_have_the_role_defaults_types(
    case: str, rendered: Callable[[str], Path]
) -> None:
    defaults = role_defaults()
    for name, values in _group_vars(rendered(case)).items():
        for key, value in values.items():
            default = defaults.get(key)
            templated = isinstance(default, str) and "{{" in default
            if default is None or value is None or templated:
                continue
            assert _kind(value) == _kind(default), f"{case} {name} {key}: {value!r} vs {default!r}"


def test_toggles_in_group_vars_are_the_plays_own() -> None:
    toggles = play_toggles()
    assert {"gpuforge_enable_mig", "gpuforge_enable_mps", "gpuforge_enable_hardening"} <= toggles
    assert not METADATA & (set(role_defaults()) | toggles)
