"""The environment of a run (cloud credentials included) never stays in the deployment folder:
not after a normal run, not after a crash or `kill -9`, not from an earlier crashed run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gpuforge.configure import ConfigureEvent, run_playbook, scrub_runner_secrets
from gpuforge.errors import InputError

pytestmark = pytest.mark.slow

INVENTORY = Path("hosts.ini")
SECRET = "fake-aws-s3cret-8d41c"
SLOW_PLAY = """\
- name: Slow play
  hosts: node-a
  gather_facts: false
  tasks:
    - name: Sleep a while
      ansible.builtin.command: sleep 30
      changed_when: false
"""
RUN = """\
import sys
from pathlib import Path
from gpuforge.configure import run_playbook
run_playbook(Path(sys.argv[1]), "slow.yml", Path("hosts.ini"))
"""


def _holding_secret(folder: Path) -> list[Path]:
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file() and not path.is_socket() and SECRET.encode() in path.read_bytes()
    )


def _wait_for(condition: object, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _task_started(deploy: Path) -> bool:
    outputs = deploy.glob(".ansible/runner/artifacts/*/stdout")
    return any("TASK [Sleep a while]" in path.read_text(errors="replace") for path in outputs)


def _plant_crash_leftovers(deploy: Path) -> None:
    """What a run killed by an older gpuforge, or before its first event, leaves behind."""
    run = deploy / ".ansible" / "runner" / "artifacts" / "20261206T000000000000-site"
    run.mkdir(parents=True)
    (run / "command").write_text(json.dumps({"env": {"AWS_SECRET_ACCESS_KEY": SECRET}}))
    (run / "stdout").write_text("PLAY [site]\n")
    env = deploy / ".ansible" / "runner" / "env"
    env.mkdir(parents=True, exist_ok=True)
    (env / "envvars").write_text(json.dumps({"AWS_SECRET_ACCESS_KEY": SECRET}))


def test_a_run_killed_mid_play_leaves_no_credentials(deploy: Path) -> None:
    (deploy / "slow.yml").write_text(SLOW_PLAY)
    env = {**os.environ, "AWS_SECRET_ACCESS_KEY": SECRET}
    proc = subprocess.Popen([sys.executable, "-c", RUN, str(deploy)], env=env)
    try:
        _wait_for(lambda: _task_started(deploy) or proc.poll() is not None, "the task to start")
        assert proc.poll() is None, "the run ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()

    assert _holding_secret(deploy) == []


def test_a_crashed_runs_leftovers_are_gone_before_the_next_run_starts(deploy: Path) -> None:
    _plant_crash_leftovers(deploy)
    seen_at_start: list[list[Path]] = []

    def first_event(event: ConfigureEvent) -> None:
        del event
        if not seen_at_start:
            seen_at_start.append(_holding_secret(deploy))

    result = run_playbook(deploy, "play.yml", INVENTORY, on_event=first_event)

    assert result.status == "ok"
    assert seen_at_start == [[]]
    assert _holding_secret(deploy) == []
    assert (deploy / ".ansible/runner/artifacts/20261206T000000000000-site/stdout").exists()


def test_a_run_that_crashes_leaves_no_credentials(
    deploy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    (deploy / "slow.yml").write_text(SLOW_PLAY)

    def broken_display(event: ConfigureEvent) -> None:
        del event
        raise RuntimeError("display crashed")

    with pytest.raises(RuntimeError, match="display crashed"):
        run_playbook(deploy, "slow.yml", INVENTORY, on_event=broken_display)

    assert _holding_secret(deploy) == []


def test_the_runner_folders_are_owner_only(deploy: Path) -> None:
    run_playbook(deploy, "play.yml", INVENTORY)

    for folder in (".ansible", ".ansible/runner", ".ansible/runner/artifacts"):
        assert (deploy / folder).stat().st_mode & 0o777 == 0o700, folder
    for run in (deploy / ".ansible/runner/artifacts").iterdir():
        assert run.stat().st_mode & 0o077 == 0, run


def test_scrubbing_refuses_a_symlinked_runner_folder(deploy: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "env").mkdir(parents=True)
    (outside / "env" / "envvars").write_text("{}")
    (deploy / ".ansible").mkdir()
    (deploy / ".ansible" / "runner").symlink_to(outside)

    with pytest.raises(InputError, match="symlink"):
        scrub_runner_secrets(deploy)

    assert (outside / "env" / "envvars").exists()
