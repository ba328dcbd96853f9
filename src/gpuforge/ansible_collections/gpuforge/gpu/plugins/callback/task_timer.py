# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Ansible callback: wall time of every task and role, to find what makes a play slow."""

from __future__ import annotations

DOCUMENTATION = r"""
name: task_timer
type: aggregate
short_description: Wall time per task and per role, printed and optionally written as JSON
description:
  - Measures each task from its start to the start of the next one (the wall time the play
    spends on it across all hosts, as the linear strategies run), counts ok/changed/skipped
    results per task, and sums the time per role.
  - Prints the slowest tasks and every role's total at the end of the playbook and, when
    O(output) is set, writes all of it as JSON for benchmarks.
  - Runs only when enabled, for example with C(ANSIBLE_CALLBACKS_ENABLED=gpuforge.gpu.task_timer).
options:
  output:
    description:
      - JSON file to write the timings to; unset means print only.
      - C({playbook}) in the path is replaced by the playbook's file name without extension.
    type: path
    env:
      - name: GPUFORGE_TASK_TIMER_OUTPUT
    ini:
      - section: callback_task_timer
        key: output
  top:
    description: How many of the slowest tasks to print.
    type: int
    default: 20
    env:
      - name: GPUFORGE_TASK_TIMER_TOP
    ini:
      - section: callback_task_timer
        key: top
author: gpuforge maintainers (@gpuforge)
"""

import json
import os
import time
from typing import Any

from ansible import context
from ansible.plugins.callback import CallbackBase
from ansible.utils.display import Display

display = Display()


class CallbackModule(CallbackBase):
    """Times tasks and roles; see DOCUMENTATION."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "gpuforge.gpu.task_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self._started = time.monotonic()
        self._tasks: list[dict[str, Any]] = []
        self._current: dict[str, Any] | None = None
        self._playbook = "playbook"
        self._playbooks_started = 0

    def _close_current(self) -> None:
        if self._current is not None:
            self._current["seconds"] = round(time.monotonic() - self._current.pop("_t0"), 3)
            self._tasks.append(self._current)
            self._current = None

    def _open(self, task: Any, kind: str) -> None:
        self._close_current()
        # A role's task is named "<role> : <task>"; the bare task name is task.name.
        named, bare = task.get_name(include_role_fqcn=False), task.name or ""
        role = named[: -len(bare) - 3] if bare and named.endswith(f" : {bare}") else ""
        self._current = {
            "task": task.get_name(),
            "role": role,
            "kind": kind,
            "ok": 0,
            "changed": 0,
            "skipped": 0,
            "failed": 0,
            "_t0": time.monotonic(),
        }

    def _count(self, result: Any, key: str) -> None:
        if self._current is None:
            return
        self._current[key] += 1
        if key == "ok" and result.is_changed():
            self._current["changed"] += 1

    def v2_playbook_on_start(self, playbook: Any) -> None:
        """Remember the playbook's name (its file name without extension) for the output path.

        The name is the one given on the command line, in the order the playbooks start: a
        file (`play.yml`) or a collection playbook (`gpuforge.gpu.site`).
        """
        given = list(context.CLIARGS.get("args") or [])
        index, self._playbooks_started = self._playbooks_started, self._playbooks_started + 1
        name = os.path.basename(given[index]) if index < len(given) else self._playbook
        stem, extension = os.path.splitext(name)
        self._playbook = stem if extension in (".yml", ".yaml") else name.rsplit(".", 1)[-1]

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        """A task starts: the previous one has ended for every host."""
        self._open(task, "task")

    def v2_playbook_on_handler_task_start(self, task: Any) -> None:
        """A handler starts: the previous task has ended for every host."""
        self._open(task, "handler")

    def v2_runner_on_ok(self, result: Any) -> None:
        """Count an ok (or changed) result."""
        self._count(result, "ok")

    def v2_runner_on_skipped(self, result: Any) -> None:
        """Count a skipped result."""
        self._count(result, "skipped")

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        """Count a failed result."""
        self._count(result, "failed")

    def v2_runner_on_unreachable(self, result: Any) -> None:
        """Count an unreachable host as failed."""
        self._count(result, "failed")

    def v2_playbook_on_stats(self, stats: Any) -> None:
        """Print the slowest tasks and role totals; write the JSON report when asked."""
        self._close_current()
        total = round(time.monotonic() - self._started, 3)
        roles: dict[str, float] = {}
        for entry in self._tasks:
            name = entry["role"] or "(play)"
            roles[name] = round(roles.get(name, 0.0) + entry["seconds"], 3)
        top = int(self.get_option("top"))
        display.display(f"task_timer: {total:.1f}s in {len(self._tasks)} tasks")
        for name, seconds in sorted(roles.items(), key=lambda item: -item[1]):
            display.display(f"  role {name:<24} {seconds:7.2f}s")
        slowest = sorted(self._tasks, key=lambda entry: -entry["seconds"])[:top]
        for entry in slowest:
            display.display(
                f"  {entry['seconds']:7.2f}s {entry['role'] or '-':<18} {entry['task']}"
                f" (ok={entry['ok']} changed={entry['changed']} skipped={entry['skipped']})"
            )
        output = self.get_option("output")
        if output:
            with open(
                output.replace("{playbook}", self._playbook), "w", encoding="utf-8"
            ) as handle:
                json.dump({"total_s": total, "roles": roles, "tasks": self._tasks}, handle)
