#!/usr/bin/python
# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Ansible module: install APT packages at pinned versions in one transaction, and hold them."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pinned_packages
short_description: Install APT packages at pinned versions in one transaction and hold them
description:
  - Reads what is installed with one C(dpkg-query) call; when every package is installed at a
    version its pin accepts (and held, with O(hold)), it changes nothing and runs nothing else.
  - Otherwise resolves each pin to the highest version the repositories offer (C(apt-cache
    madison)), installs everything missing or off its pin with a single C(apt-get install)
    (downgrades and held packages allowed, so a lock can move the stack both ways), then holds
    the packages so C(apt upgrade) cannot move them.
  - Held packages that stand in the way (another driver branch's, which the new packages conflict
    with) have their holds released within that same transaction. A simulation that ignores holds
    names the held packages the install must remove or move, the one C(apt-get install) purges
    or moves exactly those (every other hold stays in force, and a purged package leaves no
    C(config-files) entry that would still name the old version), and the holds are applied
    again to whatever of them is still installed. When the install fails, no hold has changed.
  - With O(update_cache), first refreshes the package lists when they are older than
    O(cache_valid_time) (as C(ansible.builtin.apt) does, from the same time stamp).
  - Supports the Debian family (Debian, Ubuntu); other package managers fail with a clear message.
