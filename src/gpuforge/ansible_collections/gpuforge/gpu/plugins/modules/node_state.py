#!/usr/bin/python
# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Ansible module: report the actual state of every item of gpuforge's desired state at once."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: node_state
short_description: Report the packages, units, files, modules, GPU settings and MIG of a node
description:
  - Reads, in one call per node, the state of every item it is given and changes nothing;
    C(gpuforge drift) compares the report with the cluster's desired state.
  - O(packages) are read with one C(dpkg-query) (version and whether held), O(units) with one
    C(systemctl show), O(files) by their SHA-256 and mode, O(modules) from C(/proc/modules),
    O(runtimes) by their daemon and configuration, the GPU settings with one
    C(nvidia-smi --query-gpu) and the MIG instances with one C(nvidia-smi mig -lgi).
  - An item that is missing is reported as such (a package not installed, a unit not loaded,
    a file absent), never as a failure of the module.
options:
  packages:
    description: APT package names to read.
    type: list
    elements: str
    default: []
  units:
    description: systemd unit names to read (C(.service) is assumed without a suffix).
    type: list
    elements: str
    default: []
  files:
    description: Absolute paths of files to read.
    type: list
    elements: str
    default: []
  modules:
    description: Kernel module names to read from C(/proc/modules).
    type: list
    elements: str
    default: []
  runtimes:
    description:
      - Container engines to read; each counts where its O(runtimes[].daemon) is installed, and
        is then reported with whether its O(runtimes[].config) contains O(runtimes[].marker).
    type: list
    elements: dict
    default: []
    suboptions:
      engine:
        description: The engine's name, the key of the report.
        type: str
        required: true
      daemon:
        description: The daemon whose presence makes the engine count.
        type: str
        required: true
      config:
        description: The engine's configuration file.
        type: str
        required: true
      marker:
        description: Text the configuration contains once nvidia is its default runtime.
        type: str
        required: true
  cdi_specs:
    description:
      - Paths of CDI specs to compare with what C(nvidia-ctk cdi generate) makes on the node now
        (as C(gpuforge.gpu.cdi_spec) writes it).
    type: list
    elements: str
    default: []
  gpu:
    description: Read each GPU's persistence mode, power limit, compute mode and clocks.
    type: bool
    default: false
  mig:
    description: Read each GPU's MIG mode and its GPU instances.
    type: bool
    default: false
author: gpuforge maintainers (@gpuforge)
"""

EXAMPLES = r"""
- name: Read the state gpuforge declared for this node
  gpuforge.gpu.node_state:
    packages: [libnccl2, libnccl-dev]
    units: [nvidia-dcgm]
    files: [/etc/nccl.conf]
    modules: [nvidia, nvidia_uvm]
    gpu: true
    mig: true
  register: node_state
"""

RETURN = r"""
packages:
  description: Package name to C(version) and C(held); C(version) is null when not installed.
  returned: always
  type: dict
units:
  description: Unit name to C(load), C(enabled) (UnitFileState) and C(active) (ActiveState).
  returned: always
  type: dict
files:
  description: Path to C(sha256) and C(mode) (octal text); both null when the file is absent.
  returned: always
  type: dict
modules:
  description:
    - Module name to whether it is loaded; null for every module where the kernel has no
      module support (no C(/proc/modules)).
  returned: always
  type: dict
runtimes:
  description: Engine to C(installed) (its daemon found) and C(configured) (the marker found).
  returned: always
  type: dict
cdi_specs:
  description:
    - Path to C(current), whether the file holds the spec generated now; null where it could
      not be generated (no C(nvidia-ctk), or it failed).
  returned: always
  type: dict
gpus:
  description:
    - One entry per GPU with C(index), C(persistence_mode), C(power_limit_w), C(compute_mode),
      C(mig_mode), C(graphics_clock_mhz) (the current graphics clock, which a locked range
      keeps within it), C(application_clocks_mhz) (memory and graphics); empty unless O(gpu)
      or O(mig).
  returned: always
  type: list
  elements: dict
mig:
  description: GPU index (as text) to MIG profile name to instance count; empty unless O(mig).
  returned: always
  type: dict
