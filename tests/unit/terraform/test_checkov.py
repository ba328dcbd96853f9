"""checkov on every shipped module: no failed check, and a written reason for every skip."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from checkov import CheckovReport
from hcl import MODULES_DIR, module_dirs

MODULES = module_dirs()


@pytest.mark.slow
@pytest.mark.parametrize("module", MODULES, ids=[module.name for module in MODULES])
def test_module_passes_checkov(
    module: Path, checkov_report: Callable[[Path], CheckovReport]
) -> None:
    report = checkov_report(module)
    assert report.parsing_errors == 0
    assert not report.failed, "\n".join(str(result) for result in report.failed)
    assert all(len(reason) > 20 for reason in report.suppress_comments), report.suppress_comments


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", ["aws-gpu-cluster", "azure-gpu-cluster", "gcp-gpu-cluster"], ids=str
)
def test_public_cloud_modules_are_actually_checked(
    name: str, checkov_report: Callable[[Path], CheckovReport]
) -> None:
    # checkov has policies for these providers (none for vsphere or null): a scan that checked
    # nothing would mean checkov no longer parses the module.
    report = checkov_report(MODULES_DIR / name)
    assert len(report.passed) >= 5
