"""On-prem hosts -> Ansible connection vars: SSH user and private key, or a local connection.

The files an onprem spec names (a host's `ssh_key`, `security.known_hosts`) are checked here,
before anything runs: a path that cannot be used is bad input (exit 2) at its field.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from gpuforge.errors import Problem, SpecError
from gpuforge.spec import SpecDocument

__all__ = ["known_hosts_path", "onprem_host_vars"]

_WHERE_FIX = "(absolute, or relative to the spec's folder)"


def _spec_file(doc: SpecDocument, raw: str, field: tuple[str | int, ...], private: bool) -> Path:
    """`raw` resolved against the spec's folder; SpecError at `field` unless a readable file.

    A `private` file (a key) must not be open to other users: ssh refuses such a key.
    """
    path = Path(raw).expanduser()
    if not path.is_absolute():
        path = Path(doc.file).resolve().parent / path
    where = doc.locate(*field)
    name = str(field[-1])
    try:
        mode = path.stat().st_mode
    except OSError as error:
        raise SpecError(
            [
                Problem(
                    where,
                    f"{name} {raw!r} cannot be read ({path}: {error.strerror or error})",
                    f"point `{name}` at an existing file {_WHERE_FIX}",
                )
            ]
        ) from None
    if not stat.S_ISREG(mode) or not os.access(path, os.R_OK):
        raise SpecError(
            [
                Problem(
                    where,
                    f"{name} {raw!r} is not a readable file ({path})",
                    f"point `{name}` at a regular file {_WHERE_FIX}, not a folder or device",
                )
            ]
        )
    if private and mode & 0o077:
        raise SpecError(
            [
                Problem(
                    where,
                    f"{name} {path} can be read by other users, so ssh refuses to use it",
                    f"run `chmod 600 {path}`",
                )
            ]
        )
    return path


def known_hosts_path(doc: SpecDocument) -> Path | None:
    """The checked `security.known_hosts` file of the spec, or None when it names none."""
    raw = doc.spec.security.known_hosts
    return None if raw is None else _spec_file(doc, raw, ("security", "known_hosts"), False)


def onprem_host_vars(doc: SpecDocument) -> dict[str, dict[str, Any]]:
    """Ansible connection vars of every declared host, by host name; checks every `ssh_key`.

    SSH hosts get their user and, when given, their private key; `connection: local` hosts
    run on the controller itself (Ansible's local connection, no SSH).
    """
    found: dict[str, dict[str, Any]] = {}
    for pool_name, pool in doc.spec.pools.items():
        for index, host in enumerate(pool.hosts):
            if host.connection == "local":
                found[host.name] = {"ansible_connection": "local"}
                continue
            values: dict[str, Any] = {"ansible_user": host.user}
            if host.ssh_key is not None:
                field = ("pools", pool_name, "hosts", index, "ssh_key")
                values["ansible_ssh_private_key_file"] = str(
                    _spec_file(doc, host.ssh_key, field, True)
                )
            found[host.name] = values
    return found