"""

import hashlib
import os
import stat
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.gpu.plugins.module_utils.apt_state import installed
from ansible_collections.gpuforge.gpu.plugins.module_utils.cdi import generate_spec
from ansible_collections.gpuforge.gpu.plugins.module_utils.kernel_state import (
    loaded_modules,
    module_key,
)
from ansible_collections.gpuforge.gpu.plugins.module_utils.mig import parse_lgi
from ansible_collections.gpuforge.gpu.plugins.module_utils.smi import number, parse_csv
from ansible_collections.gpuforge.gpu.plugins.module_utils.systemd_state import states, unit_name

# What nvidia-smi says when a node has no MIG instances to list: an empty layout, not an error.
_NO_LAYOUT = ("no gpu instance", "no mig-enabled devices", "not supported")
GPU_FIELDS = (
    "index",
    "persistence_mode",
    "power.limit",
    "compute_mode",
    "mig.mode.current",
    "clocks.gr",
    "clocks.applications.memory",
    "clocks.applications.graphics",
)


def read_packages(module: Any, names: list[str]) -> dict[str, dict[str, Any]]:
    """{name: {version, held}} for every name; version None when not installed."""
    present = installed(module, names)
    return {
        name: {
            "version": present[name][0] if name in present else None,
            "held": name in present and present[name][1] == "hold",
        }
        for name in names
    }


def read_units(module: Any, names: list[str]) -> dict[str, dict[str, str]]:
    """{unit: {load, enabled, active}} for every unit, from one systemctl show."""
    if not names:
        return {}
    systemctl = module.get_bin_path("systemctl", required=True)
    full = [unit_name(name) for name in names]
    found = states(module, systemctl, full)
    return {
        unit: {"load": s["LoadState"], "enabled": s["UnitFileState"], "active": s["ActiveState"]}
        for unit, s in found.items()
    }


def read_file(path: str) -> dict[str, str | None]:
    """{sha256, mode} of a file; both None when it does not exist."""
    try:
        with open(path, "rb") as handle:
            digest = hashlib.sha256(handle.read()).hexdigest()
        mode = f"{stat.S_IMODE(os.stat(path).st_mode):04o}"
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return {"sha256": None, "mode": None}
    return {"sha256": digest, "mode": mode}


def read_modules(names: list[str]) -> dict[str, bool | None]:
    """{module: loaded} for every name; None where the kernel has no module support."""
    present = loaded_modules()
    return {name: None if present is None else module_key(name) in present for name in names}


def read_runtimes(module: Any, engines: list[dict[str, str]]) -> dict[str, dict[str, bool]]:
    """{engine: {installed, configured}}: its daemon found, and its config holding the marker."""
    report = {}
    for engine in engines:
        installed_now = module.get_bin_path(engine["daemon"]) is not None
        try:
            with open(engine["config"], encoding="utf-8", errors="replace") as handle:
                configured = engine["marker"] in handle.read()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            configured = False
        report[engine["engine"]] = {"installed": installed_now, "configured": configured}
    return report


def read_cdi_specs(module: Any, paths: list[str]) -> dict[str, dict[str, bool | None]]:
    """{path: {current}}: whether each file holds the spec generated now (None: cannot tell)."""
    if not paths:
        return {}
    text, _rc, _err = generate_spec(module)
    wanted = None if text is None else hashlib.sha256(text.encode()).hexdigest()
    return {
        path: {"current": None if wanted is None else read_file(path)["sha256"] == wanted}
        for path in paths
    }


def read_gpus(module: Any, smi: str) -> list[dict[str, Any]]:
    """One dict per GPU from one nvidia-smi --query-gpu call."""
    query = "--query-gpu=" + ",".join(GPU_FIELDS)
    rc, out, err = module.run_command([smi, query, "--format=csv,nounits"])
    if rc != 0:
        module.fail_json(msg=f"nvidia-smi could not read the GPUs: {(err or out).strip()}", rc=rc)
    return [
        {
            "index": int(row["index"]),
            "persistence_mode": row.get("persistence_mode", "") == "Enabled",
            "power_limit_w": number(row.get("power.limit", "")),
            "compute_mode": row.get("compute_mode", "").replace(" ", "_").upper(),
            "mig_mode": row.get("mig.mode.current", ""),
            "graphics_clock_mhz": number(row.get("clocks.gr", "")),
            "application_clocks_mhz": [
                number(row.get("clocks.applications.memory", "")),
                number(row.get("clocks.applications.graphics", "")),
            ],
        }
        for row in parse_csv(out)
    ]


def read_mig(module: Any, smi: str) -> dict[str, dict[str, int]]:
    """{gpu index: {profile: count}} of the GPU instances on the node."""
    rc, out, err = module.run_command([smi, "mig", "-lgi"])
    text = out + err
    if rc != 0 and not any(note in text.lower() for note in _NO_LAYOUT):
        module.fail_json(msg=f"nvidia-smi mig -lgi failed: {text.strip()}", rc=rc)
    layout: dict[str, dict[str, int]] = {}
    for instance in parse_lgi(text):
        per_gpu = layout.setdefault(str(instance.gpu), {})
        per_gpu[instance.name] = per_gpu.get(instance.name, 0) + 1
    return layout


def main() -> None:
    """Read every item asked for and return it."""
    module = AnsibleModule(
        argument_spec=dict(
            packages=dict(type="list", elements="str", default=[]),
            units=dict(type="list", elements="str", default=[]),
            files=dict(type="list", elements="str", default=[]),
            modules=dict(type="list", elements="str", default=[]),
            cdi_specs=dict(type="list", elements="str", default=[]),
            runtimes=dict(
                type="list",
                elements="dict",
                default=[],
                options=dict(
                    engine=dict(type="str", required=True),
                    daemon=dict(type="str", required=True),
                    config=dict(type="str", required=True),
                    marker=dict(type="str", required=True),
                ),
            ),
            gpu=dict(type="bool", default=False),
            mig=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    gpus: list[dict[str, Any]] = []
    mig: dict[str, dict[str, int]] = {}
    if params["gpu"] or params["mig"]:
        smi = module.get_bin_path("nvidia-smi", required=True)
        gpus = read_gpus(module, smi)
        if params["mig"]:
            mig = read_mig(module, smi)
    module.exit_json(
        changed=False,
        packages=read_packages(module, params["packages"]),
        units=read_units(module, params["units"]),
        files={path: read_file(path) for path in params["files"]},
        modules=read_modules(params["modules"]),
        runtimes=read_runtimes(module, params["runtimes"]),
        cdi_specs=read_cdi_specs(module, params["cdi_specs"]),
        gpus=gpus,
        mig=mig,
    )


if __name__ == "__main__":
    main()
