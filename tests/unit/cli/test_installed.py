"""Every command through the installed `gpuforge` (the console script in the virtualenv, in a
process of its own): its `--help` reads cleanly and one real call works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from typer.main import get_command

from gpuforge.cli import build_app
from gpuforge.cli._schemas import command_schema, schema_commands
from gpuforge.fleet import fault_names

GPUFORGE = Path(sys.executable).parent / "gpuforge"
REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "local.yaml"
LAUNCHER = REPO / "scripts" / "setup-launcher.sh"


def _paths(group: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every visible command path of the app, groups included."""
    found: list[tuple[str, ...]] = []
    for name, command in sorted(getattr(group, "commands", {}).items()):
        if command.hidden:
            continue
        found.append((*prefix, name))
        found.extend(_paths(command, (*prefix, name)))
    return found


COMMANDS = _paths(get_command(build_app()))


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(GPUFORGE), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_help_of_every_command_reads_cleanly(path: tuple[str, ...]) -> None:
    done = _run(*path, "-h")
    assert done.returncode == 0, done.stderr
    usage = next(line for line in done.stdout.splitlines() if "Usage:" in line)
    assert f"gpuforge {' '.join(path)}" in usage
    assert "<bool>" not in done.stdout and "{" not in usage, done.stdout
    assert "\x1b[" not in done.stdout  # no colour when the output is not a terminal


def test_internal_commands_are_hidden_but_work() -> None:
    assert ("fleet", "node-up") not in COMMANDS and ("fleet", "node-down") not in COMMANDS
    assert "node-up" not in _run("fleet", "--help").stdout
    assert _run("fleet", "node-down", "-h").returncode == 0


def test_inject_help_names_every_fault() -> None:
    text = " ".join(_run("fleet", "inject", "--help").stdout.split())
    missing = [fault for fault in fault_names() if fault not in text]
    assert not missing


def test_version_plain_and_json() -> None:
    assert _run("--version").stdout.startswith("gpuforge ")
    body = json.loads(_run("--version", "--json").stdout)
    assert body["command"] == "version" and body["ok"] is True
    assert body["result"]["version"] == _run("--version").stdout.split()[1]


def test_completion_is_offered() -> None:
    done = _run("--show-completion", "bash", env={"SHELL": "/bin/bash"})
    assert done.returncode == 0 and "_GPUFORGE_COMPLETE" in done.stdout


def test_no_color_wins_even_on_a_forced_terminal() -> None:
    done = _run("rules", env={"NO_COLOR": "1", "FORCE_COLOR": "", "TTY_COMPATIBLE": "1"})
    assert done.returncode == 0 and "\x1b[3" not in done.stdout


# One real call per command: offline ones succeed; those that need a fleet or a deployment are
# given one that does not exist and must say so cleanly (exit 2 with a fix), not fail to parse.
def _real_calls(tmp: Path) -> dict[tuple[str, ...], tuple[list[str], int]]:
    spec = str(EXAMPLE)
    state = str(tmp / "fleet")
    missing = str(tmp / "missing.yaml")
    return {
        ("check",): (["check", spec], 0),
        ("lock",): (["lock", str(tmp / "copy.yaml")], 0),
        ("schema",): (["schema"], 0),
        ("rules",): (["rules"], 0),
        ("up",): (["up", missing], 2),
        ("validate",): (["validate", missing], 2),
        ("destroy",): (["destroy", missing, "--yes"], 2),
        ("render",): (["render", spec, "-o", str(tmp / "deploy")], 0),
        ("plan",): (["plan", missing], 2),
        ("scale",): (["scale", missing], 2),
        ("inventory",): (["inventory", str(tmp / "nothing")], 2),
        ("catalog",): (["catalog", "gpus"], 0),
        ("catalog", "gpus"): (["catalog", "gpus"], 0),
        ("catalog", "instances"): (["catalog", "instances", "--cloud", "aws"], 0),
        ("catalog", "stacks"): (["catalog", "stacks"], 0),
        ("catalog", "prices"): (["catalog", "prices", "--gpu", "H100"], 0),
        ("fleet",): (["fleet", "status", "--state-dir", state], 0),
        ("fleet", "up"): (["fleet", "up", "--profile", "nope", "--state-dir", state], 2),
        ("fleet", "down"): (["fleet", "down", "--cluster", "none", "--state-dir", state], 0),
        ("fleet", "status"): (["fleet", "status", "--state-dir", state], 0),
        ("fleet", "ssh"): (["fleet", "ssh", "ghost", "--state-dir", state], 2),
        ("fleet", "inject"): (["fleet", "inject", "ghost", "xid", "--state-dir", state], 2),
        ("fleet", "heal"): (["fleet", "heal", "ghost", "--state-dir", state], 2),
        ("cost",): (["cost", spec], 0),
        ("cost", "report"): (["cost", "report", spec], 0),
        ("cost", "optimize"): (["cost", "optimize", missing], 2),
        ("cost", "rightsize"): (["cost", "rightsize", spec, "--metrics", missing], 2),
        ("drift",): (["drift", missing], 2),
        ("backup",): (["backup", str(tmp / "copy.yaml"), "-o", str(tmp / "none.tar.gz")], 2),
        ("restore",): (["restore", missing, str(tmp / "none.tar.gz")], 2),
        ("upgrade",): (["upgrade", missing], 2),
        ("rollback",): (["rollback", missing], 2),
    }


