"""A throwaway OpenSSH server on loopback, so the engine's SSH paths run over real SSH."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SSHD = Path("/usr/sbin/sshd")


@dataclass(frozen=True)
class LoopbackSshd:
    """A running sshd: its port, the client key that logs in, and its host key line."""

    port: int
    client_key: Path
    known_hosts_line: str
    process: subprocess.Popen[bytes]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def available() -> str:
    """Why a loopback sshd cannot run here, or "" when it can."""
    if not SSHD.exists() or shutil.which("ssh-keygen") is None:
        return "OpenSSH server and client are not installed"
    if os.geteuid() != 0:
        return "sshd needs root for privilege separation"
    return ""


def start(root: Path) -> LoopbackSshd:
    """Start sshd on 127.0.0.1 with keys under `root`; the caller terminates `process`."""
    root.mkdir(parents=True, exist_ok=True)
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    host_key, client_key = root / "host_ed25519", root / "client_ed25519"
    for key in (host_key, client_key):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    (root / "authorized_keys").write_text(Path(f"{client_key}.pub").read_text())
    port = _free_port()
    config = root / "sshd_config"
    config.write_text(
        f"ListenAddress 127.0.0.1\nPort {port}\nHostKey {host_key}\n"
        f"AuthorizedKeysFile {root / 'authorized_keys'}\nPidFile {root / 'sshd.pid'}\n"
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\nStrictModes no\n"
        "UsePAM no\nMaxStartups 64\nMaxSessions 64\n"
    )
    process = subprocess.Popen(
        [str(SSHD), "-D", "-e", "-f", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=(root / "sshd.log").open("wb"),
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None:
                raise RuntimeError((root / "sshd.log").read_text()) from None
            time.sleep(0.1)
    key_type, key_data = Path(f"{host_key}.pub").read_text().split()[:2]
    return LoopbackSshd(port, client_key, f"[127.0.0.1]:{port} {key_type} {key_data}\n", process)
