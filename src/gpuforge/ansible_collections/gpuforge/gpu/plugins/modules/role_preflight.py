#!/usr/bin/python
# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Documentation of the role_preflight action, which runs on the controller only."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: role_preflight
short_description: Check the inputs of several gpuforge.gpu roles in one task
description:
  - For each role in O(roles), in order, validates the role's C(main) argument spec
    (C(meta/argument_specs.yml)) and evaluates the assertion of its C(tasks/preflight.yml), with
    the variables the role would see when included with C(public=true) after the roles before it,
    their role defaults below the host's variables, their role variables above them, extra
    variables on top.
  - The first role whose inputs fail fails the host, with that role's own message, before any
    role has changed anything. C(site.yml) runs it once per host and then includes each role's
    C(apply) tasks, which are C(main) without the preflight.
  - Returns what each role's state-setting tasks would set, as the role sees it, for
    M(gpuforge.gpu.roles_in_place) to judge on the host in one task. In RV(packages) a role's
    C(_<role>_stack) (the packages its install task installs, optional ones, whether it holds
    them), in RV(units) its C(_<role>_units) (the units it enables, and starts unless
    C(started) is false), and in RV(files) its C(_<role>_files) (the files it writes, with the
    templates rendered from the role's folder) as path, SHA-1 of the content and mode.
  - Returns in RV(skippable) each role's C(_<role>_skip_when_in_place) as a bool, true when the
    role sets nothing but those packages, units and files, so that C(site.yml) can leave it out
    where they are all in place.
  - Runs on the controller; it needs no connection to the host and never reports a change.
options:
  roles:
    description: Names of roles of this collection, in the order a play runs them.
    type: list
    elements: str
    required: true
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
author: gpuforge maintainers
"""

EXAMPLES = r"""
- name: Check the inputs of the roles this play runs
  gpuforge.gpu.role_preflight:
    roles: [nvidia_repo, nvidia_driver, cuda_toolkit]
"""

RETURN = r"""
roles:
  description: The roles whose inputs were checked.
  returned: success
  type: list
  elements: str
packages:
  description: Role name to its C(_<role>_stack) (C(packages), C(optional), C(hold)), templated.
  returned: success
  type: dict
units:
  description: Role name to its C(_<role>_units) (C(names), C(started)), templated.
  returned: success
  type: dict
files:
  description: Role name to its C(_<role>_files), each as C(dest), C(checksum) (SHA-1) and C(mode).
  returned: success
  type: dict
skippable:
  description: Role name to its C(_<role>_skip_when_in_place), as a bool.
  returned: success
  type: dict
role:
  description: The role whose inputs are not usable.
  returned: failure
  type: str
argument_errors:
  description: The argument spec errors of that role.
  returned: when the argument spec failed
  type: list
  elements: str
assertion:
  description: The preflight condition that was false.
  returned: when the preflight assertion failed
  type: str
"""
