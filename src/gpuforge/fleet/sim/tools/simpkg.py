#!/usr/bin/python3 -S
"""Maintainer-script helper of the stand-in packages: records installs and removals in the state.

    simpkg.py configure PACKAGE COMPONENT VERSION [key=value ...]
    simpkg.py remove PACKAGE COMPONENT VERSION

Component `driver` sets the loaded driver (nvidia-smi works from then on); others land in
state["software"]. An injected `package-fail` fault for PACKAGE makes configure fail.
"""

from __future__ import annotations

import os
import sys

# Imported by the type checkers only: `typing` alone costs a tool ~11 ms on every call.
TYPE_CHECKING = False

sys.path[:0] = [
    os.path.join(os.environ.get("GPUFORGE_SIM_ROOT", "/"), "usr/lib/gpuforge-sim"),
    os.path.dirname(os.path.abspath(__file__)),
]

if TYPE_CHECKING:
    from gpuforge.fleet.sim.tools import simkernel, simlib
else:
    import simkernel
    import simlib


def _fail(package: str, version: str, component: str) -> None:
    if component == "driver":
        kernel = os.uname().release
        sys.stderr.write(
            f"Building initial module for {kernel}\n"
            f"Error! Bad return status for module build on kernel: {kernel} (x86_64)\n"
            f"Consult /var/lib/dkms/nvidia/{version}/build/make.log for more information.\n"
        )
    else:
        sys.stderr.write(f"{package}: post-installation setup failed (injected fault)\n")
    raise SystemExit(1)


def configure(package: str, component: str, version: str, extra: dict[str, str]) -> None:
    """Record `component` at `version` as installed by `package`, unless a fault fails it."""
    state = simlib.load_state()
    if any(p.get("name") == package for p in simlib.faults(state, "package-fail")):
        _fail(package, version, component)
    with simlib.edit_state() as state:
        entry = dict(extra, version=version, package=package)
        if component == "driver":
            state["driver"] = entry
        else:
            state.setdefault("software", {})[component] = entry
    if component == "driver":
        simlib.klog(simlib.module_line(entry))
        simkernel.sync()


def remove(package: str, component: str, version: str) -> None:
    """Forget `component` if `package` at `version` is what installed it (a newer one may have)."""
    with simlib.edit_state() as state:
        software = state.setdefault("software", {})
        current = state.get("driver") if component == "driver" else software.get(component)
        if current and current.get("package") == package and current.get("version") == version:
            if component == "driver":
                state["driver"] = None
            else:
                del software[component]
    if component == "driver":
        simkernel.sync()


def main(argv: list[str]) -> None:
    """Dispatch `configure` or `remove`."""
    if len(argv) < 4 or argv[0] not in ("configure", "remove"):
        simlib.die(__doc__ or "", 2, sys.stderr)
    verb, package, component, version = argv[:4]
    extra = dict(a.split("=", 1) for a in argv[4:] if "=" in a)
    if verb == "configure":
        configure(package, component, version, extra)
    else:
        remove(package, component, version)


if __name__ == "__main__":
    main(sys.argv[1:])
