"""The node's overlay upper layer: what a node sees and the host does not (keys, stand-ins).

Everything here is written under the node's `upper` folder before its overlay is mounted, so it
appears at the same path inside the node and never on the host.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from gpuforge.fleet._proc import run_host
from gpuforge.fleet._standins import AUDITCTL, MODPROBE, SYSCTL

NODE_CONFIG_DIR = "etc/gpuforge"
SSHD_CONFIG = f"/{NODE_CONFIG_DIR}/sshd_config"
SSHD_PIDFILE = "/run/gpuforge-sshd.pid"

_SSHD_CONFIG_TEXT = f"""# gpuforge simulated node: root by key only, no PAM, quick logins
Port 22
ListenAddress 0.0.0.0
HostKey /{NODE_CONFIG_DIR}/ssh_host_ed25519_key
AuthorizedKeysFile /{NODE_CONFIG_DIR}/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
PrintMotd no
PrintLastLog no
MaxStartups 200
MaxSessions 100
PidFile {SSHD_PIDFILE}
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
"""


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def _stock_root_home(upper: Path) -> None:
    """Give /root only the stock /etc/skel dotfiles (opaque dir: the host's /root stays hidden)."""
    home = upper / "root"
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.setxattr(home, "trusted.overlay.opaque", b"y")
    skel = Path("/etc/skel")
    for entry in skel.iterdir() if skel.is_dir() else []:
        if entry.is_file():
            shutil.copy2(entry, home / entry.name)


def _host_key(upper: Path) -> None:
    key = upper / NODE_CONFIG_DIR / "ssh_host_ed25519_key"
    if key.exists():
        return
    key.parent.mkdir(parents=True, exist_ok=True)
    run_host(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "gpuforge-node", "-f", str(key)],
        what="generating a node host key",
    )


def host_public_key(upper: Path) -> str:
    """The node's host public key line ('ssh-ed25519 AAAA...'), for the cluster's known_hosts."""
    text = (upper / NODE_CONFIG_DIR / "ssh_host_ed25519_key.pub").read_text().split()
    return f"{text[0]} {text[1]}"


def prepare_upper(upper: Path, hostname: str, address: str, client_public_key: str) -> None:
    """Write the node-only files: hostname, sshd config and keys, skel /root, kernel stand-ins."""
    _stock_root_home(upper)
    _host_key(upper)
    _write(upper / NODE_CONFIG_DIR / "sshd_config", _SSHD_CONFIG_TEXT)
    _write(upper / NODE_CONFIG_DIR / "authorized_keys", client_public_key.strip() + "\n", 0o600)
    _write(upper / "etc/hostname", hostname + "\n")
    _write(
        upper / "etc/hosts",
        f"127.0.0.1\tlocalhost\n{address}\t{hostname}\n::1\tlocalhost ip6-localhost\n",
    )
    _write(upper / "usr/sbin/modprobe", MODPROBE, 0o755)
    _write(upper / "usr/sbin/sysctl", SYSCTL, 0o755)
    _write(upper / "usr/sbin/auditctl", AUDITCTL, 0o755)
