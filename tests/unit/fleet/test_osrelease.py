"""A node presents its pool's distribution through the identity files Ansible's facts read."""

from __future__ import annotations

from pathlib import Path

import pytest

from gpuforge.errors import InputError
from gpuforge.fleet._osrelease import PRESENTABLE, present_os
from gpuforge.providers import provider_for


def _fields(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {key: value.strip('"') for key, value in pairs}


def test_an_ubuntu_22_04_node_gets_jammy_identity_files(tmp_path: Path) -> None:
    present_os(tmp_path, "ubuntu-22.04")

    os_release = _fields((tmp_path / "etc/os-release").read_text())
    assert (os_release["ID"], os_release["VERSION_ID"], os_release["VERSION_CODENAME"]) == (
        "ubuntu",
        "22.04",
        "jammy",
    )
    assert (tmp_path / "usr/lib/os-release").read_text() == (
        tmp_path / "etc/os-release"
    ).read_text()
    lsb = _fields((tmp_path / "etc/lsb-release").read_text())
    assert (lsb["DISTRIB_ID"], lsb["DISTRIB_RELEASE"]) == ("Ubuntu", "22.04")


def test_a_debian_12_node_keeps_the_hosts_files(tmp_path: Path) -> None:
    present_os(tmp_path, "debian-12")

    assert list(tmp_path.iterdir()) == []


def test_a_distribution_the_fleet_cannot_present_is_refused_with_a_fix(tmp_path: Path) -> None:
    with pytest.raises(InputError) as error:
        present_os(tmp_path, "rhel-9")

    assert "rhel-9" in str(error.value) and "ubuntu-22.04" in error.value.fix


def test_check_refuses_what_the_fleet_cannot_present() -> None:
    """GF-POOL-005 reads the local target's list; it is the list the fleet presents."""
    assert provider_for("local").presented_os == PRESENTABLE
