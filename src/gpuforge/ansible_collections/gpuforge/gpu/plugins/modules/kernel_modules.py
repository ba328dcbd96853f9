#!/usr/bin/python
# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Ansible module: load the kernel modules of a list that are not loaded, with one modprobe."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kernel_modules
short_description: Load several kernel modules in one task
description:
  - Reads C(/proc/modules) once and loads only the modules of O(name) that are not loaded, with
    one C(modprobe -a). A role's modules then cost one task per host, not one per module.
  - On a kernel without module support (no C(/proc/modules)) there is nothing to load and
    nothing changes.
options:
  name:
    description: Module names (C(-) and C(_) are the same to the kernel).
    type: list
    elements: str
    required: true
extends_documentation_fragment: [ansible.builtin.action_common_attributes]
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
    support: full
author: gpuforge maintainers (@gpuforge)
"""

EXAMPLES = r"""
- name: Load the NVIDIA driver's modules
  gpuforge.gpu.kernel_modules:
    name: [nvidia, nvidia_uvm]
"""

RETURN = r"""
loaded:
  description: Modules this run loaded (or would load in check mode).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.gpu.plugins.module_utils.kernel_state import (
    loaded_modules,
    module_key,
)


def main() -> None:
    """Load what is missing and report it."""
    module = AnsibleModule(
        argument_spec=dict(name=dict(type="list", elements="str", required=True)),
        supports_check_mode=True,
    )
    present = loaded_modules()
    wanted = list(dict.fromkeys(module_key(name) for name in module.params["name"]))
    missing = [] if present is None else [name for name in wanted if name not in present]
    if missing and not module.check_mode:
        modprobe = module.get_bin_path("modprobe", required=True)
        rc, out, err = module.run_command([modprobe, "-a", *missing])
        if rc != 0:
            module.fail_json(msg=f"modprobe -a {' '.join(missing)} failed: {(err or out).strip()}")
    module.exit_json(changed=bool(missing), loaded=missing)


if __name__ == "__main__":
    main()
