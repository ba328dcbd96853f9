"""`validate` of each cloud module's examples, where a mirror holds that module's provider.

No provider registry is reachable from gpuforge's machines, so these run only where someone
placed the provider in the filesystem mirror (.tools/terraform-plugins); elsewhere parse, fmt,
checkov and the renderer's golden files cover the cloud modules.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import TERRAFORM_HINT, TOOLS_DIR, terraform_binaries
from hcl import MODULES_DIR

PROVIDERS = {
    "aws-gpu-cluster": "hashicorp/aws",
    "azure-gpu-cluster": "hashicorp/azurerm",
    "gcp-gpu-cluster": "hashicorp/google",
    "vsphere-gpu-cluster": "hashicorp/vsphere",
}
MIRROR = TOOLS_DIR / "terraform-plugins"
OFFLINE = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}


def mirrored(provider: str) -> Path | None:
    """The mirror folder holding a provider, for either registry host, or None."""
    for host in ("registry.opentofu.org", "registry.terraform.io"):
        folder = MIRROR / host / provider
        if folder.is_dir() and any(folder.iterdir()):
            return folder
    return None


@pytest.mark.parametrize(
    "example",
    sorted(e for name in PROVIDERS for e in (MODULES_DIR / name / "examples").iterdir()),
    ids=lambda e: f"{e.parent.parent.name}/{e.name}",
)
def test_example_validates(example: Path, tmp_path: Path) -> None:
    provider = PROVIDERS[example.parent.parent.name]
    if mirrored(provider) is None:
        pytest.skip(f"no {provider} provider in the offline mirror {MIRROR}: cannot validate")
    binaries = terraform_binaries()
    if not binaries:
        pytest.skip(f"neither tofu nor terraform is available: {TERRAFORM_HINT}")
    config = tmp_path / "terraformrc"
    config.write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{MIRROR}"\n  }}\n}}\n'
    )
    module = tmp_path / "module"
    shutil.copytree(example.parent.parent, module, ignore=shutil.ignore_patterns(".terraform*"))
    work = module / "examples" / example.name
    env = {**os.environ, **OFFLINE, "TF_CLI_CONFIG_FILE": str(config), "TF_IN_AUTOMATION": "1"}
    for args in (["init", "-input=false", "-backend=false"], ["validate", "-no-color"]):
        completed = subprocess.run(
            [str(binaries[0]), *args], cwd=work, env=env, capture_output=True, text=True
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr
