"""A Slurm cluster's nodes came or went: every node's slurm.conf lists the nodes it has now.

Slurm 22.05 reads its NodeName lines only when slurmctld and each slurmd start, so the join
has `scale` and `up` run the slurm role on every node (with the firewall's role, in one run):
it rewrites slurm.conf, and the role's handlers restart slurmctld and every slurmd whose file
changed. Then it waits until slurmctld hears from every node again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from gpuforge.ops._drain import DrainError
from gpuforge.ops._scale import SchedulerJoin, SchedulerJoinError, register_scheduler_join
from gpuforge.ops._slurm_drain import SlurmDrainer, slurm_drainer

if TYPE_CHECKING:
    from gpuforge.ops._up import Pipeline

__all__ = ["settle_slurm", "wait_responding"]

# How long restarted daemons get until every node answers slurmctld again.
JOIN_TIMEOUT_S = 120.0
# sinfo's long states of a node slurmctld knows but cannot use.
_UNUSABLE = frozenset(("unknown", "down", "inval", "fail", "future"))


def settle_slurm(pipeline: Pipeline, nodes: Sequence[str]) -> None:
    """After the slurm role ran on `nodes` (its handlers may have restarted their daemons): wait
    until Slurm hears from every one of them."""
    wait_responding(slurm_drainer(pipeline.spec, pipeline.deployment), nodes, JOIN_TIMEOUT_S)


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
                f"Slurm does not use node(s) after {timeout_s:g} s ({states})",
                "check slurmd on those nodes (/var/log/slurm/slurmd.log) and slurmctld's log, "
                "then run `gpuforge up`",
            )
        time.sleep(min(drainer.poll_s, max(0.0, deadline - time.monotonic())))


def _responding(state: str) -> bool:
    base = state.rstrip("*~#!%$@^-").split("+")[0]
    return not state.endswith("*") and base not in _UNUSABLE


register_scheduler_join("slurm", SchedulerJoin(("slurm",), settle_slurm))
