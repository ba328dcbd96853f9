#!/usr/bin/python
# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Ansible module: report which groups of pinned APT packages are all in place, in one dpkg-query."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: packages_in_place
short_description: Report which groups of pinned APT packages need no change
description:
  - Reads the installed packages of every group with one C(dpkg-query) call and reports the
    groups that M(gpuforge.gpu.pinned_packages) would leave alone; it changes nothing.
  - A group is in place when each of its O(groups[].packages) is installed at a version its
    pattern accepts (and held, with O(groups[].hold)) and each of its O(groups[].optional)
    packages is installed or offered by no configured repository. The missing optional packages
    of all groups are looked up with one C(apt-cache madison), as
    M(gpuforge.gpu.pinned_packages) looks them up; one it could not install (kernel headers no
    repository has for the running kernel, say) does not make its role run its install task on
    every re-run.
  - C(site.yml) runs it once per host before the roles, so a role whose packages are in place
    skips its own install task (one task per role and host fewer on a re-run).
  - Sets the host fact C(gpuforge_packages_moved) to false; M(gpuforge.gpu.pinned_packages) sets
    it to true when it installs anything, after which the verdict may be stale (APT can upgrade
    or remove another role's packages to resolve an install) and C(site.yml) no longer uses it.
  - Supports the Debian family (Debian, Ubuntu).
options:
  groups:
    description:
      - Group name (a role) to its packages, as M(gpuforge.gpu.pinned_packages) takes them.
      - Each value has C(packages) (C(NAME) or C(NAME=PATTERN)), C(optional) (names) and C(hold)
        (bool); all three may be left out.
    type: dict
    required: true
author: gpuforge maintainers
"""

EXAMPLES = r"""
- name: Find the roles whose packages are in place
  gpuforge.gpu.packages_in_place:
    groups:
      nccl: {packages: [libnccl2=2.27.7-*+cuda12.9, libnccl-dev=2.27.7-*+cuda12.9], hold: true}
      dcgm: {packages: [datacenter-gpu-manager-4-cuda12]}
  register: in_place
"""

RETURN = r"""
in_place:
  description: Names of the groups in place, in the order given.
  returned: always
  type: list
  elements: str
ansible_facts:
  description: C(gpuforge_packages_moved=false), see the description.
  returned: always
  type: dict
pending:
  description: Per group not in place, what is off (C(NAME missing), C(NAME VERSION off PATTERN), C(NAME not held)).
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.gpu.plugins.module_utils import apt_state


def _group(module, name, value):
    """(specs, optional, hold) of one group, failing with the group's name on a malformed value."""
    if value is None:
        value = {}
    if not isinstance(value, dict) or set(value) - {"packages", "optional", "hold"}:
        module.fail_json(msg="group %s: give a mapping with packages, optional and hold, got %r" % (name, value))
    try:
        specs = apt_state.parse_specs([str(entry) for entry in value.get("packages") or []])
    except ValueError as exc:
        module.fail_json(msg="group %s: %s" % (name, exc))
    optional = [str(entry) for entry in value.get("optional") or [] if entry]
    return specs, optional, module.boolean(value.get("hold", False))


def _offences(present, offered, specs, optional, hold):
    """What keeps a group from being in place; empty when nothing does.

    `offered` holds the missing optional packages a repository offers (from `apt_state.offered`).
    """
    found = []
    for name, pattern in specs:
        if name not in present:
            found.append("%s missing" % name)
        elif not apt_state.satisfied(present, name, pattern):
            found.append("%s %s off %s" % (name, present[name][0], pattern))
        elif hold and not apt_state.held(present, name):
            found.append("%s not held" % name)
    found += ["%s missing" % name for name in optional if name not in present and name in offered]
    return found


def main():
    """Judge every group against one dpkg-query; report the groups in place."""
    module = AnsibleModule(argument_spec=dict(groups=dict(type="dict", required=True)), supports_check_mode=True)
    if module.get_bin_path("dpkg-query") is None:
        module.fail_json(msg="packages_in_place supports APT systems (Debian, Ubuntu)")
    groups = {name: _group(module, name, value) for name, value in module.params["groups"].items()}
    names = sorted({name for specs, optional, _ in groups.values() for name in [n for n, _ in specs] + optional})
    present = apt_state.installed(module, names)
    missing_optional = sorted({name for _, optional, _ in groups.values() for name in optional} - set(present))
    offered = apt_state.offered(module, missing_optional) if missing_optional else {}
    pending = {}
    for name, (specs, optional, hold) in groups.items():
        offences = _offences(present, offered, specs, optional, hold)
        if offences:
            pending[name] = offences
    module.exit_json(
        changed=False,
        in_place=[name for name in groups if name not in pending],
        pending=pending,
        ansible_facts={"gpuforge_packages_moved": False},
    )


if __name__ == "__main__":
    main()
