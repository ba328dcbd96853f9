# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Turn the current GPU settings (nvidia-smi CSV) and the desired ones into the nvidia-smi commands
that close the gap, so a run changes only what differs."""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.gpuforge.gpu.plugins.module_utils.smi import (
    gpu_selector,
    number,
    parse_csv,
)

QUERY_FIELDS = (
    "index",
    "persistence_mode",
    "power.limit",
    "power.min_limit",
    "power.max_limit",
    "compute_mode",
    "clocks.applications.memory",
    "clocks.applications.graphics",
    "clocks.gr",
)
COMPUTE_MODES = {"DEFAULT": "0", "EXCLUSIVE_PROCESS": "1", "PROHIBITED": "2"}


@dataclass(frozen=True)
class Desired:
    """Settings wanted on every selected GPU; None leaves a setting as it is."""

    persistence_mode: bool | None = None
    power_limit_w: int | None = None
    compute_mode: str | None = None
    application_clocks: tuple[int, int] | None = None
    locked_clocks: tuple[int, int] | None = None
    reset_locked_clocks: bool = False


@dataclass
class Plan:
    """The commands to run (each with what it changes) and the problems that block them."""

    commands: list[tuple[str, list[str]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _compute_mode_key(text: str) -> str:
    return text.replace(" ", "_").upper()


def _differs(rows: list[dict[str, str]], wanted: str, read: str) -> list[int]:
    return [int(row["index"]) for row in rows if row.get(read, "") != wanted]


def _unlocked(rows: list[dict[str, str]], locked: tuple[int, int]) -> bool:
    """Whether a GPU's graphics clock lies outside `locked` (reset by hand, or by a reboot)."""
    low, high = locked
    clocks = [number(row.get("clocks.gr", "")) for row in rows]
    return any(clock is not None and not low <= clock <= high for clock in clocks)


def plan_settings(
    csv_text: str,
    desired: Desired,
    gpus: list[int] | None = None,
    locked_now: tuple[int, int] | None = None,
) -> Plan:
    """Compare `nvidia-smi --query-gpu=QUERY_FIELDS --format=csv` output with `desired`.

    `locked_now` is the locked-clock range recorded by the last run (nvidia-smi cannot report
    it); the range is locked again where a GPU's graphics clock lies outside it.
    """
    every_row = parse_csv(csv_text)
    every = [int(row["index"]) for row in every_row]
    rows = [row for row in every_row if gpus is None or int(row["index"]) in gpus]
    plan = Plan()
    missing = sorted(set(gpus or []) - set(every))
    if missing:
        plan.errors.append(f"GPU index {missing} not present (GPUs: {every})")
        return plan

    if desired.persistence_mode is not None:
        wanted = "Enabled" if desired.persistence_mode else "Disabled"
        todo = _differs(rows, wanted, "persistence_mode")
        if todo:
            plan.commands.append(
                (
                    "persistence_mode",
                    [*gpu_selector(todo, every), "-pm", "1" if desired.persistence_mode else "0"],
                )
            )

    if desired.power_limit_w is not None:
        todo = []
        for row in rows:
            low, high = (
                number(row.get("power.min_limit", "")),
                number(row.get("power.max_limit", "")),
            )
            if low is not None and high is not None and not low <= desired.power_limit_w <= high:
                plan.errors.append(
                    f"GPU {row['index']}: power limit {desired.power_limit_w:d} W is outside "
                    f"its range {low:g}-{high:g} W"
                )
            current = number(row.get("power.limit", ""))
            if current is None or abs(current - desired.power_limit_w) >= 0.5:
                todo.append(int(row["index"]))
        if todo and not plan.errors:
            plan.commands.append(
                ("power_limit", [*gpu_selector(todo, every), "-pl", str(desired.power_limit_w)])
            )

    if desired.compute_mode is not None:
        key = _compute_mode_key(desired.compute_mode)
        if key not in COMPUTE_MODES:
            plan.errors.append(
                f"compute mode {desired.compute_mode} is not one of {sorted(COMPUTE_MODES)}"
            )
        else:
            todo = [
                int(row["index"])
                for row in rows
                if _compute_mode_key(row.get("compute_mode", "")) != key
            ]
            if todo:
                plan.commands.append(
                    ("compute_mode", [*gpu_selector(todo, every), "-c", COMPUTE_MODES[key]])
                )

    if desired.application_clocks is not None:
        memory, graphics = desired.application_clocks
        todo = [
            int(row["index"])
            for row in rows
            if number(row.get("clocks.applications.memory", "")) != memory
            or number(row.get("clocks.applications.graphics", "")) != graphics
        ]
        if todo:
            plan.commands.append(
                (
                    "application_clocks",
                    [*gpu_selector(todo, every), "-ac", f"{memory:d},{graphics:d}"],
                )
            )

    if desired.locked_clocks is not None and (
        desired.locked_clocks != locked_now or _unlocked(rows, desired.locked_clocks)
    ):
        low, high = desired.locked_clocks
        if low > high:
            plan.errors.append(f"locked clocks min {low:d} MHz is above max {high:d} MHz")
        else:
            plan.commands.append(
                (
                    "locked_clocks",
                    [
                        *gpu_selector([int(r["index"]) for r in rows], every),
                        "-lgc",
                        f"{low:d},{high:d}",
                    ],
                )
            )
    elif desired.locked_clocks is None and desired.reset_locked_clocks and locked_now is not None:
        plan.commands.append(
            ("locked_clocks", [*gpu_selector([int(r["index"]) for r in rows], every), "-rgc"])
        )
    return plan
