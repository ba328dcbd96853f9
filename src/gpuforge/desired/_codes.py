"""The drift codes: one stable GF-DRIFT-NNN per kind of item that can differ from the desired state.

Listed by `gpuforge rules` with the check rules; `gpuforge drift` reports each drifted item
under one of them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DriftCode:
    """A registered drift code: GF-DRIFT-NNN and a one-line title."""

    code: str
    title: str


DRIFT_CODES: dict[str, DriftCode] = {
    c.code: c
    for c in (
        DriftCode("GF-DRIFT-001", "package missing or at another version than the lock pins"),
        DriftCode("GF-DRIFT-002", "package not held against apt upgrade"),
        DriftCode("GF-DRIFT-003", "service not enabled"),
        DriftCode("GF-DRIFT-004", "service not running"),
        DriftCode("GF-DRIFT-005", "managed file missing or its content changed"),
        DriftCode("GF-DRIFT-006", "managed file mode changed"),
        DriftCode("GF-DRIFT-007", "GPU persistence mode differs"),
        DriftCode("GF-DRIFT-008", "GPU power limit differs"),
        DriftCode("GF-DRIFT-009", "GPU compute mode differs"),
        DriftCode("GF-DRIFT-010", "MIG layout differs"),
        DriftCode("GF-DRIFT-011", "kernel module not loaded"),
        DriftCode("GF-DRIFT-012", "GPU clocks not locked to the declared range"),
        DriftCode("GF-DRIFT-013", "GPU application clocks differ"),
        DriftCode("GF-DRIFT-014", "container engine's default runtime is not nvidia"),
    )
}
