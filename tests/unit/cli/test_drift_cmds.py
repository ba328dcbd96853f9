"""`gpuforge drift` without a fleet: bad input exits 2 with a fix, in text and JSON."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner, Result

from gpuforge.cli import build_app

EXAMPLES = Path(__file__).parents[3] / "examples"


def _run(*args: str) -> Result:
    return CliRunner().invoke(build_app(), list(args), env={"COLUMNS": "250"})


def _spec(tmp_path: Path) -> Path:
    shutil.copyfile(EXAMPLES / "local.lock", tmp_path / "local.lock")
    return Path(shutil.copyfile(EXAMPLES / "local.yaml", tmp_path / "local.yaml"))


def test_drift_before_up_names_the_missing_inventory(tmp_path: Path) -> None:
    """No deployment yet: exit 2, the inventory named and `gpuforge up` as the fix."""
    result = _run("drift", str(_spec(tmp_path)), "--json")
    assert result.exit_code == 2
    payload = json.loads(result.stdout)
    assert "no inventory" in json.dumps(payload) and "gpuforge up" in json.dumps(payload)


def test_drift_limit_to_an_unknown_node(tmp_path: Path) -> None:
    """--limit naming a node the inventory does not list: exit 2 with the known names."""
    spec = _spec(tmp_path)
    inventory = tmp_path / ".deploy" / "demo" / "ansible" / "inventory" / "hosts.yml"
    inventory.parent.mkdir(parents=True)
    inventory.write_text(
        "all:\n  children:\n    gpu_nodes:\n      hosts:\n        h100-0: {gpuforge_pool: h100}\n",
        encoding="utf-8",
    )
    result = _run("drift", str(spec), "--limit", "h100-9")
    assert result.exit_code == 2
    assert "h100-9" in result.output and "h100-0" in result.output
