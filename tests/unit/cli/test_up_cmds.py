"""`gpuforge render|plan|destroy|up|validate` without a fleet: outputs, exit codes, and refusals."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from gpuforge.cli import up_cmds
from gpuforge.render import local_subnet


def _payload(stdout: str) -> Any:
    """What a `--json` answer carries: its `result`, or its `error` (with `ok` beside either)."""
    body = json.loads(stdout)
    inner = body["result"] if "result" in body else body["error"]
    return {"ok": body["ok"], **inner} if isinstance(inner, dict) else inner


REPO = Path(__file__).parents[3]
EXAMPLES = REPO / "examples"
TOOLS = REPO / ".tools"
AS_OF = ["--as-of", "2026-11-28"]
# Rich wraps at 80 columns when output is not a terminal: test on a wide one.
WIDE = {"COLUMNS": "250"}


def _run(*args: str) -> Result:
    app = typer.Typer()
    up_cmds.register(app)
    return CliRunner().invoke(app, list(args), env=WIDE)


def _json(*args: str) -> tuple[int, Any]:
    result = _run(*args, "--json")
    return result.exit_code, _payload(result.stdout)


def _local_example(tmp_path: Path) -> Path:
    """examples/local.yaml and its lock, copied so that nothing is written next to the originals."""
    shutil.copyfile(EXAMPLES / "local.lock", tmp_path / "local.lock")
    return Path(shutil.copyfile(EXAMPLES / "local.yaml", tmp_path / "local.yaml"))


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture
def no_terraform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No tofu/terraform anywhere: an empty PATH, no .tools folder, no GPUFORGE_TERRAFORM."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv("GPUFORGE_TOOLS_DIR", str(tmp_path / "no-tools"))
    monkeypatch.delenv("GPUFORGE_TERRAFORM", raising=False)


@pytest.fixture
def fleet_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fleet state folder of the test's own, which must stay untouched."""
    state = tmp_path / "fleet"
    monkeypatch.setenv("GPUFORGE_FLEET_DIR", str(state))
    return state


# -- render -----------------------------------------------------------------------------------


def test_render_writes_the_deployment_folder(tmp_path: Path) -> None:
    spec = _local_example(tmp_path)
    out = tmp_path / "deploy"
    code, payload = _json("render", str(spec), "-o", str(out), *AS_OF)
    assert code == 0 and payload["ok"] is True
    assert payload["deployment"] == str(out)
    assert payload["roots"] == {"local": "terraform/local"}
    for rel in (
        "terraform/local/main.tf",
        "terraform/local/terraform.tfvars.json",
        "terraform/modules/local-gpu-cluster/main.tf",
        "ansible/inventory/group_vars/pool_a100.yml",
        "ansible/inventory/group_vars/pool_h100.yml",
    ):
        assert rel in payload["files"] and (out / rel).is_file(), rel
    assert (out / "ansible" / "ansible.cfg").is_file()
    tfvars = json.loads((out / "terraform/local/terraform.tfvars.json").read_text())
    assert tfvars["cluster_name"] == "demo"
    assert tfvars["subnet"] == local_subnet("demo")
    assert (tmp_path / "local.lock").read_bytes() == (EXAMPLES / "local.lock").read_bytes()


def test_render_twice_is_byte_identical(tmp_path: Path) -> None:
    spec = _local_example(tmp_path)
    out = tmp_path / "deploy"
    assert _run("render", str(spec), "-o", str(out), *AS_OF).exit_code == 0
    first = _tree(out)
    code, payload = _json("render", str(spec), "-o", str(out), *AS_OF)
    assert code == 0
    assert payload["changed"] == [] and payload["removed"] == []
    assert _tree(out) == first


def test_render_human_output_names_the_folder_and_roots(tmp_path: Path) -> None:
    spec = _local_example(tmp_path)
    out = tmp_path / "deploy"
    result = _run("render", str(spec), "--out", str(out), *AS_OF)
    assert result.exit_code == 0, result.output
    assert f"into {out}" in result.stdout
    assert "local: terraform/local" in result.stdout


def test_render_default_folder_is_next_to_the_spec(tmp_path: Path) -> None:
    spec = _local_example(tmp_path)
    assert _run("render", str(spec), *AS_OF).exit_code == 0
    assert (tmp_path / ".deploy" / "demo" / "terraform" / "local" / "main.tf").is_file()


