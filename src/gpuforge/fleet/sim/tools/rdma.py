"""RDMA device view shared by the simulated ibstat, ibv_devinfo and all_reduce_perf."""

from __future__ import annotations

# Imported by the type checkers only: `typing` alone costs a tool ~11 ms on every call.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Json = dict[str, Any]

if TYPE_CHECKING:
    from gpuforge.fleet.sim.tools import simlib
else:
    import simlib


def ports(hw: Json, state: Json) -> list[Json]:
    """Each HCA with its live port: `up`, `rate` after `ib-port-down` / `ib-degraded` faults."""
    down = simlib.faults(state, "ib-port-down")
    degraded = simlib.faults(state, "ib-degraded")
    out = []
    for hca in hw["hcas"]:
        hit = [p for p in down if p.get("hca", hca["name"]) in (hca["name"], "all")]
        slow = [p for p in degraded if p.get("hca", hca["name"]) in (hca["name"], "all")]
        rate = int(hca["rate"])
        if slow:
            rate = int(slow[-1].get("rate", rate // 2))
        out.append(dict(hca, up=not hit, live_rate=rate))
    return out


def guid(hex16: str, sep: str = "") -> str:
    """A 64-bit GUID from 16 hex digits: `0x...` for ibstat, `xxxx:xxxx:xxxx:xxxx` for verbs."""
    if sep:
        return sep.join(hex16[i : i + 4] for i in range(0, 16, 4))
    return "0x" + hex16
