"""checkov on every rendered target root, with the rendered values in place: zero failed checks.

checkov does not follow terraform.tfvars.json into module arguments (a root passes
`var.pools["x"].public_ip`, and checkov sees an unknown), so each deployment is scanned as a
copy whose `var.<name>` references are replaced by their tfvars values, written as JSON (a
valid HCL expression). One scan per rendered example per session: checkov takes seconds.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from .conftest import CASES, EXAMPLES, REPO_ROOT, render, roots

CHECKED_PROVIDERS = ("aws", "azure", "gcp")  # the providers checkov has policies for here
_VAR = re.compile(r'\bvar\.([A-Za-z_][A-Za-z0-9_]*)(?:\["([^"]+)"\]\.([A-Za-z_][A-Za-z0-9_]*))?')


def _load_checkov_helpers() -> ModuleType:
    """tests/unit/terraform/checkov.py, loaded by path (that folder is not a package)."""
    path = REPO_ROOT / "tests" / "unit" / "terraform" / "checkov.py"
    spec = importlib.util.spec_from_file_location("gpuforge_tf_checkov", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


CHECKOV = _load_checkov_helpers()


def inline_tfvars(root: Path) -> None:
    """Replace each `var.x` / `var.pools["p"].k` in the root's main.tf by its tfvars value."""
    tfvars: dict[str, Any] = json.loads((root / "terraform.tfvars.json").read_text("utf-8"))

    def value(match: re.Match[str]) -> str:
        name, pool, key = match.groups()
        if name not in tfvars:
            return match.group(0)
        return json.dumps(tfvars[name] if pool is None else tfvars[name][pool][key])

    main = root / "main.tf"
    main.write_text(_VAR.sub(value, main.read_text("utf-8")), "utf-8")


@pytest.fixture(scope="session")
def scan(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], Any]:
    """Scan a deployment's terraform/ folder (values inlined) with checkov, once per session."""
    binary = CHECKOV.checkov_binary()
    if binary is None:
        pytest.skip(f"checkov is not set up: {CHECKOV.SETUP_HINT}")
    reports: dict[Path, Any] = {}

    def run(deployment: Path) -> Any:
        if deployment not in reports:
            copy = tmp_path_factory.mktemp("checkov") / "deploy"
            shutil.copytree(deployment, copy)
            for root in roots(copy).values():
                inline_tfvars(root)
            reports[deployment] = CHECKOV.run_checkov(copy / "terraform", binary)
        return reports[deployment]

    return run


def _module_calls(root: Path) -> list[str]:
    return re.findall(r'^module "([^"]+)"', (root / "main.tf").read_text("utf-8"), re.MULTILINE)


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_checkov_passes_every_rendered_root(
    case: str, rendered: Callable[[str], Path], scan: Callable[[Path], Any]
) -> None:
    deployment = rendered(case)
    report = scan(deployment)
    assert report.parsing_errors == 0
    assert not report.failed, "\n".join(str(result) for result in report.failed)
    assert all(report.suppress_comments), "a checkov skip without a written reason"
    for target, root in roots(deployment).items():
        if target.split("/")[0] not in CHECKED_PROVIDERS:
            continue
        for call in _module_calls(root):
            evaluated = [r for r in report.passed if r.resource.startswith(f"module.{call}.")]
            assert evaluated, f"checkov did not evaluate {target}'s module.{call}"


@pytest.mark.slow
def test_checkov_sees_the_rendered_values(tmp_path: Path, scan: Callable[[Path], Any]) -> None:
    open_ssh = (
        (EXAMPLES / "aws-training.yaml").read_text("utf-8").replace("10.0.0.0/8", "0.0.0.0/0")
    )
    render(open_ssh, tmp_path / "deploy")
    report = scan(tmp_path / "deploy")
    assert "CKV_AWS_24" in {result.check_id for result in report.failed}


SCHEDULED = """\
apiVersion: gpuforge/v1
kind: Cluster
name: sched
target: [aws/us-east-1, azure/eastus]
security: {ssh_cidrs: [10.0.0.0/8]}
pools:
  aws-dev:
    target: aws/us-east-1
    instance_type: g6.12xlarge
    count: 4
    market: spot-with-fallback
  azure-dev:
    target: azure/eastus
    instance_type: Standard_NC24ads_A100_v4
    count: 3
    market: spot-with-fallback
cost:
  schedule:
    - {pool: aws-dev, start: "0 20 * * mon-fri", end: "30 7 * * mon-fri", count: 1}
    - {pool: azure-dev, start: "0 19 * * fri", end: "0 7 * * mon", count: 0}
"""


@pytest.mark.slow
def test_checkov_passes_spot_with_fallback_and_schedules(
    tmp_path: Path, scan: Callable[[Path], Any]
) -> None:
    render(SCHEDULED, tmp_path / "deploy")
    main = (tmp_path / "deploy/terraform/aws-us-east-1/main.tf").read_text("utf-8")
    assert "schedules" in main
    report = scan(tmp_path / "deploy")
    assert report.parsing_errors == 0
    assert not report.failed, "\n".join(str(result) for result in report.failed)
