"""Taking nodes out of service before a change and back after it: the drain contract.

A `Drainer` answers for one cluster. Which one a cluster gets follows its spec: a scheduler
registered under the spec's scheduler kind (Slurm), else the spec's own drain and undrain
commands (`rollout.drain_command`), else nothing to drain. Schedulers register a factory with
`register_drainer`, so upgrade, scale and the spot watcher never ask which scheduler runs.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from gpuforge.errors import GpuforgeError
from gpuforge.ops._deploy import Deployment
from gpuforge.spec import ClusterSpec


class DrainError(GpuforgeError):
    """A node could not be taken out of service or returned to it."""


class DrainTimeout(DrainError):
    """Work still ran on some nodes when the drain's time was up."""

    def __init__(self, busy: dict[str, list[str]], timeout_s: float) -> None:
        named = "; ".join(f"{node}: {', '.join(jobs) or 'busy'}" for node, jobs in busy.items())
        super().__init__(
            f"work still runs after {timeout_s:g} s on {named}",
            "wait for the work to end and run the command again, or give --force to stop it",
        )
        self.busy = busy


class Drainer(Protocol):
    """Takes a cluster's nodes (inventory host names) out of service and back."""

    def drain(self, nodes: Sequence[str], *, reason: str, timeout_s: float, force: bool) -> None:
        """Stop new work on the nodes and return once none of them runs any (DrainTimeout)."""
        ...

    def undrain(self, nodes: Sequence[str]) -> None:
        """Return the nodes to service."""
        ...


DrainerFactory = Callable[[ClusterSpec, Deployment], Drainer]
_FACTORIES: dict[str, DrainerFactory] = {}


def register_drainer(kind: str, factory: DrainerFactory) -> None:
    """Make `drainer_for` answer clusters whose scheduler is `kind` with `factory`."""
    _FACTORIES[kind] = factory


class NothingToDrain:
    """A cluster without a scheduler or drain commands: no work to wait for."""

    def drain(self, nodes: Sequence[str], *, reason: str, timeout_s: float, force: bool) -> None:
        """Nothing runs work that gpuforge could wait for, so the nodes are free at once."""

    def undrain(self, nodes: Sequence[str]) -> None:
        """Nothing was taken out of service."""


@dataclass(frozen=True)
class CommandDrainer:
    """The site's own drain and undrain programs, run on the controller once per node.

    Placeholders are replaced inside each argument and the program runs without a shell, so a
    node name or reason is always one argument, never code. The drain program is expected to
    return once the node is free; its time limit is the drain's.
    """

    drain_argv: tuple[str, ...]
    undrain_argv: tuple[str, ...]

    def drain(self, nodes: Sequence[str], *, reason: str, timeout_s: float, force: bool) -> None:
        """Run the drain program for each node in turn; a node still busy at the limit fails."""
        busy: dict[str, list[str]] = {}
        for node in nodes:
            argv = _fill(self.drain_argv, node=node, reason=reason)
            try:
                _run(argv, timeout_s=timeout_s or None)
            except subprocess.TimeoutExpired:
                if not force:
                    busy[node] = []
        if busy:
            raise DrainTimeout(busy, timeout_s)

    def undrain(self, nodes: Sequence[str]) -> None:
        """Run the undrain program for each node; does nothing when none is configured."""
        if not self.undrain_argv:
            return
        for node in nodes:
            _run(_fill(self.undrain_argv, node=node, reason=""), timeout_s=None)


def drainer_for(spec: ClusterSpec, deployment: Deployment) -> Drainer:
    """The drainer a cluster's spec asks for: its scheduler's, its own commands, or none."""
    kind = _scheduler_kind(spec)
    if kind in _FACTORIES:
        return _FACTORIES[kind](spec, deployment)
    rollout = spec.rollout
    if rollout.drain_command:
        return CommandDrainer(tuple(rollout.drain_command), tuple(rollout.undrain_command))
    return NothingToDrain()


def _scheduler_kind(spec: ClusterSpec) -> str:
    scheduler = getattr(spec, "scheduler", None)
    return str(getattr(scheduler, "kind", "none"))


def _fill(argv: Sequence[str], *, node: str, reason: str) -> list[str]:
    return [part.replace("{node}", node).replace("{reason}", reason) for part in argv]


def _run(argv: list[str], *, timeout_s: float | None) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, check=False)
    except FileNotFoundError:
        raise DrainError(
            f"the drain program {argv[0]!r} was not found",
            "install it on the controller or fix rollout.drain_command in the spec",
        ) from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise DrainError(
            f"{' '.join(argv)} exited {done.returncode}: {detail[-1] if detail else 'no output'}",
            "fix the node or rollout.drain_command / undrain_command in the spec, then rerun",
        )
