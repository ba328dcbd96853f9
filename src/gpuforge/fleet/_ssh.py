"""Per-cluster SSH material: one client key, exact known_hosts, and an ssh_config using both."""

from __future__ import annotations

from pathlib import Path

from gpuforge.fleet._proc import run_host

CLIENT_KEY = "id_ed25519"


def ensure_client_key(ssh_dir: Path) -> Path:
    """Create the cluster's client key once and return its private key path."""
    key = ssh_dir / CLIENT_KEY
    if not key.exists():
        ssh_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        run_host(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "gpuforge-fleet", "-f", str(key)],
            what="generating the cluster's client key",
        )
    return key


def write_known_hosts(ssh_dir: Path, entries: dict[str, str]) -> Path:
    """Rewrite known_hosts with exactly the current nodes' host keys (address -> key line)."""
    path = ssh_dir / "known_hosts"
    lines = [f"{address} {key}\n" for address, key in sorted(entries.items())]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(lines))
    tmp.replace(path)
    return path


def write_ssh_config(ssh_dir: Path) -> Path:
    """Write an ssh_config reaching any node as root with the cluster key, checking host keys."""
    path = ssh_dir / "ssh_config"
    text = (
        "Host *\n"
        "  User root\n"
        f"  IdentityFile {ssh_dir / CLIENT_KEY}\n"
        "  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {ssh_dir / 'known_hosts'}\n"
        "  GlobalKnownHostsFile /dev/null\n"
        "  StrictHostKeyChecking yes\n"
        "  BatchMode yes\n"
        "  ConnectTimeout 10\n"
        "  LogLevel ERROR\n"
    )
    path.write_text(text)
    return path
