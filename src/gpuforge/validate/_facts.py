"""`NodeFacts`: everything the collectors found on one node, as typed values."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from gpuforge.validate._dcgm import DcgmDiag
from gpuforge.validate._gpu import GpuFacts
from gpuforge.validate._ib import Hca
from gpuforge.validate._layout import MISSING_TOOL_RC
from gpuforge.validate._mig import MigInstance
from gpuforge.validate._nccl import NcclResult
from gpuforge.validate._smi_apps import GpuApp
from gpuforge.validate._topo import Topology
from gpuforge.validate._xid import XidEvent


@dataclass(frozen=True)
class CollectorRun:
    """How one collector went: whether its output is there, its exit status and stderr."""

    key: str
    tool: str
    collected: bool
    rc: int | None = None
    stderr: str = ""

    @property
    def tool_missing(self) -> bool:
        """True when the shell could not find the tool (exit status 127)."""
        return self.rc == MISSING_TOOL_RC


@dataclass(frozen=True)
class NodeFacts:
    """One node's facts; a collector that did not run leaves its part empty (or None).

    `processes` is None when `--query-compute-apps` was not collected; `unplaced` quotes every
    collector line no parser could place, as `<file>: line N: '<text>'`;
    `gpus_busy_outside_jobs` is the GPU watch's count (None when the watch did not answer).
    """

    host: str
    gpus: tuple[GpuFacts, ...] = ()
    topology: Topology | None = None
    mig_instances: tuple[MigInstance, ...] = ()
    dcgm: DcgmDiag | None = None
    hcas: tuple[Hca, ...] = ()
    xids: tuple[XidEvent, ...] = ()
    packages: dict[str, str] = field(default_factory=dict)
    nccl: NcclResult | None = None
    collectors: dict[str, CollectorRun] = field(default_factory=dict)
    parse_warnings: tuple[str, ...] = ()
    processes: tuple[GpuApp, ...] | None = None
    unplaced: tuple[str, ...] = ()
    gpus_busy_outside_jobs: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view of every fact, for `--json` output and debugging."""
        return asdict(self)
