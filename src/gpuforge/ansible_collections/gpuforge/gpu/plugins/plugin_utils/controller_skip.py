# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Skipping a task whose `when` is false without forking a worker process for it.

A strategy forks a worker process for every task and host, and a worker of a task whose
conditions are false does nothing but evaluate them and send back a skip result: on 16 nodes of
a 2-core machine each such task still costs about 0.2 s. `skip_result` evaluates the conditions
in the controller as the worker's TaskExecutor would (the same task variables, the magic
variables of the task's play context, the same message) and `SkipInController` hands its result
to the strategy's result queue as a worker would, so callbacks, `register`, handlers and stats
see no difference.

An include (`include_tasks`, `include_role`) is a task like any other here: its worker, too,
evaluates the conditions first and sends the same skip result. A task goes to a worker as
before when it has a loop or a delegate, is a handler, when its conditions hold, or when
evaluating them fails: the worker then reports that error as it always has.
`GPUFORGE_CONTROLLER_SKIP=off` sends every task to a worker.
"""

from __future__ import annotations

import os
from typing import Any

from ansible.playbook.handler import Handler
from ansible.template import Templar

ENV_VAR = "GPUFORGE_CONTROLLER_SKIP"
_SKIP_REASON = "Conditional result was False"


def enabled() -> bool:
    """Whether skips are decided in the controller (`GPUFORGE_CONTROLLER_SKIP=off` turns it off)."""
    return os.environ.get(ENV_VAR, "on").strip().lower() not in ("off", "0", "false", "no")


def skip_result(task: Any, host: Any, task_vars: dict[str, Any], play_context: Any, loader: Any) -> dict[str, Any] | None:
    """The result a worker would send for `task` on `host` when its conditions are false, else None.

    None means "queue a worker": the task is not a plain one, its conditions hold, or they
    cannot be evaluated here.
    """
    if not task.when or isinstance(task, Handler):
        return None
    if task.loop is not None or task.loop_with or task.delegate_to:
        return None
    variables = task_vars.copy()
    try:
        templar = Templar(loader=loader, variables=task_vars)
        context = play_context.set_task_and_variable_override(task=task, variables=task_vars, templar=templar)
        context.post_validate(templar=templar)
        if not context.remote_addr:
            context.remote_addr = host.address
        context.update_vars(variables)
        passed, false_condition = task.evaluate_conditional_with_result(templar, variables)
    except Exception:  # noqa: BLE001 - the worker evaluates again and reports the error its own way
        return None
    if passed:
        return None
    return {
        "changed": False,
        "skipped": True,
        "skip_reason": _SKIP_REASON,
        "false_condition": false_condition,
        "_ansible_no_log": context.no_log,
    }


class SkipInController:
    """Strategy mixin: a task whose conditions are false is skipped without a worker process."""

    def _queue_task(self, host, task, task_vars, play_context):
        """Send the skip result of a task whose `when` is false; queue a worker for anything else."""
        result = skip_result(task, host, task_vars, play_context, self._loader) if enabled() else None
        if result is None:
            return super()._queue_task(host, task, task_vars, play_context)
        # What StrategyBase._queue_task and WorkerProcess._run do for a worker, minus the fork:
        # results are matched to their task through _queued_task_cache.
        self._queued_task_cache[(host.name, task._uuid)] = {
            "host": host,
            "task": task,
            "task_vars": task_vars,
            "play_context": play_context,
        }
        self._tqm.send_callback("v2_runner_on_start", host, task)
        self._final_q.send_task_result(host.name, task._uuid, result, task_fields=task.dump_attrs())
        self._pending_results += 1
        return None
