#!/usr/bin/python
# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Ansible module: write a role's small configuration files in one task."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: config_files
short_description: Write several small configuration files with their folders in one task
description:
  - Writes each file of O(files) whose content, owner, group or mode differs, atomically, and
    creates missing parent folders. Content comes rendered from the controller, usually with
    the C(ansible.builtin.template) lookup, so a role's files cost one task and one call to the
    host, not a C(ansible.builtin.template) task per file with a stat and a file call each.
  - Reports C(changed) when any file changed; RV(changed_files) names them. Supports check mode
    and C(--diff) (the old and new text of each file that changes).
  - Meant for configuration text (kilobytes); large or binary files belong to
    C(ansible.builtin.copy).
options:
  files:
    description: The files to write.
    type: list
    elements: dict
    required: true
    suboptions:
      dest:
        description: Absolute path of the file.
        type: path
        required: true
      content:
        description: The whole text of the file.
        type: str
        required: true
      mode:
        description: Permissions of the file, as a string of octal digits.
        type: str
        default: "0644"
  owner:
    description: Owner of every file (and of folders this task creates).
    type: str
    default: root
  group:
    description: Group of every file (and of folders this task creates).
    type: str
    default: root
  directory_mode:
    description: Permissions of the parent folders this task creates; existing ones are left alone.
    type: str
    default: "0755"
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
- name: Write /etc/nccl.conf and /etc/profile.d/nccl.sh
  gpuforge.gpu.config_files:
    files:
      - dest: /etc/nccl.conf
        content: "{{ lookup('ansible.builtin.template', 'nccl.conf.j2') }}"
      - dest: /etc/profile.d/nccl.sh
        content: "{{ lookup('ansible.builtin.template', 'nccl.sh.j2') }}"
"""

RETURN = r"""
changed_files:
  description: Paths whose content, owner, group or mode this run changed (or would change).
  returned: always
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.gpu.plugins.module_utils.files import ensure_file


def main() -> None:
    """Write the files that differ; report which."""
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(
                type="list",
                elements="dict",
                required=True,
                options=dict(
                    dest=dict(type="path", required=True),
                    content=dict(type="str", required=True, no_log=False),
                    mode=dict(type="str", default="0644"),
                ),
            ),
            owner=dict(type="str", default="root"),
            group=dict(type="str", default="root"),
            directory_mode=dict(type="str", default="0755"),
        ),
        supports_check_mode=True,
    )
    owner, group = module.params["owner"], module.params["group"]
    changed_files, diffs = [], []
    for entry in module.params["files"]:
        path = entry["dest"]
        if not os.path.isabs(path):
            module.fail_json(msg=f"dest must be an absolute path, got {path}")
        changed, file_diffs = ensure_file(
            module,
            path,
            entry["content"],
            owner,
            group,
            entry["mode"],
            module.params["directory_mode"],
        )
        diffs += file_diffs
        if changed:
            changed_files.append(path)
    result = dict(changed=bool(changed_files), changed_files=changed_files)
    # Ansible shows a diff only when asked (--diff); the module always offers it.
    result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
