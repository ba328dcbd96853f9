"""Real ansible-playbook runs through the engine against this machine (local connection)."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gpuforge.configure import (
    ConfigureEvent,
    EngineSettings,
    EventKind,
    Journal,
    _runner,
    run_playbook,
)
from gpuforge.errors import ConfigureError, InputError

pytestmark = pytest.mark.slow

INVENTORY = Path("hosts.ini")


def test_converge_then_rerun_changes_nothing(deploy: Path, out_dir: Path) -> None:
    events: list[ConfigureEvent] = []
    journal = Journal(deploy / "journal.jsonl")
    first = run_playbook(deploy, "play.yml", INVENTORY, on_event=events.append, journal=journal)
    assert first.status == "ok"
    assert first.engine == "mitogen"
    assert sorted(first.hosts) == ["node-a", "node-b"]
    for stats in first.hosts.values():
        assert (stats.ok, stats.changed, stats.failed, stats.skipped) == (2, 2, 0, 1)
    assert (out_dir / "node-a.txt").read_text() == "hello node-a\n"

    kinds = {(e.kind, e.host, e.task) for e in events}
    assert (EventKind.TASK_START, "", "Write the marker file") in kinds
    assert (EventKind.HOST_START, "node-a", "Write the marker file") in kinds
    assert (EventKind.OK, "node-a", "Write the marker file") in kinds
    assert events[0].kind is EventKind.PLAY_START and events[0].play == "Converge test nodes"
    assert events[-1].kind is EventKind.STATS
    assert any(e.status == "changed" for e in events)

    second = run_playbook(deploy, "play.yml", INVENTORY, journal=journal)
    assert second.status == "ok"
    assert second.changed == 0
    assert journal.completed_steps() == {"playbook:play"}
    done = journal.entries()[-1]
    assert done.data["hosts"]["node-b"]["changed"] == 0


def test_a_failing_host_is_reported_and_the_other_completes(deploy: Path, out_dir: Path) -> None:
    journal = Journal(deploy / "journal.jsonl")
    result = run_playbook(
        deploy,
        "play.yml",
        INVENTORY,
        extra_vars={"fail_hosts": ["node-b"]},
        journal=journal,
    )
    assert result.status == "partial"
    assert result.failed_hosts == ["node-b"]
    assert result.ok_hosts == ["node-a"]
    failure = result.failures["node-b"]
    assert failure.task == "Fail where asked"
    assert "disk on fire" in failure.message
    assert (out_dir / "node-a.second").exists()
    assert not (out_dir / "node-b.second").exists()
    last = journal.last_failure()
    assert last is not None and last.data["result"] == "partial"
    assert last.data["failures"]["node-b"]["task"] == "Fail where asked"
    assert result.to_dict()["hosts"]["node-b"]["status"] == "failed"


def test_check_mode_reports_changes_without_making_them(deploy: Path, out_dir: Path) -> None:
    result = run_playbook(deploy, "play.yml", INVENTORY, check=True, diff=True)
    assert result.check
    assert result.status == "ok"
    assert result.hosts["node-a"].changed == 2
    assert not (out_dir / "node-a.txt").exists()


def test_limit_and_tags_are_honoured(deploy: Path, out_dir: Path) -> None:
    result = run_playbook(deploy, "play.yml", INVENTORY, limit="node-a", tags=["second"])
    assert list(result.hosts) == ["node-a"]
    assert result.hosts["node-a"].changed == 1
    assert (out_dir / "node-a.second").exists()
    assert not (out_dir / "node-a.txt").exists()
    assert not (out_dir / "node-b.second").exists()


def test_plain_ssh_engine_and_forced_fallback_both_run(deploy: Path, tmp_path: Path) -> None:
    plain = run_playbook(deploy, "play.yml", INVENTORY, settings=EngineSettings.tuned(engine="ssh"))
    assert (plain.engine, plain.strategy, plain.status) == ("ssh", "linear", "ok")

    broken = tmp_path / "broken-mitogen"
    broken.mkdir()
    (broken / "mitogen_linear.py").write_text("raise ImportError('incompatible ansible')\n")
    fallback = run_playbook(
        deploy, "play.yml", INVENTORY, settings=EngineSettings.tuned(mitogen_plugins=broken)
    )
    assert (fallback.engine, fallback.strategy, fallback.status) == (
        "ssh",
        "linear",
        "ok",
    )
    assert "incompatible ansible" in fallback.engine_reason
    assert fallback.changed == 0


def test_secrets_in_extra_vars_and_env_stay_out_of_the_folder(
    deploy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GPUFORGE_TEST_TOKEN", "env-s3cret-4711")
    run_playbook(
        deploy,
        "play.yml",
        INVENTORY,
        extra_vars={"api_token": "xv-s3cret-4711"},
        journal=Journal(deploy / "journal.jsonl"),
    )
    for path in deploy.rglob("*"):
        if path.is_file() and not path.is_socket():
            text = path.read_bytes()
            assert b"s3cret-4711" not in text, path


def test_an_unrunnable_playbook_raises_configure_error(deploy: Path) -> None:
    (deploy / "broken.yml").write_text("- hosts: nodes\n  tasks:\n    - no_such_module: {}\n")
    journal = Journal(deploy / "journal.jsonl")
    with pytest.raises(ConfigureError) as err:
        run_playbook(deploy, "broken.yml", INVENTORY, journal=journal)
    assert "no_such_module" in err.value.message
    assert "stdout" in err.value.fix
    last = journal.last_failure()
    assert last is not None and last.step == "playbook:broken"


def test_bad_inputs_raise_input_error(deploy: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        run_playbook(deploy, "play.yml", Path("missing.ini"))
    with pytest.raises(InputError, match="does not exist"):
        run_playbook(deploy, "nope.yml", INVENTORY)
    with pytest.raises(InputError, match="no host"):
        run_playbook(deploy, "play.yml", INVENTORY, limit="node-z")
    with pytest.raises(InputError, match="no playbook named"):
        run_playbook(deploy, "no_such_playbook", INVENTORY)


def test_facts_are_cached_in_the_deployment_folder(deploy: Path) -> None:
    (deploy / "facts.yml").write_text(
        "- name: Use facts\n  hosts: nodes\n  gather_facts: true\n  tasks: []\n"
    )
    first: list[ConfigureEvent] = []
    run_playbook(deploy, "facts.yml", INVENTORY, on_event=first.append)
    assert any(e.task == "Gathering Facts" for e in first)
    assert (deploy / ".ansible" / "facts" / "node-a").is_file()
    second: list[ConfigureEvent] = []
    run_playbook(deploy, "facts.yml", INVENTORY, on_event=second.append)
    assert not any(e.task == "Gathering Facts" for e in second)


def test_collection_playbooks_resolve_by_name(deploy: Path) -> None:
    result = run_playbook(deploy, "site", INVENTORY, tags="gf-matches-no-task", check=True)
    assert result.playbook == "site"
    assert sorted(result.hosts) == ["node-a", "node-b"]
    assert result.status == "ok"


SLOW_PLAY = """\
- name: Slow play
  hosts: node-a
  gather_facts: false
  tasks:
    - name: Sleep a while
      ansible.builtin.command: sleep 30
      changed_when: false
