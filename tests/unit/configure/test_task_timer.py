"""The collection's task timer callback, through the configure engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gpuforge.configure import EngineSettings, run_playbook

pytestmark = pytest.mark.slow

INVENTORY = Path("hosts.ini")


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
