"""`gpuforge check|lock|schema|rules|catalog`: exit codes, human and JSON output, the lock file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from click.testing import Result
from typer.testing import CliRunner

from gpuforge.check import RULES
from gpuforge.cli import spec_cmds
from gpuforge.desired import DRIFT_CODES
from gpuforge.validate import NODE_RULES


def _payload(stdout: str) -> Any:
    """What a `--json` answer carries: its `result`, or its `error` (with `ok` beside either)."""
    body = json.loads(stdout)
    inner = body["result"] if "result" in body else body["error"]
    return {"ok": body["ok"], **inner} if isinstance(inner, dict) else inner


SPECS = Path(__file__).parents[2] / "fixtures" / "specs"
EXAMPLES = Path(__file__).parents[3] / "examples"
AS_OF = ["--as-of", "2026-11-28"]
FINDING_KEYS = {"code", "severity", "message", "fix", "file", "line", "column", "field", "pool"}
PROBLEM_KEYS = {"file", "line", "column", "field", "message", "fix"}
# Rich wraps tables at 80 columns when output is not a terminal: test on a wide one.
WIDE = {"COLUMNS": "250"}


def _run(*args: str, columns: int = 250) -> Result:
    app = typer.Typer()
    spec_cmds.register(app)
    return CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns)})


def _json(*args: str) -> tuple[int, Any]:
    result = _run(*args, "--json")
    return result.exit_code, _payload(result.stdout)


def _copy(tmp_path: Path, source: Path, name: str = "cluster.yaml") -> Path:
    target = tmp_path / name
    shutil.copyfile(source, target)
    return target


# -- check ----------------------------------------------------------------------------------


def test_check_clean_spec_exits_0(tmp_path: Path) -> None:
    spec = _copy(tmp_path, SPECS / "clean.yaml", "clean.yaml")
    shutil.copyfile(SPECS / "clean.lock", tmp_path / "clean.lock")

    result = _run("check", str(spec), *AS_OF)

    assert result.exit_code == 0, result.output
    assert "check passed: 0 error(s), 0 warning(s)" in result.stdout


def test_check_with_findings_exits_1() -> None:
    result = _run("check", str(EXAMPLES / "broken.yaml"), *AS_OF)

    assert result.exit_code == 1
    assert "GF-GPU-001" in result.stdout
    assert "broken.yaml:19:7 (pools.new.gpu.power_limit_w)" in result.stdout
    assert "To fix: set power_limit_w between 100 and 400" in result.stdout
    assert "check failed: 10 error(s)," in result.stdout


def test_check_json_shape() -> None:
    code, body = _json("check", str(EXAMPLES / "broken.yaml"), *AS_OF)

    assert code == 1
    assert set(body) == {"ok", "findings"}
    assert body["ok"] is False
    assert body["findings"]
    for finding in body["findings"]:
        assert set(finding) == FINDING_KEYS
        assert finding["code"] in RULES
        assert finding["severity"] in ("error", "warning", "info")
    severities = [f["severity"] for f in body["findings"]]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)


def test_check_json_ok_when_only_warnings() -> None:
    code, body = _json("check", str(SPECS / "rules" / "GF-GPU-004" / "fail.yaml"), *AS_OF)

    assert code == 0
    assert body["ok"] is True
    assert {f["code"] for f in body["findings"]} == {"GF-GPU-004", "GF-LOCK-001"}


def test_check_skip_option_is_repeatable() -> None:
    path = str(SPECS / "rules" / "GF-GPU-001" / "fail.yaml")

    code, body = _json("check", path, *AS_OF, "--skip", "GF-GPU-001", "--skip", "GF-LOCK-001")

    assert (code, body) == (0, {"ok": True, "findings": []})


def test_check_honours_the_spec_skip_list(tmp_path: Path) -> None:
    spec = tmp_path / "cluster.yaml"
    text = (SPECS / "rules" / "GF-GPU-001" / "fail.yaml").read_text(encoding="utf-8")
    spec.write_text(text + "checks: {skip: [GF-GPU-001]}\n", encoding="utf-8")

    code, body = _json("check", str(spec), *AS_OF)

    assert code == 0
    assert [f["code"] for f in body["findings"]] == ["GF-LOCK-001"]


def test_check_as_of_changes_the_end_of_life_verdict() -> None:
    path = str(SPECS / "rules" / "GF-STACK-004" / "fail.yaml")

    _, before = _json("check", path, "--as-of", "2026-06-30")
    _, after = _json("check", path, "--as-of", "2026-07-01")

    assert "GF-STACK-004" not in {f["code"] for f in before["findings"]}
    assert "GF-STACK-004" in {f["code"] for f in after["findings"]}


def test_check_invalid_spec_exits_2_with_located_problems(tmp_path: Path) -> None:
    spec = tmp_path / "cluster.yaml"
    spec.write_text(
        "apiVersion: gpuforge/v1\nkind: Cluster\nname: x\ntarget: local\n"
        "pools:\n  t:\n    gpu: H10:8\n    cuont: 2\n",
        encoding="utf-8",
    )

    result = _run("check", str(spec))
    code, body = _json("check", str(spec))

    assert result.exit_code == 2
    assert f"error {spec}:7:5 (pools.t.gpu.model): unknown GPU model 'H10'" in result.stderr
    assert f"error {spec}:8:5 (pools.t.cuont): unknown field `cuont`" in result.stderr
    assert "To fix: did you mean `count`? Rename the field." in result.stderr
    assert "Traceback" not in result.output
    assert code == 2
    assert body["ok"] is False and set(body) == {"ok", "message", "fix", "problems"}
    assert [set(p) for p in body["problems"]] == [PROBLEM_KEYS, PROBLEM_KEYS]
    assert [(p["line"], p["field"]) for p in body["problems"]] == [
        (7, "pools.t.gpu.model"),
        (8, "pools.t.cuont"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "/nonexistent/cluster.yaml"], "no such file"),
        (["check", str(EXAMPLES / "local.yaml"), "--as-of", "28/11/2026"], "is not a date"),
        (["lock", "/nonexistent/cluster.yaml"], "no such file"),
    ],
)
def test_unusable_input_exits_2(args: list[str], message: str) -> None:
    result = _run(*args)

    assert result.exit_code == 2
    assert message in result.stderr
    assert "To fix:" in result.stderr


@pytest.mark.parametrize(
    "text",
    [
        "apiVersion: gpuforge/v1\nkind: [Cluster\n",
        "a:\n\t- b\n",
        "- just\n- a list\n",
        "x: {y: 1, y: 2}\n",
        "\x00\x01binary",
    ],
)
def test_console_script_never_prints_a_traceback(tmp_path: Path, text: str) -> None:
    spec = tmp_path / "cluster.yaml"
    spec.write_text(text, encoding="utf-8")
    script = Path(sys.executable).with_name("gpuforge")

    done = subprocess.run(
        [str(script), "check", str(spec)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **WIDE},
    )

    assert done.returncode == 2
    assert "Traceback" not in done.stdout + done.stderr
    assert f"error {spec}:" in done.stderr


# -- lock -----------------------------------------------------------------------------------


def test_lock_writes_a_deterministic_lock_next_to_the_spec(tmp_path: Path) -> None:
    spec = _copy(tmp_path, EXAMPLES / "local.yaml", "demo.yaml")

    first = _run("lock", str(spec), *AS_OF)
    text = (tmp_path / "demo.lock").read_text(encoding="utf-8")
    second = _run("lock", str(spec), *AS_OF)

    assert first.exit_code == 0 and second.exit_code == 0, first.output
    assert (tmp_path / "demo.lock").read_text(encoding="utf-8") == text
    assert "h100" in first.stdout and "580.95.05" in first.stdout
    assert "reasons:" in text and "driver: newest release of R580" in text
    assert "- nvidia-kernel-open-dkms=580.95.05-1" in text  # the spec's Debian 12 names
    assert "- nvidia-fabricmanager-580=580.95.05-1" in text
    assert "- cuda-toolkit-12-9=12.9.1-1" in text
    assert "- libnccl2=2.30.3-1+cuda12.9" in text
    assert "- libcudnn9-cuda-12=9.17.0.29-1" in text
    assert "- datacenter-gpu-manager=1:3.3.9" in text


def test_lock_json(tmp_path: Path) -> None:
    spec = _copy(tmp_path, SPECS / "clean.yaml", "clean.yaml")

    code, body = _json("lock", str(spec), *AS_OF)

    assert code == 0
    assert body["ok"] is True and body["lock"] == str(tmp_path / "clean.lock")
    assert set(body["pools"]) == {"train", "infer"}
    assert body["pools"]["train"]["cuda"] == "13.0.2"
    assert (tmp_path / "clean.lock").read_text(encoding="utf-8") == (
        SPECS / "clean.lock"
    ).read_text(encoding="utf-8")


def test_check_follows_the_lock(tmp_path: Path) -> None:
    spec = _copy(tmp_path, SPECS / "rules" / "GF-LOCK-001" / "fail.yaml")

    _, without = _json("check", str(spec), *AS_OF)
    assert _run("lock", str(spec), *AS_OF).exit_code == 0
    locked_code, locked = _json("check", str(spec), *AS_OF)
    spec.write_text(
        spec.read_text(encoding="utf-8") + 'software: {cuda: "12.9"}\n', encoding="utf-8"
    )
    stale_code, stale = _json("check", str(spec), *AS_OF)

    assert [f["code"] for f in without["findings"]] == ["GF-LOCK-001"]
    assert (locked_code, locked["findings"]) == (0, [])
    assert stale_code == 1
    assert [f["code"] for f in stale["findings"]] == ["GF-LOCK-002"]


def test_check_refuses_an_unreadable_lock(tmp_path: Path) -> None:
    """A corrupt lock is bad input (exit 2, located), as it is for `up` and `render`."""
    spec = _copy(tmp_path, SPECS / "clean.yaml", "clean.yaml")
    (tmp_path / "clean.lock").write_text("{not: [yaml", encoding="utf-8")

    code, body = _json("check", str(spec), *AS_OF)

    assert code == 2
    assert [(p["file"], p["line"]) for p in body["problems"]] == [(str(tmp_path / "clean.lock"), 1)]
    assert "gpuforge lock" in body["fix"]


def test_lock_without_a_stack_exits_1_with_located_conflicts(tmp_path: Path) -> None:
    spec = _copy(tmp_path, EXAMPLES / "broken.yaml")

    result = _run("lock", str(spec), *AS_OF)
    code, body = _json("lock", str(spec), *AS_OF)

    assert result.exit_code == 1
    assert f"no stack {spec}:12:16 (pools.old.software.cuda): pool old:" in result.stdout
    assert "[GF-STACK-002]" in result.stdout and "[GF-STACK-001]" in result.stdout
    assert not (tmp_path / "cluster.lock").exists()
    assert code == 1 and body["ok"] is False
    assert {p["field"] for p in body["problems"]} == {"pools.old.software.cuda", "software.driver"}
    assert all(set(p) == PROBLEM_KEYS and p["line"] > 0 and p["fix"] for p in body["problems"])


def test_located_lines_never_wrap_on_a_narrow_terminal(tmp_path: Path) -> None:
    spec = _copy(tmp_path, EXAMPLES / "broken.yaml")

    locked = _run("lock", str(spec), *AS_OF, columns=40)
    checked = _run("check", str(spec), *AS_OF, columns=40)

    assert f"no stack {spec}:12:16 (pools.old.software.cuda): pool old:" in locked.stdout
    assert f"GF-GPU-001 {spec}:19:7 (pools.new.gpu.power_limit_w): pool new:" in checked.stdout


# -- schema, rules, catalog ---------------------------------------------------------------


def test_schema_is_json() -> None:
    result = _run("schema")
    schema = json.loads(result.stdout)

    assert result.exit_code == 0
    assert schema["title"] == "gpuforge Cluster spec (gpuforge/v1)"
    assert "pools" in schema["properties"]


def test_rules_lists_every_code() -> None:
    code, body = _json("rules")
    table = _run("rules")

    assert code == 0
    assert [r["code"] for r in body] == list(RULES) + list(NODE_RULES) + list(DRIFT_CODES)
    assert all(set(r) == {"code", "severity", "title"} for r in body)
    assert table.exit_code == 0 and "GF-STACK-013" in table.stdout
    assert "GF-HEALTH-034" in table.stdout
    assert "GF-DRIFT-010" in table.stdout


def test_catalog_gpus() -> None:
    code, body = _json("catalog", "gpus")

    assert code == 0
    h100 = next(g for g in body if g["name"] == "H100")
    assert (h100["compute_capability"], h100["power"]["max"]) == ("9.0", 700.0)
    assert _run("catalog", "gpus").exit_code == 0


def test_catalog_instances_filters() -> None:
    code, body = _json("catalog", "instances", "--cloud", "aws", "--gpu", "h100-sxm")

    assert code == 0
    assert [it["name"] for it in body] == ["p5.48xlarge"]
    assert body[0]["efa"] == 32
    table = _run("catalog", "instances", "--cloud", "gcp", "--gpu", "A100-80GB")
    assert table.exit_code == 0 and "a2-ultragpu-8g" in table.stdout


def test_catalog_stacks() -> None:
    code, body = _json("catalog", "stacks")

    assert code == 0
    assert {"ok", "branches", "drivers", "cuda", "nccl", "cudnn"} == set(body)
    assert {"version": "12.2.2", "min_driver": "535.104.05"} in body["cuda"]
    assert _run("catalog", "stacks").exit_code == 0
