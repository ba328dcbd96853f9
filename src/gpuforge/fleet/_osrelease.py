"""The distribution a node presents: its os-release (and lsb-release) over the host's userland.

Every node runs the host's Debian 12 userland. A pool whose spec names another Debian-family OS
gets that OS's identity files in its upper layer, so Ansible's facts (distribution, version,
codename) and `/etc/os-release` readers see it; the programs, libraries and `dpkg` stay Debian's.
That is a presentation, not the distribution: docs/guide/local-fleet.md says what it does and
does not give.
"""

from __future__ import annotations

from pathlib import Path

from gpuforge.errors import InputError

HOST_OS = "debian-12"

# The identity files of each presented release (as their cloud images ship them, point release
# of 2026-11). debian-12 is the host's own and needs none.
_OS_RELEASE = {
    "ubuntu-22.04": (
        'PRETTY_NAME="Ubuntu 22.04.5 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\n'
        'VERSION="22.04.5 LTS (Jammy Jellyfish)"\nVERSION_CODENAME=jammy\nID=ubuntu\n'
        'ID_LIKE=debian\nHOME_URL="https://www.ubuntu.com/"\nUBUNTU_CODENAME=jammy\n'
    ),
    "ubuntu-24.04": (
        'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\n'
        'VERSION="24.04.1 LTS (Noble Numbat)"\nVERSION_CODENAME=noble\nID=ubuntu\n'
        'ID_LIKE=debian\nHOME_URL="https://www.ubuntu.com/"\nUBUNTU_CODENAME=noble\n'
        "LOGO=ubuntu-logo\n"
    ),
}
_LSB_RELEASE = {
    "ubuntu-22.04": (
        "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\nDISTRIB_CODENAME=jammy\n"
        'DISTRIB_DESCRIPTION="Ubuntu 22.04.5 LTS"\n'
    ),
    "ubuntu-24.04": (
        "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=24.04\nDISTRIB_CODENAME=noble\n"
        'DISTRIB_DESCRIPTION="Ubuntu 24.04.1 LTS"\n'
    ),
}
PRESENTABLE = (HOST_OS, *_OS_RELEASE)


def check_os(os_name: str) -> None:
    """InputError unless the fleet can present `os_name` on its nodes."""
    if os_name not in PRESENTABLE:
        raise InputError(
            f"the local fleet cannot present {os_name!r}: its nodes run the host's Debian "
            f"userland and present one of {', '.join(PRESENTABLE)}",
            fix=f"use software.os {' or '.join(PRESENTABLE)} for a local pool",
        )


def present_os(upper: Path, os_name: str) -> None:
    """Write the identity files of `os_name` into a node's upper layer (none for the host's)."""
    check_os(os_name)
    if os_name == HOST_OS:
        return
    for dest in ("etc/os-release", "usr/lib/os-release"):
        target = upper / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_OS_RELEASE[os_name])
    (upper / "etc/lsb-release").write_text(_LSB_RELEASE[os_name])
