"""`gpuforge inventory DIR` and the dynamic-inventory script over really applied roots."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from ruamel.yaml import YAML
from typer.testing import CliRunner

from gpuforge.cli import provision_cmds
from gpuforge.provision import TerraformBinary
from gpuforge.provision.inventory_script import main as script_main
from gpuforge.provision.inventory_script import write_inventory_script


def _payload(stdout: str) -> Any:
    """What a `--json` answer carries: its `result`, or its `error` (with `ok` beside either)."""
    body = json.loads(stdout)
    inner = body["result"] if "result" in body else body["error"]
    return {"ok": body["ok"], **inner} if isinstance(inner, dict) else inner


FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "tf"
ANSIBLE_INVENTORY = Path(sys.executable).parent / "ansible-inventory"

TARGETS: dict[str, dict[str, Any]] = {
    "aws": {
        "name_prefix": "aws",
        "subnet_prefix": "10.20",
        "pools": {
            "training": {
                "count": 2,
                "gpu_model": "H100",
                "gpu_count": 8,
                "instance_type": "p5.48xlarge",
                "market": "spot",
                "zone": "us-west-2a",
                "generation": 1,
            }
        },
    },
    "onprem": {
        "name_prefix": "lab",
        "subnet_prefix": "192.168",
        "pools": {
            "dgx": {
                "count": 1,
                "gpu_model": "A100-SXM4-80GB",
                "gpu_count": 8,
                "instance_type": "dgx-a100",
                "market": "on-demand",
                "zone": "rack-1",
                "generation": 1,
            }
        },
    },
}


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory,
    any_binary: TerraformBinary,
    offline_engine: Callable[..., Any],
) -> Path:
    """A deployment folder with two applied roots, one per target, as `up` leaves it."""
    folder = tmp_path_factory.mktemp("deploy")
    for target, variables in TARGETS.items():
        root = folder / "terraform" / target
        shutil.copytree(FIXTURES / "nodes", root)
        (root / "terraform.tfvars.json").write_text(json.dumps(variables), encoding="utf-8")
        engine = offline_engine(root, any_binary)
        engine.init()
        engine.plan()
        engine.apply()
    return folder


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """A group callback keeps `inventory` a named subcommand, as in the real app."""

    provision_cmds.register(app)
    return app


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(_app(), ["inventory", *args])


def test_yaml_inventory_combines_every_target(deployment: Path) -> None:
    result = _invoke(str(deployment))
    assert result.exit_code == 0, result.output
    inventory = YAML(typ="safe").load(result.stdout)
    root = inventory["all"]["children"]["gpu_nodes"]
    assert sorted(root["hosts"]) == ["aws-training-0", "aws-training-1", "lab-dgx-0"]
    assert sorted(root["children"]["target_aws"]["hosts"]) == ["aws-training-0", "aws-training-1"]
    assert root["hosts"]["lab-dgx-0"]["ansible_host"] == "192.168.0.10"
    assert "gpu_a100_sxm4_80gb" in root["children"]


def test_list_host_and_json_modes(deployment: Path) -> None:
    listing = json.loads(_invoke(str(deployment), "--list").stdout)
    assert listing["pool_training"]["hosts"] == ["aws-training-0", "aws-training-1"]
    assert listing["_meta"]["hostvars"]["aws-training-1"]["ansible_host"] == "10.20.0.11"
    one = json.loads(_invoke(str(deployment), "--host", "lab-dgx-0").stdout)
    assert one["gpuforge_target"] == "onprem" and one["gpuforge_zone"] == "rack-1"
    body = _payload(_invoke(str(deployment), "--json").stdout)
    assert body["ok"] is True and len(body["nodes"]) == 3


def test_single_root_folder_is_accepted(deployment: Path) -> None:
    listing = json.loads(_invoke(str(deployment / "terraform" / "onprem"), "--list").stdout)
    assert listing["gpu_nodes"]["hosts"] == ["lab-dgx-0"]
    assert "gpuforge_target" not in listing["_meta"]["hostvars"]["lab-dgx-0"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "nope"], "no host named 'nope'"),
        (["--list", "--host", "lab-dgx-0"], "exclude each other"),
    ],
)
def test_usage_errors_exit_2(deployment: Path, args: list[str], message: str) -> None:
    result = _invoke(str(deployment), *args)
    assert result.exit_code == 2
    body = _payload(result.stdout)
    assert body["ok"] is False and message in body["message"] and body["fix"]


def test_folder_without_roots_exits_2(tmp_path: Path) -> None:
    result = _invoke(str(tmp_path))
    assert result.exit_code == 2
    assert "no Terraform root module" in result.output


def test_ansible_reads_the_inventory_script(deployment: Path) -> None:
    if not ANSIBLE_INVENTORY.exists():
        pytest.skip(f"{ANSIBLE_INVENTORY} is not installed")
    script = write_inventory_script(deployment / "ansible" / "inventory.py", deployment)
    done = subprocess.run(
        [str(ANSIBLE_INVENTORY), "-i", str(script), "--list"],
        capture_output=True,
        text=True,
        env={**os.environ, "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    listing = json.loads(done.stdout)
    assert sorted(listing["gpu_nodes"]["children"]) == [
        "gpu_a100_sxm4_80gb",
        "gpu_h100",
        "market_on_demand",
        "market_spot",
        "pool_dgx",
        "pool_training",
        "target_aws",
        "target_onprem",
    ]
    assert listing["_meta"]["hostvars"]["aws-training-0"]["gpuforge_gpu_count"] == 8


def test_ansible_reads_the_golden_yaml() -> None:
    if not ANSIBLE_INVENTORY.exists():
        pytest.skip(f"{ANSIBLE_INVENTORY} is not installed")
    golden = FIXTURES / "outputs" / "inventory.golden.yaml"
    done = subprocess.run(
        [str(ANSIBLE_INVENTORY), "-i", str(golden), "--host", "prod-training-1"],
        capture_output=True,
        text=True,
        env={**os.environ, "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ansible_host"] == "10.20.1.11"


def test_script_main_reports_errors_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert script_main(["--list"], tmp_path) == 2
    assert "To fix:" in capsys.readouterr().err
