"""Shared fixtures for the tests of the shipped Terraform modules."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from checkov import SETUP_HINT, CheckovReport, checkov_binary, run_checkov
from hcl import REPO_ROOT

TOOLS_DIR = Path(os.environ.get("GPUFORGE_TOOLS_DIR", REPO_ROOT / ".tools"))
TERRAFORM_HINT = (
    "run scripts/setup-terraform.sh --with-terraform (Terraform + null provider mirror)"
)


def terraform_binaries() -> list[Path]:
    """Every distinct tofu/terraform reachable here: PATH, then the .tools install."""
    found = [shutil.which(name) for name in ("tofu", "terraform")]
    found += [str(TOOLS_DIR / "bin" / name) for name in ("tofu", "terraform")]
    unique: dict[Path, Path] = {}
    for candidate in found:
        if candidate and os.access(candidate, os.X_OK):
            unique.setdefault(Path(candidate).resolve(), Path(candidate))
    return list(unique.values())


def binary_version(binary: Path) -> tuple[int, ...]:
    """The (major, minor, patch) version a tofu/terraform binary reports."""
    first = subprocess.run(
        [str(binary), "version"], capture_output=True, text=True, check=True
    ).stdout.split()
    return tuple(int(part) for part in first[1].lstrip("v").split("-")[0].split("."))


@pytest.fixture(scope="session")
def checkov_report() -> Callable[[Path], CheckovReport]:
    """Scan a folder with checkov at most once per session (checkov takes seconds per run)."""
    binary = checkov_binary()
    if binary is None:
        pytest.skip(f"checkov is not set up: {SETUP_HINT}")
    cache: dict[Path, CheckovReport] = {}

    def scan(directory: Path) -> CheckovReport:
        if directory not in cache:
            cache[directory] = run_checkov(directory, binary)
        return cache[directory]

    return scan


@pytest.fixture(scope="session")
def mirror_config() -> Path:
    """The CLI config that points `init` at the offline provider mirror."""
    config = TOOLS_DIR / "terraformrc"
    if not (config.is_file() and (TOOLS_DIR / "terraform-plugins").is_dir()):
        pytest.skip(f"no offline provider mirror in {TOOLS_DIR}: {TERRAFORM_HINT}")
    return config