# -- plan -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("no_terraform")
def test_plan_without_a_binary_shows_the_rendered_diff(tmp_path: Path) -> None:
    spec = _local_example(tmp_path)
    result = _run("plan", str(spec), *AS_OF)
    assert result.exit_code == 0, result.output
    assert "no tofu or terraform on PATH" in result.stdout
    assert "+++ b/terraform/local/main.tf" in result.stdout
    assert 'module "pool_a100"' in result.stdout
    again = _run("plan", str(spec), *AS_OF)
    assert again.exit_code == 0
    assert "no change since the previous render" in again.stdout


@pytest.mark.usefixtures("no_terraform")
def test_plan_json_without_a_binary(tmp_path: Path) -> None:
    spec = _local_example(tmp_path)
    code, payload = _json("plan", str(spec), *AS_OF)
    assert code == 0
    assert payload["ok"] is True and payload["binary"] is False
    assert payload["plans"] == {} and payload["errors"] == {}
    assert "+++ b/ansible/inventory/group_vars/pool_h100.yml" in payload["diff"]


@pytest.fixture
def tools_terraform(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The Terraform and null-provider mirror scripts/setup-terraform.sh puts in .tools/."""
    binary = TOOLS / "bin" / "terraform"
    if not (os.access(binary, os.X_OK) and (TOOLS / "terraform-plugins").is_dir()):
        pytest.skip("no .tools Terraform (run scripts/setup-terraform.sh)")
    monkeypatch.setenv("GPUFORGE_TERRAFORM", str(binary))
    monkeypatch.setenv("GPUFORGE_TOOLS_DIR", str(TOOLS))
    return binary


@pytest.mark.usefixtures("tools_terraform")
def test_plan_with_terraform_lists_the_node_creates(tmp_path: Path, fleet_dir: Path) -> None:
    spec = _local_example(tmp_path)
    code, payload = _json("plan", str(spec), *AS_OF)
    assert code == 0, payload
    assert payload["ok"] is True and payload["binary"] is True and payload["errors"] == {}
    plan = payload["plans"]["local"]
    assert plan["by_type"] == {
        "null_resource": {
            "create": 4,
            "delete": 0,
            "no-op": 0,
            "read": 0,
            "replace": 0,
            "update": 0,
        }
    }
    assert sorted(c["address"] for c in plan["changes"]) == [
        f'module.pool_{pool}.null_resource.node["{pool}-{i}"]'
        for pool in ("a100", "h100")
        for i in (0, 1)
    ]
    # Before the cluster exists: four nodes to create, each in-place (nothing existing moves).
    changes = payload["changes"]
    assert payload["live"] is False and payload["drift"] is None
    assert changes["counts"] == {"in-place": 4, "rolling": 0, "replace": 0, "unsupported": 0}
    assert {c["source"] for c in changes["changes"]} == {"terraform"}
    assert {n["node"] for n in changes["nodes"]} == {"a100-0", "a100-1", "h100-0", "h100-1"}
    # A plan starts nothing: the nodes are created by apply only.
    assert not fleet_dir.exists()
    state = tmp_path / ".deploy" / "demo" / "terraform" / "local" / "terraform.tfstate"
    assert not state.exists()


@pytest.mark.usefixtures("tools_terraform", "fleet_dir")
def test_plan_with_terraform_prints_the_plan_table(tmp_path: Path) -> None:
    spec = _local_example(tmp_path)
    result = _run("plan", str(spec), *AS_OF)
    assert result.exit_code == 0, result.output
    assert "Terraform plan" in result.stdout
    row = next(line for line in result.stdout.splitlines() if "null_resource" in line)
    cells = [cell.strip() for cell in row.split("│")[1:-1]]
    assert cells == ["local", "null_resource", "4", "0", "0", "0"]


# -- destroy ----------------------------------------------------------------------------------


def test_destroy_without_yes_and_no_terminal_exits_2(tmp_path: Path, fleet_dir: Path) -> None:
    """Rendered but never applied: the (empty) node table is shown, then no terminal: exit 2."""
    spec = _local_example(tmp_path)
    assert _run("render", str(spec)).exit_code == 0
    result = _run("destroy", str(spec))
    assert result.exit_code == 2
    assert "destroy demo: 0 node(s)" in result.stdout
    assert "destroy needs confirmation and no terminal is attached" in result.stderr
    assert "To fix: pass --yes" in result.stderr
    assert "Traceback" not in result.output
    assert not fleet_dir.exists()


def test_destroy_without_yes_json(tmp_path: Path) -> None:
    spec = _local_example(tmp_path)
    assert _run("render", str(spec)).exit_code == 0
    code, payload = _json("destroy", str(spec))
    assert code == 2
    assert payload == {
        "ok": False,
        "message": "destroy needs confirmation and no terminal is attached",
        "fix": "pass --yes",
    }


def test_destroy_with_nothing_deployed_exits_2(tmp_path: Path) -> None:
    spec = _local_example(tmp_path)
    code, payload = _json("destroy", str(spec), "--yes")
    assert code == 2
    assert payload["message"].startswith("nothing to destroy")
    assert "gpuforge up" in payload["fix"]


# -- up ---------------------------------------------------------------------------------------

_MALFORMED = """\
apiVersion: gpuforge/v1
kind: Cluster
name: bad
target: local
pools:
  h100:
    count: two
    gpu: H100:8
"""


def test_up_on_a_malformed_spec_exits_2_with_file_and_line(tmp_path: Path, fleet_dir: Path) -> None:
    spec = tmp_path / "cluster.yaml"
    spec.write_text(_MALFORMED, encoding="utf-8")
    result = _run("up", str(spec))
    assert result.exit_code == 2
    assert f"{spec}:7:5 (pools.h100.count)" in result.stderr
    assert "To fix: write a whole number for `count`" in result.stderr
    assert "Traceback" not in result.output
    code, payload = _json("up", str(spec))
    assert code == 2
    assert [(p["line"], p["field"]) for p in payload["problems"]] == [(7, "pools.h100.count")]
    assert not (tmp_path / ".deploy").exists() and not fleet_dir.exists()


def test_up_on_a_missing_spec_exits_2(tmp_path: Path) -> None:
    code, payload = _json("up", str(tmp_path / "absent.yaml"))
    assert code == 2
    assert payload["ok"] is False and payload["fix"]


def test_up_on_the_broken_example_exits_1_and_creates_nothing(
    tmp_path: Path, fleet_dir: Path
) -> None:
    spec = Path(shutil.copyfile(EXAMPLES / "broken.yaml", tmp_path / "broken.yaml"))
    code, payload = _json("up", str(spec), *AS_OF)
    assert code == 1
    assert payload["ok"] is False
    codes = {p["message"].split(":")[0] for p in payload["problems"]}
    assert {"GF-NET-002", "GF-STACK-002", "GF-GPU-001", "GF-MIG-001", "GF-SEC-001"} <= codes
    efa = next(p for p in payload["problems"] if p["message"].startswith("GF-NET-002"))
    assert (efa["line"], efa["field"]) == (11, "pools.old.network.efa")
    deployment = tmp_path / ".deploy" / "broken-demo"
    assert not (deployment / "terraform").exists()
    assert not (tmp_path / "broken.lock").exists()
    assert not fleet_dir.exists()
    journal = [json.loads(line) for line in (deployment / "journal.jsonl").read_text().splitlines()]
    assert [(e["step"], e["status"]) for e in journal[-2:]] == [
        ("up:check", "started"),
        ("up:check", "failed"),
    ]


def test_up_on_the_broken_example_human_output(tmp_path: Path, fleet_dir: Path) -> None:
    spec = Path(shutil.copyfile(EXAMPLES / "broken.yaml", tmp_path / "broken.yaml"))
    result = _run("up", str(spec), *AS_OF)
    assert result.exit_code == 1
    assert f"{spec}:11:15 (pools.old.network.efa): GF-NET-002" in result.stderr
    assert "To fix:" in result.stderr
    assert "Traceback" not in result.output
    assert not fleet_dir.exists()


def test_up_rejects_an_unknown_engine(tmp_path: Path) -> None:
    spec = _local_example(tmp_path)
    code, payload = _json("up", str(spec), "--engine", "telnet")
    assert code == 2
    assert "telnet" in payload["message"] and "mitogen" in payload["fix"]


def test_validate_before_up_exits_2(tmp_path: Path) -> None:
    spec = _local_example(tmp_path)
    code, payload = _json("validate", str(spec))
    assert code == 2
    assert payload["message"].startswith("no inventory at")
    assert "gpuforge up" in payload["fix"]