"""


# The sleep writes its pid (atomically, by rename) before it starts: the test waits for that.
SLEEP_WITH_PID_PLAY = """\
- name: Sleep, saying so
  hosts: node-a
  gather_facts: false
  tasks:
    - name: Sleep a while
      ansible.builtin.shell: >-
        echo $$ > {{ pid_file }}.tmp && mv {{ pid_file }}.tmp {{ pid_file }} && exec sleep 30
      changed_when: false
"""


@pytest.fixture
def ctrl_c_raises() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt, as Ctrl-C on a terminal does, whatever this process
    inherited: started with SIGINT ignored (a script's background job, `nohup`), Python installs
    no handler and a SIGINT does nothing at all."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("ctrl_c_raises")
def test_ctrl_c_stops_ansible_and_is_journaled(deploy: Path, tmp_path: Path) -> None:
    """Ctrl-C once the task's command runs: the run stops at once, raising KeyboardInterrupt.

    The interrupt waits for the command itself to run (its pid file) rather than for a fixed
    time after the event that announces the task.
    """
    (deploy / "sleep.yml").write_text(SLEEP_WITH_PID_PLAY)
    pid_file = tmp_path / "sleep.pid"
    journal = Journal(deploy / "journal.jsonl")
    ended = threading.Event()

    def ctrl_c_once_sleeping() -> None:
        while not pid_file.exists():
            if ended.wait(0.05):
                return
        os.kill(os.getpid(), signal.SIGINT)

    pressing = threading.Thread(target=ctrl_c_once_sleeping)
    started = time.monotonic()
    pressing.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_playbook(
                deploy, "sleep.yml", INVENTORY, extra_vars={"pid_file": str(pid_file)},
                journal=journal,
            )  # fmt: skip
    finally:
        ended.set()
        pressing.join()
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
    assert time.monotonic() - started < 20
    last = journal.last_failure()
    assert last is not None and last.status == "interrupted"


def test_a_failing_callback_stops_the_run_and_surfaces(deploy: Path) -> None:
    (deploy / "slow.yml").write_text(SLOW_PLAY)

    def broken_display(event: ConfigureEvent) -> None:
        if event.kind is EventKind.HOST_START:
            raise RuntimeError("display crashed")

    started = time.monotonic()
    with pytest.raises(RuntimeError, match="display crashed"):
        run_playbook(deploy, "slow.yml", INVENTORY, on_event=broken_display)
    assert time.monotonic() - started < 20


def test_known_inventory_hosts_spare_the_inventory_probe(
    deploy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str | None] = []
    real = _runner._inventory_hosts

    def counted(env: Any, inventory: Path, limit: str | None) -> list[str]:
        asked.append(limit)
        return real(env, inventory, limit)

    monkeypatch.setattr(_runner, "_inventory_hosts", counted)
    known = run_playbook(deploy, "play.yml", INVENTORY, inventory_hosts=["node-a", "node-b"])
    assert sorted(known.hosts) == ["node-a", "node-b"] and asked == []
    # A limit is Ansible's to resolve, whatever the caller knows.
    limited = run_playbook(
        deploy, "play.yml", INVENTORY, limit="node-b", inventory_hosts=["node-a", "node-b"]
    )
    assert list(limited.hosts) == ["node-b"] and asked == ["node-b"]