options:
  name:
    description:
      - Packages, each C(NAME) or C(NAME=PATTERN); the pattern is a Debian version where C(*)
        matches anything, e.g. C(580.95.05-*) or C(2.27.7-*+cuda12.9). A pattern without an
        epoch also matches versions with one.
    type: list
    elements: str
    default: []
  optional:
    description:
      - Packages installed only when a repository offers them (kernel headers, for example);
        never held.
    type: list
    elements: str
    default: []
  hold:
    description: Hold the packages of O(name) (C(apt-mark hold)); false leaves their selection.
    type: bool
    default: false
  replaces:
    description:
      - Patterns (C(dpkg-query)'s shell globs) of installed packages that the packages of
        O(name) take the place of, such as another driver branch's. When anything is to be
        installed, every package matching them and not in O(name) that dpkg knows (installed,
        left half-configured by a failed install, or removed with its configuration kept) is
        purged in the same C(apt-get) transaction, held or not. So a branch change never stops at
        APT's C(held packages) refusal, and no trace of the old branch is left listed.
    type: list
    elements: str
    default: []
  install_recommends:
    description: Install recommended packages too.
    type: bool
    default: false
  missing_only:
    description:
      - Install only packages that are not installed at all; leave installed ones at their
        version, whatever the pin (C(site.yml) installs a whole stack on new nodes this way and
        lets each role move versions and notify its handlers).
    type: bool
    default: false
  update_cache:
    description: Refresh the package lists (C(apt-get update)) before installing, when stale.
    type: bool
    default: false
  cache_valid_time:
    description: Lists younger than this many seconds count as fresh; 0 refreshes on every run.
    type: int
    default: 0
author: gpuforge maintainers (@gpuforge)
"""

EXAMPLES = r"""
- name: Install the NCCL packages of the lock and hold them
  gpuforge.gpu.pinned_packages:
    name: [libnccl2=2.27.7-*+cuda12.9, libnccl-dev=2.27.7-*+cuda12.9]
    hold: true
"""

RETURN = r"""
installed:
  description: Installed version per package after the run (missing optional packages are absent).
  returned: always
  type: dict
planned:
  description: The C(NAME=VERSION) or C(NAME) arguments for apt-get (in check mode, not run).
  returned: always
  type: list
  elements: str
removed:
  description: Packages of O(replaces) that were (or would be) removed by this run.
  returned: always
  type: list
  elements: str
held:
  description: Packages that were (or would be) put on hold by this run.
  returned: always
  type: list
  elements: str
released:
  description: Held packages not in O(name) that the transaction purged or moved (holds released).
  returned: always
  type: list
  elements: str
cache_updated:
  description: Whether this run refreshed (or in check mode would refresh) the package lists.
  returned: always
  type: bool
"""

import time
from typing import Any, Iterable

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.gpu.plugins.module_utils import apt_state
from ansible_collections.gpuforge.gpu.plugins.module_utils.debversion import best_match

_APT_ENV = {"DEBIAN_FRONTEND": "noninteractive", "NEEDRESTART_MODE": "a"}
_UPDATE_ATTEMPTS = 3


def _refresh_cache(module: Any) -> bool:
    """`apt-get update` when the lists are older than cache_valid_time; True when they moved."""
    before = apt_state.lists_mtime()
    valid = module.params["cache_valid_time"]
    if valid > 0 and time.time() - before <= valid:
        return False
    if module.check_mode:
        return True
    apt_get = module.get_bin_path("apt-get", required=True)
    for attempt in range(_UPDATE_ATTEMPTS):
        rc, out, err = module.run_command([apt_get, "update", "--quiet"], environ_update=_APT_ENV)
        if rc == 0:
            break
        if attempt + 1 == _UPDATE_ATTEMPTS:
            module.fail_json(
                msg=f"apt-get update failed {_UPDATE_ATTEMPTS:d} times (rc {rc:d}): "
                f"{(err or out)[-2000:]}"
            )
        time.sleep(2**attempt)
    return bool(apt_state.lists_mtime() != before)


def _parse_specs(module: Any, entries: list[str]) -> list[tuple[str, str]]:
    specs: list[tuple[str, str]] = []
    try:
        specs = apt_state.parse_specs(entries)
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    return specs


def _plan(
    module: Any,
    specs: list[tuple[str, str]],
    optional: list[str],
    installed: dict[str, tuple[str, str]],
) -> list[str]:
    """apt-get arguments for every package missing or off its pin; fails when a pin has no match."""
    # missing_only: any installed version will do, as for a package without a pin.
    any_version = module.params["missing_only"]
    wanted = [
        (name, pattern)
        for name, pattern in specs
        if not apt_state.satisfied(installed, name, "" if any_version else pattern)
    ]
    maybe = [name for name in optional if name not in installed]
    if not wanted and not maybe:
        return []
    if module.check_mode:
        # Reading what the repositories offer is safe in check mode; the versions of a new
        # source may not be known yet, so required packages are reported as pinned.
        offered = apt_state.offered(module, maybe)
        planned = [f"{name}={pattern}" if pattern else name for name, pattern in wanted]
        return planned + [name for name in maybe if name in offered]
    offered = apt_state.offered(module, [name for name, _pattern in wanted] + maybe)
    plan = []
    for name, pattern in wanted:
        versions = offered.get(name, [])
        if not versions:
            module.fail_json(
                msg=f"no repository offers {name}; refresh the package cache (nvidia_repo role) "
                "or check the name"
            )
        if not pattern:
            plan.append(name)
            continue
        version = best_match(versions, pattern)
        if version is None:
            module.fail_json(
                msg="no version of {} matches {}; the repositories offer {}".format(
                    name, pattern, ", ".join(versions)
                )
            )
        plan.append(f"{name}={version}")
    return plan + [name for name in maybe if name in offered]


def _replaced(module: Any, names: list[str]) -> list[str]:
    """Packages dpkg knows that match O(replaces) and are not among `names`."""
    patterns = [p for p in module.params["replaces"] if p]
    return [name for name in apt_state.known(module, patterns) if name not in names]


def _install_argv(module: Any) -> list[str]:
    apt_get = module.get_bin_path("apt-get", required=True)
    argv = [
        apt_get,
        "install",
        "--yes",
        "--quiet",
        "--allow-downgrades",
        "--allow-change-held-packages",
    ]
    argv += ["-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"]
    if not module.params["install_recommends"]:
        argv.append("--no-install-recommends")
    return argv


def _held_in_the_way(module: Any, plan: list[str], ours: list[str]) -> list[str]:
    """apt-get arguments that remove (`NAME-`, purged) or move (`NAME=VERSION`) the held packages
    other than `ours` that `plan` needs out of its way: apt's resolver never touches a held
    package on its own, so a simulation that ignores holds says which. Empty when none is, or
    when the simulation fails (the real install then reports apt's own error)."""
    argv = [*_install_argv(module), "--simulate", "-o", "APT::Ignore-Hold=true", *plan]
    rc, out, _err = module.run_command(argv, environ_update=_APT_ENV)
    if rc != 0:
        return []
    touched: dict[str, str] = {}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "Remv":
            touched[fields[1]] = f"{fields[1]}-"
        elif len(fields) >= 3 and fields[0] == "Inst":
            version = next((f[1:] for f in fields[2:] if f.startswith("(")), "")
            touched[fields[1]] = f"{fields[1]}={version}" if version else fields[1]
    names = [name for name in touched if name not in ours]
    present = apt_state.installed(module, names)
    return [touched[name] for name in names if apt_state.held(present, name)]


def _apt_install(module: Any, plan: list[str], purge: list[str]) -> None:
    """One apt-get transaction: install `plan`, and remove (purged) each package of `purge`."""
    argv = _install_argv(module)
    removals = [f"{name}-" for name in purge if f"{name}-" not in plan]
    if removals or any(entry.endswith("-") for entry in plan):
        # What the transaction removes leaves no `config-files` entry naming the old version.
        argv.append("--purge")
    rc, out, err = module.run_command([*argv, *plan, *removals], environ_update=_APT_ENV)
    if rc != 0:
        module.fail_json(
            msg=f"apt-get install {' '.join(plan)} failed (rc {rc:d}): {_apt_errors(out, err)}",
            planned=plan,
            stdout=out[-4000:],
            stderr=err[-4000:],
        )


def _apt_errors(out: str, err: str) -> str:
    """The lines of apt-get's and dpkg's output that say what went wrong (dpkg's are on stdout)."""
    lines = [line.strip() for line in (out + "\n" + err).splitlines()]
    wanted = [line for line in lines if "error" in line.lower() or line.startswith(("E:", "dpkg:"))]
    return " | ".join(wanted or [line for line in lines if line][-5:])[-2000:]


def _listing(
    installed: dict[str, tuple[str, str]], held: list[str], planned: Iterable[str] = ()
) -> str:
    """`name version [hold]` lines, the planned versions instead of the installed ones."""
    versions = {name: version for name, (version, _want) in installed.items()}
    versions.update(entry.partition("=")[::2] for entry in planned)
    holds = {name for name in installed if apt_state.held(installed, name)} | set(held)
    return "".join(
        "{} {}{}\n".format(name, versions[name] or "(newest)", " hold" if name in holds else "")
        for name in sorted(versions)
    )


def main() -> None:
    """Install what is missing or off its pin, then hold; no-op when all is in place."""
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="list", elements="str", default=[]),
            optional=dict(type="list", elements="str", default=[]),
            replaces=dict(type="list", elements="str", default=[]),
            hold=dict(type="bool", default=False),
            install_recommends=dict(type="bool", default=False),
            missing_only=dict(type="bool", default=False),
            update_cache=dict(type="bool", default=False),
            cache_valid_time=dict(type="int", default=0),
        ),
        supports_check_mode=True,
    )
    if module.get_bin_path("dpkg-query") is None:
        module.fail_json(
            msg="pinned_packages supports APT systems (Debian, Ubuntu); "
            "use ansible.builtin.dnf elsewhere"
        )
    cache_updated = _refresh_cache(module) if module.params["update_cache"] else False
    specs = _parse_specs(module, module.params["name"])
    optional = [name for name in module.params["optional"] if name]
    names = [name for name, _pattern in specs]
    installed = before = apt_state.installed(module, names + optional)
    plan = _plan(module, specs, optional, installed)
    released: list[str] = []
    removed = _replaced(module, names) if plan else []
    if plan and not module.check_mode:
        released = _held_in_the_way(module, plan, names)
        _apt_install(module, plan + released, removed)
        installed = apt_state.installed(module, names + optional)
    # A released package the install moved rather than removed is held again.
    moved = [entry.partition("=")[0] for entry in released if not entry.endswith("-")]
    kept = apt_state.installed(module, moved)
    to_hold = [name for name in moved if name in kept and not apt_state.held(kept, name)]
    if module.params["hold"]:
        to_hold += [name for name in names if not apt_state.held(installed, name)]
    if to_hold and not module.check_mode:
        apt_mark = module.get_bin_path("apt-mark", required=True)
        rc, out, err = module.run_command(
            [apt_mark, "hold", "--", *to_hold], environ_update=_APT_ENV
        )
        if rc != 0:
            module.fail_json(msg=f"apt-mark hold failed (rc {rc:d}): {err or out}", planned=plan)
    changed = bool(plan or to_hold or cache_updated)
    diff = {"before": _listing(before, []), "after": _listing(installed, to_hold, plan)}
    module.exit_json(
        changed=changed,
        installed={name: version for name, (version, _want) in installed.items()},
        planned=plan,
        removed=removed,
        held=to_hold,
        released=sorted(entry.rstrip("-").partition("=")[0] for entry in released),
        cache_updated=cache_updated,
        diff=diff if plan or to_hold else {},
    )


if __name__ == "__main__":
    main()
