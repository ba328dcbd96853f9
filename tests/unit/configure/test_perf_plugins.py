"""The collection's engine plugins: mitogen strategies without CPU pinning, the task timer."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gpuforge.configure import EngineSettings, run_playbook

pytestmark = pytest.mark.slow

INVENTORY = Path("hosts.ini")

CPUS_PLAY = """\
- name: Report where task workers may run
  hosts: nodes
  gather_facts: false
  tasks:
    - name: Write the allowed CPUs of the worker process
      ansible.builtin.copy:
        # The pipe lookup runs in the task's worker process: $PPID of its shell is the worker.
        content: "{{ lookup('ansible.builtin.pipe', 'grep Cpus_allowed_list /proc/$PPID/status') }}"
        dest: "{{ out_dir }}/{{ inventory_hostname }}.cpus"
        mode: "0644"
"""


def _cpu_list(text: str) -> set[int]:
    """`Cpus_allowed_list:\\t0-1,3` -> {0, 1, 3}."""
    cpus: set[int] = set()
    for part in text.split(":", 1)[1].strip().split(","):
        first, _, last = part.partition("-")
        cpus.update(range(int(first), int(last or first) + 1))
    return cpus


def test_mitogen_workers_may_use_every_cpu_the_controller_may(deploy: Path, out_dir: Path) -> None:
    allowed = os.sched_getaffinity(0)
    if len(allowed) < 2:
        pytest.skip("pinning cannot be told apart from no pinning with one CPU")
    (deploy / "cpus.yml").write_text(CPUS_PLAY)
    result = run_playbook(deploy, "cpus.yml", INVENTORY, settings=EngineSettings.tuned())
    assert (result.status, result.engine, result.strategy) == (
        "ok",
        "mitogen",
        "gpuforge.gpu.mitogen_linear",
    )
    for host in ("node-a", "node-b"):
        assert _cpu_list((out_dir / f"{host}.cpus").read_text()) == allowed


def test_profile_tasks_writes_each_task_time_per_playbook(deploy: Path) -> None:
    result = run_playbook(
        deploy,
        "play.yml",
        INVENTORY,
        settings=EngineSettings.tuned(profile_tasks=True),
        extra_vars={"fail_hosts": ["node-b"]},
    )
    assert result.status != "ok"
    times = json.loads((deploy / ".ansible" / "task-times-play.json").read_text())
    tasks = {entry["task"]: entry for entry in times["tasks"]}
    assert tasks["Write the marker file"]["ok"] == 2
    assert tasks["Fail where asked"]["failed"] == 1
    assert tasks["Fail where asked"]["skipped"] == 1
    assert "Write the second file" in tasks
    assert all(entry["seconds"] >= 0 for entry in times["tasks"])
    assert times["roles"]["(play)"] == pytest.approx(
        sum(entry["seconds"] for entry in times["tasks"]), abs=0.01
    )
    assert times["total_s"] >= times["roles"]["(play)"]
