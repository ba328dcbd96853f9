"""Drift: a node's actual state (one probe) against its pool's desired state, item by item.

Each drifted item is reported with a stable code (GF-DRIFT-NNN, listed by `gpuforge rules`),
what was expected and found, and the role that owns it. Items the desired state does not name
are never drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gpuforge.desired import DRIFT_CODES, FileItem, GpuItem, PoolState

# systemd UnitFileState values with nothing left for `systemctl enable` to do, and ActiveState
# values of a running unit (as the collection's systemd_units module judges them).
_ENABLED = frozenset(
    ("enabled", "enabled-runtime", "static", "indirect", "generated", "alias", "linked")
)
_RUNNING = frozenset(("active", "activating", "reloading"))


@dataclass(frozen=True)
class Drift:
    """One drifted item on one node."""

    node: str
    code: str
    item: str
    expected: str
    actual: str
    role: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready view for `--json` output and the journal."""
        return {
            "node": self.node,
            "code": self.code,
            "title": DRIFT_CODES[self.code].title,
            "item": self.item,
            "expected": self.expected,
            "actual": self.actual,
            "role": self.role,
        }


def _packages(node: str, state: PoolState, found: Mapping[str, Any]) -> list[Drift]:
    drifts = []
    for item in state.packages:
        seen = found.get(item.name) or {}
        version = seen.get("version")
        if version is None or (item.version is not None and version != item.version):
            expected = item.version or "installed"
            drifts.append(
                Drift(node, "GF-DRIFT-001", item.name, expected, version or "absent", item.role)
            )
        elif item.hold and not seen.get("held"):
            drifts.append(Drift(node, "GF-DRIFT-002", item.name, "held", "not held", item.role))
    return drifts


def _units(node: str, state: PoolState, found: Mapping[str, Any]) -> list[Drift]:
    drifts = []
    for item in state.units:
        seen = found.get(item.name) or {}
        loaded = seen.get("load") == "loaded"
        enabled = str(seen.get("enabled", ""))
        if not loaded or enabled not in _ENABLED:
            actual = (enabled or "unknown") if loaded else str(seen.get("load") or "not loaded")
            drifts.append(Drift(node, "GF-DRIFT-003", item.name, "enabled", actual, item.role))
        active = str(seen.get("active", ""))
        if item.active and (not loaded or active not in _RUNNING):
            drifts.append(
                Drift(node, "GF-DRIFT-004", item.name, "active", active or "unknown", item.role)
            )
    return drifts


_GENERATORS = {"cdi": "nvidia-ctk cdi generate"}


def _generated_drift(node: str, item: FileItem, digest: str, current: Any) -> Drift | None:
    """A file its generator would now make otherwise (False); None when it holds that or no
    generator could tell (None)."""
    if item.generated is None or current is not False:
        return None
    expected = f"as `{_GENERATORS.get(item.generated, item.generated)}` makes it"
    return Drift(node, "GF-DRIFT-005", item.path, expected, f"sha256:{digest[:12]}", item.role)


def _files(
    node: str, state: PoolState, found: Mapping[str, Any], generated: Mapping[str, Any]
) -> list[Drift]:
    drifts = []
    for item in state.files:
        seen = found.get(item.path) or {}
        digest, mode = seen.get("sha256"), seen.get("mode")
        if digest is None or (item.sha256 is not None and digest != item.sha256):
            actual = f"sha256:{digest[:12]}" if digest else "absent"
            expected = f"sha256:{item.sha256[:12]}" if item.sha256 else "present"
            drifts.append(Drift(node, "GF-DRIFT-005", item.path, expected, actual, item.role))
            continue
        current = (generated.get(item.path) or {}).get("current")
        made = _generated_drift(node, item, str(digest), current)
        if made is not None:
            drifts.append(made)
        elif mode is not None and int(str(mode), 8) != int(item.mode, 8):
            drifts.append(Drift(node, "GF-DRIFT-006", item.path, item.mode, str(mode), item.role))
    return drifts


def _modules(node: str, state: PoolState, found: Mapping[str, Any]) -> list[Drift]:
    # None: the kernel has no module support, so there is nothing to judge.
    return [
        Drift(node, "GF-DRIFT-011", item.name, "loaded", "not loaded", item.role)
        for item in state.modules
        if found.get(item.name) is False
    ]


def _runtimes(node: str, state: PoolState, found: Mapping[str, Any]) -> list[Drift]:
    drifts = []
    for item in state.runtimes:
        seen = found.get(item.engine) or {}
        if seen.get("installed") and not seen.get("configured"):
            drifts.append(
                Drift(
                    node,
                    "GF-DRIFT-014",
                    f"{item.engine} default runtime ({item.config})",
                    "nvidia",
                    "not nvidia",
                    item.role,
                )
            )
    return drifts


