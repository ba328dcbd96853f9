"""Starting and stopping one node's processes: the launcher, its namespaces, its init and sshd.

A node runs as `setpriv (drop caps) unshare --net --mount --uts --pid --ipc --fork --kill-child
sh init.sh`. init.sh mounts the overlay and fresh /proc, /dev, /tmp, /run; on a simulated GPU
node it lays the simulated driver's /proc files and /dev nodes over them; it pivots into it,
starts the simulated metadata service (when the node has one) and sshd, and stays as PID 1
waiting on a sleeper, which reaps orphans and outlives sshd. SIGUSR2 makes it exit: the node
powers off, as a cloud reclaims a spot machine.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import time
from pathlib import Path

from gpuforge.errors import FleetError
from gpuforge.fleet._proc import alive, children, kill, pids_in_pid_ns, pids_with_arg, start_time
from gpuforge.fleet._rootfs import SSHD_CONFIG

DROPPED_CAPS = (
    "sys_module",
    "sys_boot",
    "sys_time",
    "sys_rawio",
    "sys_pacct",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "mac_admin",
    "mac_override",
    "audit_control",
)
# Where clouds serve instance metadata; each node serves the simulated one there (fleet.sim).
METADATA_ADDRESS = "169.254.169.254"
METADATA_SERVICE = "/usr/sbin/gpuforge-sim-metadata"
_DEVICES = "null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0"

_INIT_TEMPLATE = """set -eu
R={root}
mount --make-rprivate /
hostname {hostname}
mount -t overlay overlay -o lowerdir=/,upperdir={upper},workdir={work} "$R"
if [ -d "$R"{state_dir} ]; then mount -t tmpfs -o size=4k,mode=700 tmpfs "$R"{state_dir}; fi
mount -t proc -o nosuid,nodev,noexec proc "$R/proc"
mount --bind "$R/proc/sys" "$R/proc/sys"
mount -o remount,bind,ro "$R/proc/sys"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys"
mount -t tmpfs -o mode=755,size=64k,nosuid tmpfs "$R/dev"
for d in {devices}; do
  n=${{d%%:*}}; r=${{d#*:}}; mknod -m 666 "$R/dev/$n" c "${{r%%:*}}" "${{r#*:}}"
done
mkdir "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"
ln -s /proc/self/fd/1 "$R/dev/stdout"
ln -s /proc/self/fd/2 "$R/dev/stderr"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/dev/shm"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/tmp"
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs "$R/run"
mkdir -p "$R/run/sshd" "$R/run/lock" "$R/srv/gpuforge-apt"
# the instance metadata service's link-local address, as clouds serve it; lo comes up with eth0
ip addr add {metadata}/32 dev lo
{apt_mount}
P="$R/var/lib/gpuforge-sim/proc"
if [ -d "$P/driver" ]; then
  GPUFORGE_SIM_ROOT="$R" /usr/bin/python3 -S "$R/usr/lib/gpuforge-sim/simkernel.py" --new-boot
  mount --bind "$P/driver" "$R/proc/driver"
  # a kernel built without module support has no /proc/modules to lay the node's over
  if [ -e "$R/proc/modules" ]; then mount --bind "$P/modules" "$R/proc/modules"; fi
  mount --bind "$P/boot_id" "$R/proc/sys/kernel/random/boot_id"
fi
cd "$R"
mkdir -p .gpuforge-oldroot
pivot_root . .gpuforge-oldroot
cd /
umount -l /.gpuforge-oldroot
rmdir /.gpuforge-oldroot
# the simulated cloud powers the node off (a reclaimed spot machine) with SIGUSR2: init exits
trap 'exit 0' USR2
if [ -x {metadata_service} ]; then {metadata_service} & fi
/usr/sbin/sshd -D -e -f {sshd_config} &
while :; do sleep 86400 & wait; done
"""

_APT_MOUNT = (
    'mount --bind {apt} "$R/srv/gpuforge-apt"\nmount -o remount,bind,ro "$R/srv/gpuforge-apt"'
)


def write_init_script(
    node_dir: Path, hostname: str, state_dir: Path, apt_repo: Path | None
) -> Path:
    """Write the node's init script; its path doubles as the marker that finds our launcher."""
    apt_mount = _APT_MOUNT.format(apt=shlex.quote(str(apt_repo))) if apt_repo else ""
    text = _INIT_TEMPLATE.format(
        root=shlex.quote(str(node_dir / "root")),
        upper=shlex.quote(str(node_dir / "upper")),
        work=shlex.quote(str(node_dir / "work")),
        state_dir=shlex.quote(str(state_dir)),
        hostname=shlex.quote(hostname),
        devices=_DEVICES,
        apt_mount=apt_mount,
        sshd_config=SSHD_CONFIG,
        metadata=METADATA_ADDRESS,
        metadata_service=METADATA_SERVICE,
    )
    for sub in ("upper", "work", "root"):
        (node_dir / sub).mkdir(exist_ok=True)
    script = node_dir / "init.sh"
    script.write_text(text)
    return script


def spawn(script: Path, log: Path) -> tuple[int, int]:
    """Start a node detached from the caller; return the launcher's pid and start time."""
    bounding = ",".join(f"-{cap}" for cap in DROPPED_CAPS)
    argv = [
        "setpriv",
        f"--bounding-set={bounding}",
        "unshare",
        "--net",
        "--mount",
        "--uts",
        "--pid",
        "--ipc",
        "--fork",
        "--kill-child=SIGKILL",
        "--",
        "/bin/sh",
        str(script),
    ]
    wrapper = '"$@" </dev/null >>"$LOG" 2>&1 & echo $!'
    done = subprocess.run(
        ["/bin/sh", "-c", wrapper, "gpuforge-launch", *argv],
        env={**os.environ, "LOG": str(log)},
        capture_output=True,
        text=True,
        check=False,
        start_new_session=True,
    )
    if done.returncode != 0 or not done.stdout.strip().isdigit():
        raise FleetError(f"could not start a node: {done.stderr.strip()}", fix="check `unshare`")
    pid = int(done.stdout.strip())
    return pid, start_time(pid)


def _netns(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return ""


def wait_for_netns(pid: int, log: Path, timeout: float = 10.0) -> None:
    """Wait until the launcher has entered its own network namespace (unshare has run)."""
    host = _netns(os.getpid())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = _netns(pid)
        if current and current != host:
            return
        if not alive(pid):
            break
        time.sleep(0.01)
    raise FleetError(
        f"the node did not start its namespaces: {tail(log)}",
        fix="check that the kernel has network/mount/pid namespaces (CONFIG_NET_NS, CONFIG_PID_NS)",
    )


def init_pid(launcher: int) -> int:
    """Host pid of the node's PID 1 (the launcher's only child), 0 when it is gone."""
    found = children(launcher)
    return found[0] if found else 0


def wait_for_sshd(address: str, launcher: int, log: Path, timeout: float = 20.0) -> None:
    """Wait until the node's sshd answers with its banner on port 22 of the node address."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(launcher):
            break
        try:
            with socket.create_connection((address, 22), timeout=0.5) as conn:
                if conn.recv(8).startswith(b"SSH-"):
                    return
        except OSError:
            time.sleep(0.02)
    raise FleetError(
        f"the node at {address} did not start sshd: {tail(log)}",
        fix="see the node log above, then run the same command again (it restarts the node)",
    )


def tail(log: Path, lines: int = 5) -> str:
    """Last lines of a node's console log, to explain a failed start."""
    try:
        text = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(text[-lines:]) or "(empty log)"


def stop(script: Path, launcher: int, started: int, timeout: float = 10.0) -> None:
    """Kill a node's PID 1 (taking its whole pid namespace along), then its launcher; wait."""
    launchers = set(pids_with_arg(str(script)))
    if alive(launcher, started):
        launchers.add(launcher)
    for pid in launchers:
        child = init_pid(pid)
        if child:
            kill(child, signal.SIGKILL)
    for pid in launchers:
        kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while any(alive(pid) for pid in launchers):
        if time.monotonic() > deadline:
            raise FleetError(
                f"node processes {sorted(launchers)} did not exit",
                fix="kill them by pid, then run the same command again",
            )
        time.sleep(0.01)


def sshd_pids(pid1: int) -> list[int]:
    """Host pids of every sshd process inside the node whose PID 1 is `pid1`."""
    try:
        namespace = os.readlink(f"/proc/{pid1}/ns/pid")
    except OSError:
        return []
    found = []
    for pid in pids_in_pid_ns(namespace):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == "sshd":
                found.append(pid)
        except OSError:
            continue
    return found


def start_sshd(pid1: int) -> None:
    """Start sshd again inside a running node (after the `sshd-killed` fault), daemonised."""
    bounding = ",".join(f"-{cap}" for cap in DROPPED_CAPS)
    argv = ["nsenter", "-t", str(pid1), "-m", "-u", "-i", "-n", "-p", "-r", "-w"]
    argv += ["setpriv", f"--bounding-set={bounding}", "/usr/sbin/sshd", "-f", SSHD_CONFIG]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30)
    if done.returncode != 0:
        raise FleetError(f"could not restart sshd: {done.stderr.strip()}", fix="check the node")
