"""One run per deployment: a live run's lock refuses a second, a dead run's lock is taken over."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from gpuforge.cli import up_cmds
from gpuforge.errors import InputError
from gpuforge.ops import RUN_LOCK_FILE, DeploymentBusyError, run_lock

# A run holding the lock, as `up` does; it starts a long-lived child first (as `up` starts
# Terraform and Ansible), prints `held <child pid>` and waits for a line on stdin.
HOLDER = """
import subprocess, sys
from pathlib import Path
from gpuforge.ops import run_lock
with run_lock(Path(sys.argv[1]), "gpuforge up"):
    child = subprocess.Popen(["/bin/sleep", "300"], start_new_session=True)
    print("held", child.pid, flush=True)
    sys.stdin.readline()
"""


@contextmanager
def _holder(folder: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """Another process holding `folder`'s lock; yields it and its child's pid once it holds it."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    child = 0
    try:
        assert proc.stdout is not None
        word, pid = proc.stdout.readline().split()
        assert word == "held"
        child = int(pid)
        yield proc, child
    finally:
        proc.kill()
        proc.wait()
        if child:
            os.kill(child, signal.SIGKILL)


def test_a_live_run_refuses_a_second_naming_who_holds_it_since_when(tmp_path: Path) -> None:
    with (
        _holder(tmp_path) as (proc, _),
        pytest.raises(DeploymentBusyError) as caught,
        run_lock(tmp_path, "gpuforge up"),
    ):
        raise AssertionError("a second run got the lock")
    error = caught.value
    assert error.exit_code == 2
    assert f"`gpuforge up` (pid {proc.pid}," in error.message
    assert " since " in error.message and str(tmp_path) in error.message
    assert "kill" in error.fix and "wait" in error.fix


def test_a_run_that_ends_frees_the_lock_without_a_notice(tmp_path: Path) -> None:
    with _holder(tmp_path) as (proc, _):
        assert proc.stdin is not None
        proc.stdin.write("done\n")
        proc.stdin.flush()
        assert proc.wait() == 0
    notices: list[str] = []
    with run_lock(tmp_path, "gpuforge destroy", notices.append) as me:
        record = json.loads((tmp_path / RUN_LOCK_FILE).read_text())
        assert record["pid"] == os.getpid() == me.pid
        assert record["command"] == "gpuforge destroy"
    assert notices == []
    assert not (tmp_path / RUN_LOCK_FILE).exists()


def test_a_killed_runs_lock_is_taken_over_with_a_notice(tmp_path: Path) -> None:
    """The lock dies with its process, even while that process's children live on."""
    notices: list[str] = []
    with _holder(tmp_path) as (proc, child):
        proc.kill()
        proc.wait()
        os.kill(child, 0)  # the holder's child still runs
        with run_lock(tmp_path, "gpuforge up", notices.append):
            pass
    assert len(notices) == 1
    assert f"(pid {proc.pid}," in notices[0] and "gone" in notices[0]


def test_an_unreadable_record_under_a_free_lock_is_taken_over(tmp_path: Path) -> None:
    (tmp_path / RUN_LOCK_FILE).write_bytes(b"\x00garbage{")
    notices: list[str] = []
    with run_lock(tmp_path, "gpuforge up", notices.append):
        pass
    assert notices and "unreadable" in notices[0]


def test_a_lock_path_that_is_not_a_file_exits_2(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / RUN_LOCK_FILE)
    with pytest.raises(InputError) as caught, run_lock(tmp_path, "gpuforge up"):
        raise AssertionError("locked a FIFO")
    assert "not a regular file" in caught.value.message
    assert caught.value.exit_code == 2


# -- the commands -----------------------------------------------------------------------------

EXAMPLES = Path(__file__).parents[3] / "examples"


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    "command",
    [["up"], ["destroy", "--yes"], ["validate"], ["render"], ["plan"]],
    ids=lambda words: words[0],
)
def test_a_second_command_on_a_busy_deployment_exits_2_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    # Should the lock not hold, the command still starts nothing: no Terraform to be found.
    (tmp_path / "empty-bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.setenv("GPUFORGE_TOOLS_DIR", str(tmp_path / "no-tools"))
    monkeypatch.delenv("GPUFORGE_TERRAFORM", raising=False)
    monkeypatch.setenv("GPUFORGE_FLEET_DIR", str(tmp_path / "fleet"))
    for name in ("local.yaml", "local.lock"):
        shutil.copyfile(EXAMPLES / name, tmp_path / name)
    spec = tmp_path / "local.yaml"
    deployment = tmp_path / ".deploy" / "demo"
    (deployment / "terraform").mkdir(parents=True)
    (deployment / "ansible" / "inventory").mkdir(parents=True)
    (deployment / "ansible" / "inventory" / "hosts.yml").write_text("all: {}\n")
    app = typer.Typer()
    up_cmds.register(app)
    with _holder(deployment) as (proc, _):
        before = _tree(tmp_path)
        result = CliRunner().invoke(app, [*command, str(spec), "--json"])
        assert _tree(tmp_path) == before
    assert result.exit_code == 2, result.output
    body = json.loads(result.stdout)["error"]
    assert f"`gpuforge up` (pid {proc.pid}," in body["message"]
    assert body["fix"]
    assert not (tmp_path / "fleet").exists()