def _mhz(value: Any) -> str:
    return f"{float(value):g}" if value is not None else "unknown"


def _clocks(node: str, want: GpuItem, gpu: Mapping[str, Any]) -> list[Drift]:
    name = f"gpu{gpu.get('index')}"
    drifts = []
    if want.locked_clocks is not None:
        low, high = want.locked_clocks
        clock = gpu.get("graphics_clock_mhz")
        if clock is None or not low <= float(clock) <= high:
            actual = f"{clock:g} MHz" if clock is not None else "unknown"
            drifts.append(
                Drift(
                    node,
                    "GF-DRIFT-012",
                    f"{name} locked clocks",
                    f"{low}-{high} MHz",
                    actual,
                    want.role,
                )
            )
    if want.application_clocks is not None:
        seen = list(gpu.get("application_clocks_mhz") or [None, None])
        if [float(v) if v is not None else None for v in seen] != list(want.application_clocks):
            memory, graphics = want.application_clocks
            drifts.append(
                Drift(
                    node,
                    "GF-DRIFT-013",
                    f"{name} application clocks",
                    f"memory {memory}, graphics {graphics} MHz",
                    "memory {}, graphics {} MHz".format(*(_mhz(v) for v in seen)),
                    want.role,
                )
            )
    return drifts


def _gpus(node: str, state: PoolState, found: list[Mapping[str, Any]]) -> list[Drift]:
    want = state.gpu
    if want is None:
        return []
    drifts = []
    for gpu in found:
        drifts += _clocks(node, want, gpu)
        name = f"gpu{gpu.get('index')}"
        persistence = gpu.get("persistence_mode")
        if want.persistence_mode is not None and persistence != want.persistence_mode:
            drifts.append(
                Drift(
                    node,
                    "GF-DRIFT-007",
                    f"{name} persistence mode",
                    "on" if want.persistence_mode else "off",
                    "on" if persistence else "off",
                    want.role,
                )
            )
        limit = gpu.get("power_limit_w")
        if want.power_limit_w is not None and (
            limit is None or abs(float(limit) - want.power_limit_w) >= 0.5
        ):
            drifts.append(
                Drift(
                    node,
                    "GF-DRIFT-008",
                    f"{name} power limit",
                    f"{want.power_limit_w} W",
                    f"{limit:g} W" if limit is not None else "unknown",
                    want.role,
                )
            )
        mode = str(gpu.get("compute_mode", ""))
        if want.compute_mode is not None and mode != want.compute_mode:
            drifts.append(
                Drift(
                    node, "GF-DRIFT-009", f"{name} compute mode", want.compute_mode, mode, want.role
                )
            )
    return drifts


def _layout_text(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{count}x {profile}" for profile, count in sorted(counts.items())) or "none"


def _mig(node: str, state: PoolState, report: Mapping[str, Any]) -> list[Drift]:
    want = state.mig
    if want is None or want.config is None:
        return []
    layout: Mapping[str, Mapping[str, int]] = report.get("mig") or {}
    drifts = []
    for gpu in report.get("gpus") or []:
        index = str(gpu.get("index"))
        counts = dict(layout.get(index) or {})
        if counts != want.config:
            drifts.append(
                Drift(
                    node,
                    "GF-DRIFT-010",
                    f"gpu{index} MIG layout",
                    _layout_text(want.config),
                    _layout_text(counts),
                    want.role,
                )
            )
    return drifts


def diff_node(node: str, state: PoolState, report: Mapping[str, Any]) -> list[Drift]:
    """Every item of `state` that the probe `report` (node_state's result) shows drifted."""
    return [
        *_packages(node, state, report.get("packages") or {}),
        *_units(node, state, report.get("units") or {}),
        *_files(node, state, report.get("files") or {}, report.get("cdi_specs") or {}),
        *_modules(node, state, report.get("modules") or {}),
        *_runtimes(node, state, report.get("runtimes") or {}),
        *_gpus(node, state, report.get("gpus") or []),
        *_mig(node, state, report),
    ]


# Roles a drifted item's own role needs to run with: an APT package needs its repository.
_NEEDS = {"GF-DRIFT-001": ("nvidia_repo",)}


def fix_roles(drifts: list[Drift], order: tuple[str, ...]) -> list[str]:
    """The roles that correct `drifts` on one node, in site.yml's order."""
    wanted = {d.role for d in drifts}
    for drift in drifts:
        wanted.update(_NEEDS.get(drift.code, ()))
    return [role for role in order if role in wanted]
