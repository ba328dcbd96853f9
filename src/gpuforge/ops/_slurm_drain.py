"""Draining through Slurm: `scontrol update ... state=drain` on the controller, then waiting.

Every Slurm command runs on the controller node over SSH with the connection settings the
deployment's inventory gives that host (address, user, key, port, host key options). The
remote command line is built with `shlex.join`, so node names and the reason reach scontrol as
single arguments, never as shell code. Slurm's node names are the inventory host names (the
slurm role starts slurmd with `-N <inventory name>`), so the mapping is the identity, and a
name the inventory does not list is refused before anything runs.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gpuforge.ops._converge import inventory_host_vars
from gpuforge.ops._deploy import Deployment
from gpuforge.ops._drain import DrainError, DrainTimeout, register_drainer
from gpuforge.ops._slurm import controller_host
from gpuforge.spec import ClusterSpec

__all__ = ["SlurmDrainer", "slurm_drainer"]

# sinfo's long state of a node that runs no work any more: drained, or out of service.
_FREE = frozenset(("drained", "down", "fail", "failed"))
# States `state=resume` applies to: drained or draining, down, failed.
_RESUMABLE = re.compile(r"drain|down|fail")
_NODE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# How long Slurm gets to end cancelled jobs before a forced drain takes the nodes down.
_FORCE_GRACE_S = 30.0
_SSH_TIMEOUT_S = 60.0


def ssh_argv(host: str, values: Mapping[str, Any]) -> list[str]:
    """The ssh command line that reaches an inventory host the way its host vars say."""
    argv = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]
    if values.get("ansible_ssh_private_key_file"):
        argv += ["-i", str(values["ansible_ssh_private_key_file"])]
    if values.get("ansible_user"):
        argv += ["-l", str(values["ansible_user"])]
    if values.get("ansible_port"):
        argv += ["-p", str(values["ansible_port"])]
    argv += shlex.split(str(values.get("ansible_ssh_common_args") or ""))
    return [*argv, "--", str(values.get("ansible_host") or host)]


@dataclass
class SlurmDrainer:
    """Drains and resumes inventory hosts through the Slurm controller of one cluster."""

    controller: str
    hosts: Mapping[str, Mapping[str, Any]]
    poll_s: float = 1.0

    def drain(self, nodes: Sequence[str], *, reason: str, timeout_s: float, force: bool) -> None:
        """Stop new jobs on `nodes` and return once none runs one; DrainTimeout after
        `timeout_s` unless `force`, which cancels their jobs (and takes still-busy nodes down)."""
        names = self._names(nodes)
        if not names:
            return
        text = " ".join(reason.split()) or "gpuforge"
        self._scontrol("update", f"NodeName={','.join(names)}", "State=DRAIN", f"Reason={text}")
        busy = self._wait(names, time.monotonic() + timeout_s)
        if not busy:
            return
        if not force:
            raise DrainTimeout({node: self._jobs(node) for node in busy}, timeout_s)
        self._slurm("scancel", f"--nodelist={','.join(busy)}")
        busy = self._wait(busy, time.monotonic() + _FORCE_GRACE_S)
        if busy:
            self._scontrol(
                "update", f"NodeName={','.join(busy)}", "State=DOWN", f"Reason={text} (forced)"
            )

    def undrain(self, nodes: Sequence[str]) -> None:
        """Return `nodes` to service (`state=resume`); nodes already in service are left alone
        (Slurm refuses to resume them)."""
        states = self.states(self._names(nodes)) if nodes else {}
        out = [node for node, state in states.items() if _RESUMABLE.search(state)]
        if out:
            self._scontrol("update", f"NodeName={','.join(out)}", "State=RESUME")

    def states(self, nodes: Sequence[str]) -> dict[str, str]:
        """Node -> sinfo's long state (`idle`, `draining`, `drained`, ...), as Slurm sees it."""
        names = self._names(nodes)
        out = self._slurm(
            "sinfo", "--noheader", "--Node", f"--nodes={','.join(names)}", "--format=%N|%T"
        )
        found: dict[str, str] = {}
        for line in out.splitlines():
            node, _, state = line.strip().partition("|")
            if node in names:
                found[node] = state.strip().lower()
        missing = [node for node in names if node not in found]
        if missing:
            raise DrainError(
                f"Slurm does not know node(s) {', '.join(missing)}",
                "run `gpuforge up` so that the slurm role registers every node",
            )
        return found

    def _wait(self, names: list[str], deadline: float) -> list[str]:
        """Poll until every node is free or the deadline passes; the nodes still busy."""
        while True:
            states = self.states(names)
            busy = [n for n in names if states[n].rstrip("*~#!%$@^-").split("+")[0] not in _FREE]
            if not busy or time.monotonic() >= deadline:
                return busy
            time.sleep(min(self.poll_s, max(0.0, deadline - time.monotonic())))

    def _jobs(self, node: str) -> list[str]:
        out = self._slurm("squeue", "--noheader", f"--nodelist={node}", "--format=%i")
        return [line.strip() for line in out.splitlines() if line.strip()]

    def _names(self, nodes: Sequence[str]) -> list[str]:
        unknown = [n for n in nodes if n not in self.hosts or not _NODE_NAME.fullmatch(n)]
        if unknown:
            raise DrainError(
                f"no node named {', '.join(map(repr, unknown))} in the inventory",
                f"name nodes the inventory lists: {', '.join(sorted(self.hosts))}",
            )
        return list(dict.fromkeys(nodes))

    def _scontrol(self, *args: str) -> str:
        return self._slurm("scontrol", *args)

    def _slurm(self, *argv: str) -> str:
        command = list(argv)
        ssh = ssh_argv(self.controller, self.hosts[self.controller])
        try:
            done = subprocess.run(
                [*ssh, shlex.join(command)],
                capture_output=True,
                text=True,
                timeout=_SSH_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise DrainError(
                f"{argv[0]} on {self.controller} gave no answer in {_SSH_TIMEOUT_S:g} s",
                f"check that {self.controller} is up and reachable over SSH",
            ) from None
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()
            raise DrainError(
                f"{argv[0]} on {self.controller} exited {done.returncode}: "
                f"{detail[-1] if detail else 'no output'}",
                f"check slurmctld on {self.controller} (`systemctl status slurmctld`), "
                "then run the command again",
            )
        return done.stdout


def slurm_drainer(spec: ClusterSpec, deployment: Deployment | Path) -> SlurmDrainer:
    """The drainer of a Slurm cluster, from its spec and its deployment's inventory."""
    root = deployment.root if isinstance(deployment, Deployment) else Path(deployment)
    hosts = inventory_host_vars(Deployment(root).inventory)
    pools = {name: str(values.get("gpuforge_pool", "")) for name, values in hosts.items()}
    return SlurmDrainer(controller_host(spec, pools), hosts)


register_drainer("slurm", slurm_drainer)
