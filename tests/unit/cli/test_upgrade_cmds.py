"""`upgrade` and `rollback` ask before changing a cloud cluster's nodes; bad input is exit 2."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from gpuforge.cli import build_app

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def test_a_cloud_cluster_needs_a_yes_before_anything_runs(tmp_path: Path) -> None:
    app = build_app(["gpuforge.cli.upgrade_cmds"])
    for command in ("upgrade", "rollback"):
        deploy = tmp_path / command
        done = CliRunner().invoke(
            app,
            [command, str(EXAMPLES / "aws-training.yaml"), "--deploy-dir", str(deploy), "--json"],
        )
        assert done.exit_code == 2, done.output
        body = json.loads(done.output)
        assert body["command"] == command and body["ok"] is False
        assert "needs confirmation" in body["error"]["message"]
        assert body["error"]["fix"] == "pass --yes to go ahead"
        assert not deploy.exists()


def test_a_local_cluster_without_a_deployment_is_bad_input(tmp_path: Path) -> None:
    app = build_app(["gpuforge.cli.upgrade_cmds"])
    spec = tmp_path / "local.yaml"
    spec.write_text((EXAMPLES / "local.yaml").read_text())
    done = CliRunner().invoke(app, ["rollback", str(spec), "--json"])
    assert done.exit_code == 2, done.output
    body = json.loads(done.output)
    assert "no lock before" in body["error"]["message"], body
