#!/usr/bin/python
# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Ansible module: apply a MIG layout (mig-parted style) idempotently."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: mig_layout
short_description: Apply a MIG layout to NVIDIA GPUs idempotently
description:
  - Enables or disables MIG mode, compares the existing GPU instances (C(nvidia-smi mig -lgi)) with
    the desired ones per GPU and destroys/recreates instances only on the GPUs that differ.
  - Instances are created with their default compute instance (C(-C)).
options:
  enabled:
    description: Whether MIG mode is on; false destroys every instance and turns MIG off.
    type: bool
    required: true
  config:
    description: "Profile name to instance count per GPU, for example C({3g.40gb: 2})."
    type: dict
    default: {}
  layout:
    description:
      - Named layout resolved per GPU (all-1g, all-2g, all-3g, all-4g, all-7g, all-balanced).
      - Used when O(config) is empty.
    type: str
  gpus:
    description: GPU indices to manage; empty means all.
    type: list
    elements: int
    default: []
  allow_gpu_reset:
    description: Reset a GPU whose MIG mode change stays pending (no processes may use it).
    type: bool
    default: true
author: gpuforge maintainers (@gpuforge)
"""

EXAMPLES = r"""
- name: Two 3g instances on every GPU
  gpuforge.gpu.mig_layout:
    enabled: true
    config:
      3g.40gb: 2
"""

RETURN = r"""
actions:
  description: Per GPU, whether its instances were destroyed and which profile ids were created.
  returned: always
  type: list
  elements: dict
layout:
  description: Per GPU index, the profile ids of the desired instances in creation order.
  returned: when enabled
  type: dict
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.gpu.plugins.module_utils.mig import (
    create_command,
    creation_order,
    parse_lgi,
    parse_lgip,
    plan_gpu,
    resolve_layout,
)
from ansible_collections.gpuforge.gpu.plugins.module_utils.smi import parse_csv


class _Smi:
    def __init__(self, module: Any) -> None:
        self.module = module
        self.path = module.get_bin_path("nvidia-smi", required=True)

    def run(self, *args: str, allow: tuple[str, ...] = ()) -> str:
        rc, out, err = self.module.run_command([self.path, *args])
        if rc != 0 and not any(text in out + err for text in allow):
            self.module.fail_json(
                msg="nvidia-smi {} failed: {}".format(" ".join(args), (err or out).strip()), rc=rc
            )
        text: str = out + err
        return text

    def modes(self) -> dict[int, str]:
        out = self.run("--query-gpu=index,mig.mode.current", "--format=csv")
        return {int(row["index"]): row["mig.mode.current"] for row in parse_csv(out)}


def _set_mode(module: Any, smi: _Smi, gpus: list[int], enabled: bool) -> list[int]:
    wanted = "Enabled" if enabled else "Disabled"
    todo = [gpu for gpu, mode in smi.modes().items() if gpu in gpus and mode != wanted]
    if not todo or module.check_mode:
        return todo
    selector = ",".join(str(gpu) for gpu in todo)
    smi.run("-i", selector, "-mig", "1" if enabled else "0")
    stuck = [gpu for gpu, mode in smi.modes().items() if gpu in todo and mode != wanted]
    if stuck and module.params["allow_gpu_reset"]:
        smi.run("-i", ",".join(str(gpu) for gpu in stuck), "-r")
        stuck = [gpu for gpu, mode in smi.modes().items() if gpu in todo and mode != wanted]
    if stuck:
        module.fail_json(
            msg=f"MIG mode change is pending on GPU {stuck}: reboot the node or stop GPU processes"
        )
    return todo


def _destroy(smi: _Smi, gpu: int) -> None:
    smi.run("mig", "-i", str(gpu), "-dci", allow=("No compute instance", "Not Found"))
    smi.run("mig", "-i", str(gpu), "-dgi", allow=("No GPU instance", "Not Found"))


def main() -> None:
    """Plan and apply the MIG layout."""
    module = AnsibleModule(
        argument_spec=dict(
            enabled=dict(type="bool", required=True),
            config=dict(type="dict", default={}),
            layout=dict(type="str"),
            gpus=dict(type="list", elements="int", default=[]),
            allow_gpu_reset=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    smi = _Smi(module)
    every = sorted(smi.modes())
    gpus = params["gpus"] or every
    if not params["enabled"]:
        enabled_now = [
            gpu for gpu, mode in smi.modes().items() if gpu in gpus and mode == "Enabled"
        ]
        if enabled_now and not module.check_mode:
            for gpu in enabled_now:
                _destroy(smi, gpu)
        changed = _set_mode(module, smi, gpus, False)
        module.exit_json(
            changed=bool(changed or enabled_now), actions=[], mode_changed=changed, layout={}
        )
    if not params["config"] and not params["layout"]:
        module.fail_json(msg="MIG is enabled but neither config nor layout is given")
    mode_changed = _set_mode(module, smi, gpus, True)
    if mode_changed and module.check_mode:
        module.exit_json(changed=True, actions=[], mode_changed=mode_changed, layout={})
    profiles = parse_lgip(smi.run("mig", "-lgip"))
    existing = parse_lgi(smi.run("mig", "-lgi", allow=("No GPU instance",)))
    actions = []
    layout = {}
    try:
        for gpu in gpus:
            offered = profiles.get(gpu, {})
            config = params["config"] or resolve_layout(params["layout"], offered)
            action = plan_gpu(gpu, config, offered, existing)
            layout[str(gpu)] = creation_order(config, offered)
            if action.destroy or action.create:
                actions.append(action)
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    if not module.check_mode:
        for action in actions:
            if action.destroy:
                _destroy(smi, action.gpu)
            if action.create:
                smi.run(*create_command(action))
    module.exit_json(
        changed=bool(actions or mode_changed),
        mode_changed=mode_changed,
        layout=layout,
        actions=[{"gpu": a.gpu, "destroyed": a.destroy, "created": a.create} for a in actions],
    )


if __name__ == "__main__":
    main()
