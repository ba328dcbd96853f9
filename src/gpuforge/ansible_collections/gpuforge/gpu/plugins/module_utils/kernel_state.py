# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Read which kernel modules are loaded (/proc/modules), the one way every module judges it.

Used by `kernel_modules`, which loads what is missing, and by `node_state`, which reports it.
"""

from __future__ import annotations

PROC_MODULES = "/proc/modules"


def module_key(name: str) -> str:
    """A module name as /proc/modules spells it (modprobe takes `-` and `_` alike)."""
    return name.replace("-", "_")


def loaded_modules(path: str = PROC_MODULES) -> set[str] | None:
    """Names of the loaded modules; None where the kernel has no module support (no file)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return {line.split(" ", 1)[0] for line in handle if line.strip()}
    except FileNotFoundError:
        return None
