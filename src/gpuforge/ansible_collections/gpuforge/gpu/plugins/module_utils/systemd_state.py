# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Read systemd units' states with one `systemctl show`, and judge them.

Used by `systemd_units`, which enables and starts what is not; kept apart so any module that
reports unit state reads a unit, and calls it enabled or running, the same way.
"""

from __future__ import annotations

from typing import Any

# UnitFileState values for which `systemctl enable` has nothing (more) to do.
ENABLED_STATES = frozenset(
    (
        "enabled",
        "enabled-runtime",
        "static",
        "indirect",
        "generated",
        "alias",
        "linked",
        "linked-runtime",
        "transient",
    )
)
RUNNING_STATES = frozenset(("active", "activating", "reloading"))
_FIELDS = ("LoadState", "UnitFileState", "ActiveState")


def unit_name(name: str) -> str:
    """The unit's full name: `.service` is assumed when `name` has no suffix."""
    return name if "." in name else name + ".service"


def _parse_state(text: str) -> dict[str, str]:
    """LoadState, UnitFileState and ActiveState from one unit's `systemctl show` block."""
    state = dict.fromkeys(_FIELDS, "")
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key in state:
            state[key] = value.strip()
    return state


def _show(module: Any, systemctl: str, units: list[str]) -> list[str]:
    """`systemctl show` output of `units` as one block of text per unit, in order."""
    rc, out, err = module.run_command([systemctl, "show", "--", *units])
    if rc != 0:
        module.fail_json(msg=f"systemctl show {' '.join(units)} failed (rc {rc:d}): {err.strip()}")
    blocks: list[str] = []
    current: list[str] = []
    for line in out.splitlines():
        if line.strip():
            current.append(line)
        elif current:
            blocks.append("\n".join(current))
            current = []
    if current:
        blocks.append("\n".join(current))
    return blocks


def states(module: Any, systemctl: str, units: list[str]) -> dict[str, dict[str, str]]:
    """Each unit's state, read with one `systemctl show` for all of them.

    systemctl prints one block per unit, in the order given, separated by blank lines; an
    implementation that answers otherwise (a block count that does not match) is asked unit by unit.
    """
    if not units:
        return {}
    blocks = _show(module, systemctl, units)
    if len(blocks) != len(units):
        blocks = ["\n".join(_show(module, systemctl, [unit])) for unit in units]
    return {unit: _parse_state(block) for unit, block in zip(units, blocks)}


def is_enabled(state: dict[str, str]) -> bool:
    """Whether a unit (its state from `states`) needs no `systemctl enable`."""
    return state["LoadState"] == "loaded" and state["UnitFileState"] in ENABLED_STATES


def is_running(state: dict[str, str]) -> bool:
    """Whether a unit (its state from `states`) needs no `systemctl start`."""
    return state["LoadState"] == "loaded" and state["ActiveState"] in RUNNING_STATES
