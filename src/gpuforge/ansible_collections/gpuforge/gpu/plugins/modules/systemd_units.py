#!/usr/bin/python
# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Ansible module: make a set of systemd units enabled and running with one task."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: systemd_units
short_description: Enable and start several systemd units in one task
description:
  - Reads every unit's C(LoadState), C(UnitFileState) and C(ActiveState) with one C(systemctl
    show) for all of them (unit by unit when a systemctl answers with fewer blocks than units),
    then enables and starts only those that need it, with one C(systemctl enable --now) for
    the units that need both and one C(systemctl enable) or C(systemctl start) for the rest.
    A role's services then cost one task per host, not one
    C(ansible.builtin.systemd_service) task per unit with two C(systemctl) calls each.
  - A unit that does not exist or is masked fails the task; in check mode a missing unit (its
    package not installed yet) is reported as one that would be enabled and started.
  - For restarts (handlers) and stopping, use C(ansible.builtin.systemd_service).
options:
  name:
    description: Unit names; C(.service) is assumed when no suffix is given.
    type: list
    elements: str
    required: true
  enabled:
    description: Enable the units at boot (C(true)); C(false) leaves their boot setting alone.
    type: bool
    default: true
  started:
    description: Start the units that are not running (C(true)); C(false) leaves them as they are.
    type: bool
    default: true
  daemon_reload:
    description: Run C(systemctl daemon-reload) first, after unit files changed.
    type: bool
    default: false
author: gpuforge maintainers (@gpuforge)
"""

EXAMPLES = r"""
- name: Enable and start the persistence daemon and the fabric manager
  gpuforge.gpu.systemd_units:
    name: [nvidia-persistenced, nvidia-fabricmanager]
"""

RETURN = r"""
enabled:
  description: Units this run enabled (or would enable in check mode).
  returned: always
  type: list
  elements: str
started:
  description: Units this run started (or would start in check mode).
  returned: always
  type: list
  elements: str
states:
  description: Per unit, the LoadState, UnitFileState and ActiveState read before any change.
  returned: always
  type: dict
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.gpu.plugins.module_utils import systemd_state


def _run(module: Any, systemctl: str, verb: list[str], units: list[str]) -> None:
    """Run `systemctl VERB... -- UNITS`; `verb` is the list of words before the units."""
    rc, out, err = module.run_command([systemctl, *verb, *(["--", *units] if units else [])])
    if rc != 0:
        words = " ".join([*verb, *units])
        module.fail_json(msg=f"systemctl {words} failed (rc {rc:d}): {(err or out).strip()}")


def main() -> None:
    """Enable and start the units that need it; report which."""
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="list", elements="str", required=True),
            enabled=dict(type="bool", default=True),
            started=dict(type="bool", default=True),
            daemon_reload=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    systemctl = module.get_bin_path("systemctl", required=True)
    if module.params["daemon_reload"] and not module.check_mode:
        _run(module, systemctl, ["daemon-reload"], [])
    units = [systemd_state.unit_name(name) for name in module.params["name"] if name]
    states = systemd_state.states(module, systemctl, units)
    to_enable, to_start = [], []
    for unit, state in states.items():
        if state["LoadState"] == "masked":
            module.fail_json(
                msg=f"{unit} is masked; unmask it (systemctl unmask {unit}) to manage it"
            )
        if state["LoadState"] != "loaded" and not module.check_mode:
            module.fail_json(
                msg="{} not found (LoadState {}); is its package installed?".format(
                    unit, state["LoadState"]
                )
            )
        if module.params["enabled"] and not systemd_state.is_enabled(state):
            to_enable.append(unit)
        if module.params["started"] and not systemd_state.is_running(state):
            to_start.append(unit)
    if not module.check_mode:
        # Units to enable and start (a new install's) take one `enable --now`, not two calls.
        both = [unit for unit in to_enable if unit in to_start]
        for verb, group in (
            (["enable"], [unit for unit in to_enable if unit not in both]),
            (["start"], [unit for unit in to_start if unit not in both]),
            (["enable", "--now"], both),
        ):
            if group:
                _run(module, systemctl, verb, group)
    module.exit_json(
        changed=bool(to_enable or to_start), enabled=to_enable, started=to_start, states=states
    )


if __name__ == "__main__":
    main()
