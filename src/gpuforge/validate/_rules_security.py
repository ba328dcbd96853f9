"""Rules about who uses the GPUs: a process neither allow-listed nor run by an allowed user."""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Iterator

from gpuforge.validate._expect import NodeExpectation
from gpuforge.validate._facts import NodeFacts
from gpuforge.validate._findings import Hit, error, rule
from gpuforge.validate._smi_apps import GpuApp
from gpuforge.validate._text import bus_key


def name_allowed(name: str, patterns: tuple[str, ...]) -> bool:
    """True when the process name (or its file name) matches one of the shell patterns."""
    return any(
        fnmatch.fnmatchcase(candidate, pattern)
        for pattern in patterns
        for candidate in (name, posixpath.basename(name))
    )


def gpu_allowed(app: GpuApp, expect: NodeExpectation) -> bool:
    """True when the security allow-list lets `app` use a GPU: its name or its user is listed
    (validation.allowed_processes count too: gpuforge's own probes)."""
    names = expect.gpu_processes + expect.allowed_processes
    return name_allowed(app.name, names) or (app.user is not None and app.user in expect.gpu_users)


@rule("GF-SEC-101", "no unknown process on a GPU")
def unknown_gpu_processes(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """A process on a GPU that neither security.gpu_allowed_processes nor gpu_allowed_users
    allows is unknown: a cryptominer, or a job that bypassed the scheduler."""
    gpus = {key: g.index for g in facts.gpus if (key := bus_key(g.bus_id))}
    for app in facts.processes or ():
        if gpu_allowed(app, expect):
            continue
        memory = f", {app.used_mib:.0f} MiB" if app.used_mib is not None else ""
        user = f", user {app.user}" if app.user else ""
        yield error(
            f"unknown process {app.name} (pid {app.pid}{user}{memory}) uses the GPU at PCI "
            f"{app.gpu_bus or '?'}",
            "stop it and find out who started it (a cryptominer?); if it belongs there, add its "
            "name to security.gpu_allowed_processes or its user to security.gpu_allowed_users",
            gpus.get(app.gpu_bus or ""),
        )


@rule("GF-SEC-102", "no GPU busy outside scheduled jobs")
def busy_outside_jobs(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """The GPU watch saw GPUs busy for its whole window with no allowed process on them: work
    that no scheduled job accounts for, the signature of a hidden miner."""
    del expect
    if facts.gpus_busy_outside_jobs:
        yield error(
            f"{facts.gpus_busy_outside_jobs} GPU(s) stayed busy for the GPU watch's whole window "
            "with no allowed process on them",
            "find what keeps them busy (nvidia-smi, dcgmi stats) and stop it; a job that belongs "
            "there runs as a user in security.gpu_allowed_users",
        )
