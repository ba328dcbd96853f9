#!/usr/bin/python
# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Ansible module: report which roles' packages, units and files need no change, in one task."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: roles_in_place
short_description: Report which roles' packages, services and files need no change
description:
  - Judges, per role, the three kinds of state the collection's roles set with one task each,
    and reports the roles whose task would change nothing; it changes nothing itself.
    C(site.yml) runs it once per host before the roles, and a role in place skips the task,
    which the strategy does in the controller. On a re-run that is one call to the host instead
    of one task per role and kind.
  - O(packages) are read with one C(dpkg-query) for all roles. A role's packages are in place
    when each is installed at a version its pattern accepts (and held, with C(hold)) and each of
    its C(optional) packages is installed or offered by no configured repository, as
    M(gpuforge.gpu.pinned_packages) judges them. The missing optional packages of all roles are
    looked up with one C(apt-cache madison); one no repository has (kernel headers for a kernel
    the repositories do not know, say) does not make its role run its install task every time.
  - O(units) are read with one C(systemctl show) for all roles. A role's units are in place
    when each is loaded and enabled (and running, with C(started)), as
    M(gpuforge.gpu.systemd_units) judges them.
  - O(files) are in place when each file holds content of the given SHA-1 with the given mode,
    owned by O(owner) and O(group), as M(gpuforge.gpu.config_files) judges them.
  - Reports the age of the package lists (RV(apt_lists_age)), read as
    M(gpuforge.gpu.pinned_packages) reads it for its C(cache_valid_time), so a refresh of lists
    that are still fresh can be skipped too.
  - Sets the host fact C(gpuforge_packages_moved) to false; M(gpuforge.gpu.pinned_packages) sets
    it to true when it installs anything, after which every verdict may be stale (APT can move
    another role's packages, restart its services or replace its files) and C(site.yml) drops
    them all.
  - Supports the Debian family (Debian, Ubuntu) for O(packages).
options:
  packages:
    description:
      - Role name to its packages, as M(gpuforge.gpu.pinned_packages) takes them.
      - Each value has C(packages) (C(NAME) or C(NAME=PATTERN)), C(optional) (names) and C(hold)
        (bool); all three may be left out.
    type: dict
    default: {}
  units:
    description:
      - Role name to its units, as M(gpuforge.gpu.systemd_units) takes them.
      - Each value has C(names) (C(.service) is assumed without a suffix) and C(started) (bool,
        default true; false asks only that they are enabled).
    type: dict
    default: {}
  files:
    description:
      - Role name to its files, each a mapping of C(dest) (absolute path), C(checksum) (the
        SHA-1 of the whole content) and C(mode) (octal digits, default C(0644)).
    type: dict
    default: {}
  owner:
    description: Owner every file must have.
    type: str
    default: root
  group:
    description: Group every file must have.
    type: str
    default: root
author: gpuforge maintainers
"""

EXAMPLES = r"""
- name: Find the roles whose packages, services and files are in place
  gpuforge.gpu.roles_in_place:
    packages:
      nccl: {packages: [libnccl2=2.27.7-*+cuda12.9, libnccl-dev=2.27.7-*+cuda12.9], hold: true}
      dcgm: {packages: [datacenter-gpu-manager-4-cuda12]}
    units:
      dcgm: {names: [nvidia-dcgm, dcgm-exporter]}
    files:
      nccl:
        - {dest: /etc/nccl.conf, checksum: 8c4e1c2f0b4a7d1b2f3e4a5b6c7d8e9f0a1b2c3d}
  register: in_place
"""

RETURN = r"""
in_place:
  description: Per kind (C(packages), C(units), C(files)), the names of the roles in place, in the order given.
  returned: always
  type: dict
pending:
  description:
    - Per kind, per role not in place, what is off.
    - C(NAME missing), C(NAME VERSION off PATTERN), C(NAME not held); C(UNIT not found),
      C(UNIT not enabled), C(UNIT not running); C(PATH differs).
  returned: always
  type: dict
apt_lists_age:
  description: Seconds since the package lists were last refreshed; null when they never were or the host has no APT.
  returned: always
  type: float
ansible_facts:
  description: C(gpuforge_packages_moved=false), see the description.
  returned: always
  type: dict
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.gpu.plugins.module_utils import apt_state, files, systemd_state


def _mapping(module, kind, role, value, keys):
    """A role's value under `kind`, failing with the role's name when it is not a mapping of `keys`."""
    if value is None:
        return {}
    if not isinstance(value, dict) or set(value) - set(keys):
        module.fail_json(msg="%s of %s: give a mapping with %s, got %r" % (kind, role, ", ".join(keys), value))
    return value


def _package_group(module, role, value):
    """(specs, optional, hold) of one role's packages."""
    value = _mapping(module, "packages", role, value, ("packages", "optional", "hold"))
    try:
        specs = apt_state.parse_specs([str(entry) for entry in value.get("packages") or []])
    except ValueError as exc:
        module.fail_json(msg="packages of %s: %s" % (role, exc))
    optional = [str(entry) for entry in value.get("optional") or [] if entry]
    return specs, optional, module.boolean(value.get("hold", False))


def _package_offences(present, offered, specs, optional, hold):
    """What keeps a role's packages from being in place; empty when nothing does.

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
    found += ["%s missing" % name for name in optional if name in offered]
    return found


def _judge_packages(module, groups):
    """{role: offences} of the roles whose packages are not in place (one dpkg-query, one madison)."""
    if not groups:
        return {}
    if module.get_bin_path("dpkg-query") is None:
        module.fail_json(msg="roles_in_place judges packages on APT systems (Debian, Ubuntu)")
    groups = {role: _package_group(module, role, value) for role, value in groups.items()}
    names = sorted({name for specs, optional, _ in groups.values() for name in [n for n, _ in specs] + optional})
    present = apt_state.installed(module, names)
    missing_optional = sorted({name for _, optional, _ in groups.values() for name in optional} - set(present))
    offered = apt_state.offered(module, missing_optional)
    judged = {role: _package_offences(present, offered, *group) for role, group in groups.items()}
    return {role: offences for role, offences in judged.items() if offences}


def _judge_units(module, roles):
    """{role: offences} of the roles whose units are not in place (one systemctl show)."""
    wanted = {}
    for role, value in roles.items():
        value = _mapping(module, "units", role, value, ("names", "started"))
        names = [systemd_state.unit_name(str(name)) for name in value.get("names") or [] if name]
        wanted[role] = (names, module.boolean(value.get("started", True)))
    units = sorted({unit for names, _ in wanted.values() for unit in names})
    if not units:
        return {}
    states = systemd_state.states(module, module.get_bin_path("systemctl", required=True), units)
    pending = {}
    for role, (names, started) in wanted.items():
        offences = []
        for unit in names:
            state = states[unit]
            if state["LoadState"] != "loaded":
                offences.append("%s not found" % unit)
            elif not systemd_state.is_enabled(state):
                offences.append("%s not enabled" % unit)
            elif started and not systemd_state.is_running(state):
                offences.append("%s not running" % unit)
        if offences:
            pending[role] = offences
    return pending


def _judge_files(module, roles):
    """{role: offences} of the roles with a file whose content, owner, group or mode differs."""
    owner, group = module.params["owner"], module.params["group"]
    pending = {}
    for role, entries in roles.items():
        if not isinstance(entries, list) or not all(isinstance(entry, dict) and "dest" in entry for entry in entries):
            module.fail_json(msg="files of %s: give a list of mappings with dest, checksum and mode, got %r" % (role, entries))
        offences = []
        for entry in entries:
            path = str(entry["dest"])
            if not os.path.isabs(path):
                module.fail_json(msg="files of %s: dest must be an absolute path, got %s" % (role, path))
            if not files.in_place(path, str(entry.get("checksum", "")), owner, group, str(entry.get("mode", "0644"))):
                offences.append("%s differs" % path)
        if offences:
            pending[role] = offences
    return pending


def main():
    """Judge every role's packages, units and files; report the roles in place, per kind."""
    module = AnsibleModule(
        argument_spec=dict(
            packages=dict(type="dict", default={}),
            units=dict(type="dict", default={}),
            files=dict(type="dict", default={}),
            owner=dict(type="str", default="root"),
            group=dict(type="str", default="root"),
        ),
        supports_check_mode=True,
    )
    pending = dict(
        packages=_judge_packages(module, module.params["packages"]),
        units=_judge_units(module, module.params["units"]),
        files=_judge_files(module, module.params["files"]),
    )
    refreshed = apt_state.lists_mtime()
    module.exit_json(
        changed=False,
        apt_lists_age=time.time() - refreshed if refreshed else None,
        in_place={kind: [role for role in module.params[kind] if role not in pending[kind]] for kind in pending},
        pending=pending,
        ansible_facts={"gpuforge_packages_moved": False},
    )


if __name__ == "__main__":
    main()
