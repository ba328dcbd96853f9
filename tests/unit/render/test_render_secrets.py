"""No secret lands in a rendered file, and the security defaults show in the rendered values.

Credentials live in the environment of the user who renders; `gpuforge render` must not copy
any of them into the deployment folder, the lock, or its output. IMDSv2 and volume encryption
are the modules' own and are checked, with the rendered values, by the checkov tests.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from gpuforge.cli import up_cmds
from gpuforge.render import GROUP_VARS_DIR, load_group_vars

from .conftest import AS_OF_TEXT, CASES, EXAMPLES, pool_inputs, render, roots, solve

FAKE_SECRETS = {
    "AWS_ACCESS_KEY_ID": "AKIAGPUFORGEFAKE7Q2Z",
    "AWS_SECRET_ACCESS_KEY": "gpuforge-fake-aws-secret-4f9c1e",
    "AWS_SESSION_TOKEN": "gpuforge-fake-aws-session-b7d2",
    "ARM_CLIENT_SECRET": "gpuforge-fake-azure-secret-9a41",
    "GOOGLE_CREDENTIALS": '{"private_key": "gpuforge-fake-gcp-key-3e8d"}',
    "VSPHERE_USER": "gpuforge-fake-admin@vsphere.local",
    "VSPHERE_PASSWORD": "gpuforge-fake-vsphere-pw-61c0",
    "TF_VAR_vsphere_password": "gpuforge-fake-tfvar-pw-0d5b",
}
PUBLIC_IP_INPUT = {"aws": "associate_public_ip", "azure": "public_ip", "gcp": "public_ip"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_no_secret_from_the_environment_is_written(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in FAKE_SECRETS.items():
        monkeypatch.setenv(name, value)
    spec = tmp_path / CASES[case].name
    shutil.copy(CASES[case], spec)
    app = typer.Typer()
    up_cmds.register(app)
    result = CliRunner().invoke(
        app, ["render", str(spec), "-o", str(tmp_path / "deploy"), "--as-of", AS_OF_TEXT]
    )
    assert result.exit_code == 0, result.output
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert any(path.suffix == ".lock" for path in written)
    assert len(written) > 5
    for path in written:
        text = path.read_text(encoding="utf-8")
        for name, value in FAKE_SECRETS.items():
            assert value not in text, f"{name} was written to {path}"
    for value in FAKE_SECRETS.values():
        assert value not in result.output


@pytest.mark.parametrize("case", sorted(CASES))
def test_rendered_roots_keep_nodes_private_and_ssh_as_given(
    case: str, rendered: Callable[[str], Path]
) -> None:
    spec, _ = solve(CASES[case])
    deployment = rendered(case)
    for target, root in roots(deployment).items():
        provider = target.split("/")[0]
        calls = pool_inputs(root)
        for pool, inputs in calls.items():
            if provider in ("aws", "azure", "gcp", "vsphere"):
                assert inputs["ssh_cidrs"] == spec.security.ssh_cidrs, f"{target} {pool}"
                assert "0.0.0.0/0" not in inputs["ssh_cidrs"], f"{target} {pool}"
            if provider in PUBLIC_IP_INPUT:
                assert inputs[PUBLIC_IP_INPUT[provider]] is False, f"{target} {pool}"
    all_vars = load_group_vars(
        (deployment / GROUP_VARS_DIR / "all.yml").read_text(encoding="utf-8")
    )
    assert all_vars["hardening_ssh_cidrs"] == spec.security.ssh_cidrs


def test_public_ip_only_for_the_pool_that_asks(tmp_path: Path) -> None:
    text = (EXAMPLES / "multi-cloud-a100.yaml").read_text(encoding="utf-8")
    text = text.replace("    market: spot\n", "    market: spot\n    network: {public_ip: true}\n")
    render(text, tmp_path)
    azure = pool_inputs(tmp_path / "terraform/azure-eastus")
    aws = pool_inputs(tmp_path / "terraform/aws-us-east-1")
    assert azure["azure-train"]["public_ip"] is True
    assert aws["aws-train"]["associate_public_ip"] is False
