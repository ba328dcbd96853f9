#!/usr/bin/python
# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Ansible module: set persistence mode, power limit, compute mode and clocks on NVIDIA GPUs."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gpu_settings
short_description: Set NVIDIA GPU persistence mode, power limit, compute mode and clocks
description:
  - Reads the current settings of every GPU with one C(nvidia-smi --query-gpu) call and runs
    C(nvidia-smi) only for the settings that differ, so it reports C(changed) only on a real change.
  - Locked clocks cannot be read back from nvidia-smi; the range applied last is recorded in
    O(locked_clocks_state) and compared with it.
options:
  gpus:
    description: GPU indices to manage; empty means all.
    type: list
    elements: int
    default: []
  persistence_mode:
    description: Persistence mode; null leaves it.
    type: bool
  power_limit_w:
    description: Power limit in watts, within the GPU's min/max; null leaves it.
    type: int
  compute_mode:
    description: Compute mode; null leaves it.
    type: str
    choices: [DEFAULT, EXCLUSIVE_PROCESS, PROHIBITED]
  application_clocks:
    description: Application clocks as C({memory, graphics}) in MHz; null leaves them.
    type: dict
  locked_clocks:
    description:
      - Locked GPU clock range as C({min, max}) in MHz; null resets a range this module locked.
    type: dict
  locked_clocks_state:
    description: File recording the locked clock range applied last.
    type: path
    default: /var/lib/gpuforge/locked-clocks
author: gpuforge maintainers (@gpuforge)
"""

EXAMPLES = r"""
- name: Apply the tuning from the cluster spec
  gpuforge.gpu.gpu_settings:
    persistence_mode: true
    power_limit_w: 700
    compute_mode: EXCLUSIVE_PROCESS
"""

RETURN = r"""
commands:
  description: nvidia-smi argument lists run (or that would run in check mode).
  returned: always
  type: list
  elements: list
gpus:
  description: GPU indices found.
  returned: always
  type: list
  elements: int
"""

import os
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.gpu.plugins.module_utils.gpu_settings import (
    QUERY_FIELDS,
    Desired,
    plan_settings,
)
from ansible_collections.gpuforge.gpu.plugins.module_utils.smi import parse_csv


def _pair(value: dict[str, Any] | None, first: str, second: str) -> tuple[int, int] | None:
    if value is None:
        return None
    return (int(value[first]), int(value[second]))


def _read_locked(path: str) -> tuple[int, int] | None:
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        low, high = handle.read().strip().split(",")
    return (int(low), int(high))


def _record_locked(path: str, locked: tuple[int, int] | None) -> None:
    if locked is None:
        if os.path.exists(path):
            os.unlink(path)
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write("{:d},{:d}\n".format(*locked))


def main() -> None:
    """Query, plan and apply GPU settings."""
    module = AnsibleModule(
        argument_spec=dict(
            gpus=dict(type="list", elements="int", default=[]),
            persistence_mode=dict(type="bool"),
            power_limit_w=dict(type="int"),
            compute_mode=dict(type="str", choices=["DEFAULT", "EXCLUSIVE_PROCESS", "PROHIBITED"]),
            application_clocks=dict(type="dict"),
            locked_clocks=dict(type="dict"),
            locked_clocks_state=dict(type="path", default="/var/lib/gpuforge/locked-clocks"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    smi = module.get_bin_path("nvidia-smi", required=not module.check_mode)
    if smi is None:
        # A dry run on a node whose driver is not installed yet: nothing to read, all to apply.
        module.exit_json(changed=True, commands=[], gpus=[], msg="nvidia-smi is not installed yet")
    query = "--query-gpu=" + ",".join(QUERY_FIELDS)
    rc, out, err = module.run_command([smi, query, "--format=csv,nounits"])
    if rc != 0:
        module.fail_json(msg=f"nvidia-smi could not read the GPUs: {(err or out).strip()}", rc=rc)
    try:
        locked = _pair(params["locked_clocks"], "min", "max")
        desired = Desired(
            persistence_mode=params["persistence_mode"],
            power_limit_w=params["power_limit_w"],
            compute_mode=params["compute_mode"],
            application_clocks=_pair(params["application_clocks"], "memory", "graphics"),
            locked_clocks=locked,
            reset_locked_clocks=True,
        )
        locked_now = _read_locked(params["locked_clocks_state"])
        plan = plan_settings(out, desired, params["gpus"] or None, locked_now)
    except (KeyError, ValueError) as exc:
        module.fail_json(msg=f"cannot plan GPU settings: {exc}")
    gpus = [int(row["index"]) for row in parse_csv(out)]
    if plan.errors:
        module.fail_json(msg="; ".join(plan.errors), gpus=gpus)
    commands = [argv for _name, argv in plan.commands]
    if commands and not module.check_mode:
        for argv in commands:
            rc, out, err = module.run_command([smi, *argv])
            if rc != 0:
                module.fail_json(
                    msg="nvidia-smi {} failed: {}".format(" ".join(argv), (err or out).strip()),
                    rc=rc,
                )
        if any(name == "locked_clocks" for name, _argv in plan.commands):
            _record_locked(params["locked_clocks_state"], locked)
    module.exit_json(changed=bool(commands), commands=commands, gpus=gpus)


if __name__ == "__main__":
    main()
