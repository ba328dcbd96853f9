#!/usr/bin/python
# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Ansible module: generate the NVIDIA CDI spec and write it only when it differs."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cdi_spec
short_description: Generate the NVIDIA Container Device Interface spec and write it when it differs
description:
  - Runs C(nvidia-ctk cdi generate), which prints the CDI spec of the node's GPUs, and writes it
    to O(dest) only when its content, owner, group or mode differ, atomically, creating missing
    folders. One task per host where a command and a file task took two.
  - Generating only reads the node, so it runs in check mode too. There, a missing
    C(nvidia-ctk) or a failing generation (the toolkit not installed yet) is reported as a change
    instead of a failure.
  - Supports C(--diff) (the old and new spec).
options:
  dest:
    description: Where the spec is written.
    type: path
    default: /etc/cdi/nvidia.yaml
  mode:
    description: Permissions of the spec, as a string of octal digits.
    type: str
    default: "0644"
extends_documentation_fragment: [ansible.builtin.action_common_attributes]
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
    support: full
author: gpuforge maintainers (@gpuforge)
"""

EXAMPLES = r"""
- name: Generate and write the CDI spec
  gpuforge.gpu.cdi_spec:
    dest: /etc/cdi/nvidia.yaml
"""

RETURN = r"""
dest:
  description: The spec's path.
  returned: always
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.gpu.plugins.module_utils.cdi import generate_spec
from ansible_collections.gpuforge.gpu.plugins.module_utils.files import ensure_file


def main() -> None:
    """Generate the spec; write it when it differs."""
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type="path", default="/etc/cdi/nvidia.yaml"),
            mode=dict(type="str", default="0644"),
        ),
        supports_check_mode=True,
    )
    dest = module.params["dest"]
    if not os.path.isabs(dest):
        module.fail_json(msg=f"dest must be an absolute path, got {dest}")
    text, rc, err = generate_spec(module)
    if text is None:
        if module.check_mode:
            module.exit_json(
                changed=True,
                dest=dest,
                msg=f"no spec yet ({err}); the toolkit is not installed",
            )
        module.fail_json(msg=f"nvidia-ctk cdi generate failed (rc {rc:d}): {err}", dest=dest)
    changed, diffs = ensure_file(module, dest, text, "root", "root", module.params["mode"], "0755")
    result = dict(changed=changed, dest=dest)
    # Ansible shows a diff only when asked (--diff); the module always offers it.
    result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