def test_every_command_has_a_real_call() -> None:
    assert set(COMMANDS) <= set(_real_calls(Path("/nonexistent")))


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_one_real_call_of_every_command(path: tuple[str, ...], tmp_path: Path) -> None:
    (tmp_path / "copy.yaml").write_text(EXAMPLE.read_text())
    argv, expected = _real_calls(tmp_path)[path]
    done = _run(*argv)
    assert done.returncode == expected, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "unexpected extra argument" not in done.stderr
    if expected == 2:
        assert "To fix:" in done.stderr, done.stderr


def test_launcher_puts_gpuforge_on_path_and_never_overwrites_a_foreign_file(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "GPUFORGE_BIN_DIR": str(tmp_path)}
    run = subprocess.run(["bash", str(LAUNCHER)], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    on_path = subprocess.run(
        ["gpuforge", "--version"],
        env={**env, "PATH": f"{tmp_path}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert on_path.stdout.startswith("gpuforge "), on_path.stderr
    foreign = tmp_path / "gpuforge"
    foreign.write_text("#!/bin/sh\necho someone else's\n")
    again = subprocess.run(["bash", str(LAUNCHER)], env=env, capture_output=True, text=True)
    assert again.returncode == 1 and "not written by gpuforge" in again.stderr
    assert foreign.read_text() == "#!/bin/sh\necho someone else's\n"


# Commands without --json: `fleet ssh` hands the terminal to ssh.
_NO_JSON = {("fleet", "ssh")}


@pytest.mark.parametrize("path", [p for p in COMMANDS if p not in _NO_JSON], ids=" ".join)
def test_json_of_every_command_matches_its_published_schema(
    path: tuple[str, ...], tmp_path: Path
) -> None:
    (tmp_path / "copy.yaml").write_text(EXAMPLE.read_text())
    argv, expected = _real_calls(tmp_path)[path]
    done = _run(*argv, "--json")
    assert done.returncode == expected, done.stdout[-2000:] + done.stderr[-2000:]
    body = json.loads(done.stdout)
    command = " ".join(argv[: len(path)]) if path != ("cost",) else "cost report"
    if path in {("catalog",), ("fleet",)}:
        command = " ".join(argv[:2])
    assert body["command"] == command and body["exit_code"] == expected
    jsonschema.validate(body, command_schema(command))


def test_every_schema_belongs_to_a_command() -> None:
    commands = {" ".join(p) for p in get_command_paths_with_hidden()}
    assert set(schema_commands()) - {"version", "cost report"} <= commands


def get_command_paths_with_hidden() -> list[tuple[str, ...]]:
    """Every command path, hidden ones included."""

    def walk(group: object, prefix: tuple[str, ...]) -> list[tuple[str, ...]]:
        found: list[tuple[str, ...]] = []
        for name, command in getattr(group, "commands", {}).items():
            found.append((*prefix, name))
            found.extend(walk(command, (*prefix, name)))
        return found

    return walk(get_command(build_app()), ())


def test_a_failure_matches_the_schema_too(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: gpuforge/v1\nkind: Cluster\nname: [\n")
    done = _run("check", str(broken), "--json")
    body = json.loads(done.stdout)
    assert done.returncode == 2 and body["ok"] is False and body["error"]["fix"]
    jsonschema.validate(body, command_schema("check"))
    findings = _run("check", str(REPO / "examples" / "broken.yaml"), "--json")
    assert findings.returncode == 1
    jsonschema.validate(json.loads(findings.stdout), command_schema("check"))
