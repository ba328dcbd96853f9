"""Commands on a deployment folder stay inside it: a symlink in it is refused with exit 2, the
path and a fix; a crashed run's secrets are gone as soon as the next command starts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from gpuforge.cli import up_cmds


def _payload(stdout: str) -> Any:
    """What a `--json` answer carries: its `result`, or its `error` (with `ok` beside either)."""
    body = json.loads(stdout)
    inner = body["result"] if "result" in body else body["error"]
    return {"ok": body["ok"], **inner} if isinstance(inner, dict) else inner


REPO = Path(__file__).parents[3]
EXAMPLES = REPO / "examples"
AS_OF = ["--as-of", "2026-11-28"]
WIDE = {"COLUMNS": "250"}
SECRET = "fake-aws-s3cret-77e0"


def _run(*args: str) -> Result:
    app = typer.Typer()
    up_cmds.register(app)
    return CliRunner().invoke(app, list(args), env=WIDE)


def _json(*args: str) -> tuple[int, Any]:
    result = _run(*args, "--json")
    return result.exit_code, _payload(result.stdout)


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    """examples/local.yaml and its lock, copied so that nothing is written next to the originals."""
    shutil.copyfile(EXAMPLES / "local.lock", tmp_path / "local.lock")
    return Path(shutil.copyfile(EXAMPLES / "local.yaml", tmp_path / "local.yaml"))


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside the deployment, holding a Terraform root, that nothing may touch."""
    folder = tmp_path / "outside"
    (folder / "local").mkdir(parents=True)
    (folder / "local" / "main.tf").write_text("# not gpuforge's\n")
    return folder


def test_render_into_a_folder_holding_a_symlink_exits_2(
    spec: Path, tmp_path: Path, outside: Path
) -> None:
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    (deploy / "terraform").symlink_to(outside)

    result = _run("render", str(spec), "-o", str(deploy), *AS_OF)

    assert result.exit_code == 2, result.output
    assert f"{deploy / 'terraform'} is a symlink" in result.stderr
    assert "To fix: remove the symlink" in result.stderr
    assert "Traceback" not in result.output
    assert sorted(p.name for p in outside.rglob("*")) == ["local", "main.tf"]
    assert (outside / "local" / "main.tf").read_text() == "# not gpuforge's\n"


def test_destroy_never_follows_a_symlinked_terraform_folder(
    spec: Path, tmp_path: Path, outside: Path
) -> None:
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    (deploy / "terraform").symlink_to(outside)

    code, payload = _json("destroy", str(spec), "--yes", "--deploy-dir", str(deploy))

    assert code == 2
    assert "symlink" in payload["message"] and str(deploy / "terraform") in payload["message"]
    assert sorted(p.name for p in outside.rglob("*")) == ["local", "main.tf"]


def test_the_next_command_removes_a_crashed_runs_secrets(spec: Path, tmp_path: Path) -> None:
    deploy = tmp_path / "deploy"
    run = deploy / ".ansible" / "runner" / "artifacts" / "20261206T000000000000-site"
    run.mkdir(parents=True)
    (run / "command").write_text(json.dumps({"env": {"AWS_SECRET_ACCESS_KEY": SECRET}}))
    (deploy / ".ansible" / "runner" / "env").mkdir()
    (deploy / ".ansible" / "runner" / "env" / "envvars").write_text(SECRET)

    code, _ = _json("validate", str(spec), "--deploy-dir", str(deploy))

    assert code == 2  # nothing deployed yet
    leftovers = [p for p in deploy.rglob("*") if p.is_file() and SECRET in p.read_text()]
    assert leftovers == []


@pytest.mark.parametrize("link", [".deploy", ".deploy/demo"])
def test_a_symlinked_default_folder_is_refused(
    spec: Path, tmp_path: Path, outside: Path, link: str
) -> None:
    (tmp_path / link).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / link).symlink_to(outside)

    code, payload = _json("render", str(spec), *AS_OF)

    assert code == 2
    assert f"{tmp_path / link} is a symlink" in payload["message"]
    assert "--deploy-dir" in payload["fix"]
    assert sorted(p.name for p in outside.rglob("*")) == ["local", "main.tf"]
