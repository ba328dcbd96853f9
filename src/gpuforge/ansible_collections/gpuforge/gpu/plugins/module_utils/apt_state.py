# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""What dpkg has installed, what the repositories offer, and whether a package pin is met.

Used by `pinned_packages`, which installs what is not met; kept apart so any module that reports
package state judges a pin, and an optional package, the same way.
"""

from __future__ import annotations

import os
from typing import Any, Iterable

from ansible_collections.gpuforge.gpu.plugins.module_utils.debversion import matches

_QUERY_FORMAT = "${Package}\\t${Version}\\t${db:Status-Want}\\t${db:Status-Status}\\n"
# Where the age of the package lists is read, in ansible.builtin.apt's order.
_LISTS_STAMPS = ("/var/lib/apt/periodic/update-success-stamp", "/var/lib/apt/lists")


def parse_specs(entries: Iterable[str]) -> list[tuple[str, str]]:
    """[(name, pattern)] of `NAME` or `NAME=PATTERN` entries; ValueError names an empty entry."""
    specs = []
    for entry in entries:
        name, _sep, pattern = entry.partition("=")
        name = name.strip()
        if not name:
            raise ValueError(f"empty package name in {entry!r}; give NAME or NAME=VERSION-PATTERN")
        specs.append((name, pattern.strip()))
    return specs


def installed(module: Any, names: list[str]) -> dict[str, tuple[str, str]]:
    """{name: (version, want)} for the installed packages among `names` (one dpkg-query call)."""
    if not names:
        return {}
    dpkg_query = module.get_bin_path("dpkg-query", required=True)
    _rc, out, _err = module.run_command([dpkg_query, "-W", "-f", _QUERY_FORMAT, "--", *names])
    found = {}
    for line in out.splitlines():
        fields = line.split("\t")
        if len(fields) == 4 and fields[3] == "installed":
            found[fields[0]] = (fields[1], fields[2])
    return found


def known(module: Any, patterns: list[str]) -> list[str]:
    """Packages matching `patterns` that dpkg knows in any state but not-installed: installed,
    half-configured or unpacked (a failed install), or config-files (removed, not purged)."""
    if not patterns:
        return []
    dpkg_query = module.get_bin_path("dpkg-query", required=True)
    _rc, out, _err = module.run_command([dpkg_query, "-W", "-f", _QUERY_FORMAT, "--", *patterns])
    names = []
    for line in out.splitlines():
        fields = line.split("\t")
        if len(fields) == 4 and fields[3] not in ("", "not-installed"):
            names.append(fields[0])
    return sorted(set(names))


def satisfied(present: dict[str, tuple[str, str]], name: str, pattern: str) -> bool:
    """Whether `name` is installed (per `present`) at a version that `pattern` takes."""
    return name in present and matches(present[name][0], pattern)


def held(present: dict[str, tuple[str, str]], name: str) -> bool:
    """Whether `name` is installed and held (`apt-mark hold`)."""
    return present.get(name, ("", ""))[1] == "hold"


def offered(module: Any, names: list[str]) -> dict[str, list[str]]:
    """{name: [versions]} the configured repositories offer for `names` (one apt-cache madison)."""
    if not names:
        return {}
    apt_cache = module.get_bin_path("apt-cache", required=True)
    _rc, out, _err = module.run_command([apt_cache, "madison", "--", *names])
    versions: dict[str, list[str]] = {}
    for line in out.splitlines():
        fields = [field.strip() for field in line.split("|")]
        if len(fields) >= 3 and fields[0] in names:
            versions.setdefault(fields[0], []).append(fields[1])
    return versions


def lists_mtime() -> float:
    """When the package lists were last refreshed (epoch seconds), 0.0 when they never were."""
    for path in _LISTS_STAMPS:
        if os.path.exists(path):
            return os.stat(path).st_mtime
    return 0.0
