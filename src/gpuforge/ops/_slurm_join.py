"""A Slurm cluster's nodes came or went: every node's slurm.conf lists the nodes it has now.

Slurm 22.05 reads its NodeName lines only when slurmctld and each slurmd start, so the join runs
the slurm role, and no other, on every node of the inventory (which already holds exactly the
cluster's nodes): it rewrites slurm.conf, and the role's handlers restart slurmctld and every
slurmd whose file changed. Then it waits until slurmctld hears from each new node.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from gpuforge.ops._converge import inventory_pools, run_roles
from gpuforge.ops._drain import DrainError
from gpuforge.ops._scale import SchedulerJoinError, register_scheduler_join
from gpuforge.ops._slurm_drain import SlurmDrainer, slurm_drainer

if TYPE_CHECKING:
    from gpuforge.ops._up import Pipeline

__all__ = ["join_slurm", "wait_responding"]

# How long restarted daemons get until a new node answers slurmctld.
JOIN_TIMEOUT_S = 120.0
# sinfo's long states of a node slurmctld knows but cannot use.
_UNUSABLE = frozenset(("unknown", "down", "inval", "fail", "future"))


def join_slurm(pipeline: Pipeline, added: Sequence[str]) -> None:
    """Write slurm.conf for the inventory's nodes on all of them (restarting the daemons whose
    file changed), then wait until Slurm hears from every node of `added`."""
    deployment = pipeline.deployment
    nodes = sorted(inventory_pools(deployment.inventory))
    pipeline.reporter.step_started("slurm", f"{len(nodes)} node(s)")
    outcome = run_roles(
        deployment.root,
        deployment.inventory,
        {node: ["slurm"] for node in nodes},
        settings=pipeline._settings(),
        on_event=pipeline.reporter.ansible_event,
        journal=pipeline.journal,
    )
    if outcome.failed_hosts:
        raise SchedulerJoinError(
            f"the slurm role failed on {', '.join(outcome.failed_hosts)}, so Slurm may not "
            "list the cluster's nodes as they are now",
            "fix those nodes (see the output above), then run `gpuforge up`",
        )
    wait_responding(slurm_drainer(pipeline.spec, deployment), added, JOIN_TIMEOUT_S)
    pipeline.journal.record("slurm:join", "done", nodes=nodes, added=list(added))
    pipeline.reporter.step_finished("slurm", "done", f"{len(added)} node(s) joined")


def wait_responding(drainer: SlurmDrainer, nodes: Sequence[str], timeout_s: float) -> None:
    """Return once slurmctld answers and hears from every node of `nodes` (no `*` flag, a usable
    state); SchedulerJoinError naming each node's last state after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while nodes:
        try:
            seen = drainer.states(nodes)
            waiting = {node: state for node, state in seen.items() if not _responding(state)}
        except DrainError as error:  # slurmctld restarting, or the node not yet read
            waiting = {node: error.message for node in nodes}
        if not waiting:
            return
        if time.monotonic() >= deadline:
            states = "; ".join(f"{node}: {state}" for node, state in sorted(waiting.items()))
            raise SchedulerJoinError(
                f"Slurm does not use the new node(s) after {timeout_s:g} s ({states})",
                "check slurmd on those nodes (/var/log/slurm/slurmd.log) and slurmctld's log, "
                "then run `gpuforge up`",
            )
        time.sleep(min(drainer.poll_s, max(0.0, deadline - time.monotonic())))


def _responding(state: str) -> bool:
    base = state.rstrip("*~#!%$@^-").split("+")[0]
    return not state.endswith("*") and base not in _UNUSABLE


register_scheduler_join("slurm", join_slurm)
