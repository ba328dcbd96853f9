"""The Fleet: start, stop, list, reach and break simulated nodes; safe to call concurrently.

Every change happens under the state directory's lock and is recorded before it is made; the
slow part of a start (waiting for the namespaces and sshd) runs outside the lock so that many
nodes start in parallel. Each call first reaps what an interrupted call left behind.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

from gpuforge.errors import FleetError, InputError
from gpuforge.fleet import _launch, _net, _simlink, _ssh
from gpuforge.fleet._model import ClusterOwner, Node, NodeSpec, NodeState
from gpuforge.fleet._naming import (
    FIRST_NODE_HOST,
    bridge_name,
    check_name,
    default_subnet,
    host_number,
    node_mac,
    pool_node_name,
    veth_names,
)
from gpuforge.fleet._osrelease import check_os, present_os
from gpuforge.fleet._preflight import check_host
from gpuforge.fleet._proc import alive, start_time
from gpuforge.fleet._rootfs import host_public_key, prepare_upper
from gpuforge.fleet._state import (
    ClusterRecord,
    NodeRecord,
    StateStore,
    resolve_cache_dir,
    resolve_state_dir,
)

_STARTING, _RUNNING, _STOPPED, _FAILED = "starting", "running", "stopped", "failed"
# The simulated fault after which a node powers itself off, as a cloud reclaims a spot machine.
SPOT_INTERRUPTION = "spot-interruption"
# The simulator's compute process (fleet/sim/tools/gpu_app.py) and where it registers.
GPU_APP = ("/usr/bin/python3", "-S", "/usr/lib/gpuforge-sim/gpu_app.py")
GPU_APP_DIR = "/var/lib/gpuforge-sim/gpu-apps"


class PartialStartError(FleetError):
    """Some nodes of a start failed while others run (exit 3, the CLI's partial failure)."""

    exit_code = 3

    def __init__(self, message: str, fix: str, nodes: list[Node]) -> None:
        super().__init__(message, fix)
        self.nodes = nodes


class ClusterOwnedError(InputError):
    """A cluster's nodes belong to another deployment (a name clash): exit 2, nothing touched."""

    def __init__(self, record: ClusterRecord, owner: ClusterOwner | None) -> None:
        creator = record.deployment or f"the deployment with cluster id {record.cluster_id}"
        asking = owner.deployment if owner is not None and owner.deployment else "this deployment"
        super().__init__(
            f"cluster {record.name} on this machine belongs to {creator}; "
            f"{asking} did not create it, so its nodes are not handed over or removed",
            fix=f"give this spec another `name:` (a cluster name is unique per machine), or run "
            f"`gpuforge up`/`destroy` from {creator}; if that folder is gone, remove its nodes "
            f"with `gpuforge fleet down --cluster {record.name}`",
        )


def _foreign(record: ClusterRecord, owner: ClusterOwner | None) -> bool:
    """Whether `owner` may not use the recorded cluster: it has an owner, and another one."""
    if not record.cluster_id:
        return False
    return owner is None or owner.cluster_id != record.cluster_id


def _owned(record: ClusterRecord, owner: ClusterOwner) -> ClusterRecord:
    return replace(record, cluster_id=owner.cluster_id, deployment=owner.deployment)


class Fleet:
    """The local simulated fleet kept in one state directory (default /var/lib/gpuforge/fleet)."""

    def __init__(self, state_dir: Path | None = None, *, seed_hardware: bool = True) -> None:
        self.state_dir = resolve_state_dir(state_dir)
        self.store = StateStore(self.state_dir)
        self.seed_hardware = seed_hardware
        self._me = (os.getpid(), start_time(os.getpid()))
        self._apt: Path | None = None

    # ---- public lifecycle -------------------------------------------------------------

    def node_up(self, spec: NodeSpec) -> Node:
        """Start one node as specified, or return it unchanged when it already runs (idempotent)."""
        check_host()
        check_name("cluster", spec.cluster)
        check_name("node", spec.name)
        check_name("pool", spec.pool)
        check_os(spec.os)
        if self.seed_hardware:
            _simlink.check_profile(spec.profile)
        self._apt_repo()
        with self.store.lock():
            self._reap_locked()
            record = self._begin(spec)
        if record.state == _RUNNING:
            return self._node(record)
        return self._finish([record])[0]

    def up(
        self,
        cluster: str,
        pool: str,
        profile: str,
        count: int,
        subnet: IPv4Network | None = None,
        os_name: str = "debian-12",
    ) -> list[Node]:
        """Make sure nodes <cluster>-<pool>-0..count-1 run, presenting `os_name`; start the missing
        ones in parallel."""
        check_host()
        check_name("cluster", cluster)
        check_name("pool", pool)
        check_os(os_name)
        if count < 1:
            raise InputError(f"--count must be at least 1, not {count}", fix="pass --count 1")
        if self.seed_hardware:
            _simlink.check_profile(profile)
        self._apt_repo()
        with self.store.lock():
            self._reap_locked()
            net = self._cluster_subnet(cluster, subnet)
            records = [
                self._begin(self._pool_spec(cluster, pool, profile, index, net, os_name))
                for index in range(count)
            ]
        starting = [r for r in records if r.state != _RUNNING]
        started = {n.name: n for n in self._finish(starting)} if starting else {}
        return [started.get(r.name) or self._node(r) for r in records]

    def node_down(self, cluster: str, name: str, owner: ClusterOwner | None = None) -> bool:
        """Stop and remove one node and all of it; True when there was something to remove.

        With an `owner` (a deployment's Terraform), a cluster another deployment created is
        refused (ClusterOwnedError); without one (by hand) the node is removed.
        """
        check_host()
        with self.store.lock():
            self._reap_locked()
            cluster_record = self.store.get_cluster(cluster)
            if owner is not None and cluster_record is not None:
                self._own(cluster_record, owner, adopt=False)
            record = self.store.get_node(cluster, name)
            if record is None:
                return False
            self._remove_node(record)
            self._drop_cluster_if_empty(cluster)
        return True

    def down(self, cluster: str | None = None) -> list[str]:
        """Remove every node of one cluster (or of all clusters) and their bridges; list them."""
        check_host()
        removed: list[str] = []
        with self.store.lock():
            self._reap_locked()
            for record in self.store.clusters():
                if cluster is not None and record.name != cluster:
                    continue
                for node in self.store.nodes(record.name):
                    self._remove_node(node)
                    removed.append(node.name)
                _net.delete_link(record.bridge)
                self.store.remove_cluster(record.name)
        return removed

    def check_owner(self, cluster: str, owner: ClusterOwner | None) -> None:
        """Raise ClusterOwnedError unless `owner` may use `cluster`: it is not recorded, has no
        owner yet (started by hand or before ids existed), or `owner` created it."""
        record = self.store.get_cluster(cluster)
        if record is not None:
            self._own(record, owner, adopt=False)

    def claim(self, cluster: str, owner: ClusterOwner) -> None:
        """Check `owner` may use `cluster` (as check_owner) and record it as the owner of a
        recorded cluster that has none yet, so no other deployment can take its nodes."""
        with self.store.lock():
            record = self.store.get_cluster(cluster)
            if record is not None:
                self._own(record, owner, adopt=True)

    def clusters(self) -> list[str]:
        """Names of every recorded cluster, sorted."""
        return [record.name for record in self.store.clusters()]

    def status(self, cluster: str | None = None) -> list[Node]:
        """Every recorded node with its live state (running, stopped or dead)."""
        with self.store.lock():
            if os.geteuid() == 0:
                self._reap_locked()
            return [
                self._node(node)
                for record in self.store.clusters()
                if cluster is None or record.name == cluster
                for node in self.store.nodes(record.name)
            ]

    def reclaimed(self, cluster: str) -> list[Node]:
        """Nodes of `cluster` that a spot interruption powered off (the cloud took them back)."""
        return [
            node
            for node in self.status(cluster)
            if SPOT_INTERRUPTION in node.faults and node.state != NodeState.RUNNING
        ]

    def find(self, name: str, cluster: str | None = None) -> Node:
        """The node called `name` (in `cluster` when given); InputError when absent or ambiguous."""
        matches = [n for n in self.status(cluster) if n.name == name]
        if not matches:
            raise InputError(f"no fleet node named {name!r}", fix="see `gpuforge fleet status`")
        if len(matches) > 1:
            raise InputError(f"several clusters have a node {name!r}", fix="pass --cluster")
        return matches[0]

    # ---- reaching nodes ---------------------------------------------------------------

    def client_key_path(self, cluster: str) -> Path:
        """Private key that logs in as root on every node of the cluster (for Ansible)."""
        return self._ssh_dir(cluster) / _ssh.CLIENT_KEY

    def known_hosts_path(self, cluster: str) -> Path:
        """known_hosts with the exact host key of every node of the cluster."""
        return self._ssh_dir(cluster) / "known_hosts"

    def ssh_config_path(self, cluster: str) -> Path:
        """ssh_config (user, key, known_hosts) usable as `ssh -F` or in ansible_ssh_common_args."""
        return self._ssh_dir(cluster) / "ssh_config"

    def ssh_command(self, node: Node) -> list[str]:
        """The ssh command line that reaches `node` as root (append a command to run one)."""
        return ["ssh", "-F", str(self.ssh_config_path(node.cluster)), node.address]

    def run(
        self, node: Node, argv: list[str], timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run one command on a node over real SSH; return its output and exit code."""
        command = [*self.ssh_command(node), "--", shlex.join(argv)]
        try:
            return subprocess.run(
                command, capture_output=True, text=True, check=False, timeout=timeout
            )
        except subprocess.TimeoutExpired as error:
            raise FleetError(
                f"{shlex.join(argv)} on {node.name} ran over {timeout:.0f}s",
                fix="check the node with `gpuforge fleet ssh`",
            ) from error

    # ---- faults -----------------------------------------------------------------------

    def inject(self, node: Node, fault: str, **params: Any) -> None:
        """Break a node on purpose: process faults here, hardware faults via the simulator."""
        check_host()
        with self.store.lock():
            record = self._record(node)
            if fault == "powered-off":
                self._stop_processes(record)
                record.state = _STOPPED
            elif fault == "sshd-killed":
                pid1 = self._pid1(record)
                if not pid1:
                    raise FleetError(f"{node.name} is not running", fix="`gpuforge fleet heal`")
                for pid in _launch.sshd_pids(pid1):
                    os.kill(pid, 9)
            elif fault == "gpu-process":
                self._start_gpu_process(node, params)
            else:
                _simlink.inject_hardware(self._visible_root(record), fault, params)
            if fault not in record.faults:
                record.faults.append(fault)
            self.store.put_node(record)

    def heal(self, node: Node) -> Node:
        """Clear every fault of a node: power it on, restart sshd, heal the simulated hardware."""
        check_host()
        with self.store.lock():
            record = self._record(node)
            _simlink.heal_hardware(self._visible_root(record))
            pid1 = self._pid1(record)
            if pid1 and not _launch.sshd_pids(pid1):
                _launch.start_sshd(pid1)
            if pid1 and "gpu-process" in record.faults:
                self.run(node, [*GPU_APP, "--stop"])
            record.faults = []
            if not pid1:
                record = self._start(record, fresh=False)
            self.store.put_node(record)
        if record.state == _STARTING:
            return self._finish([record])[0]
        return self._node(record)

    def _start_gpu_process(self, node: Node, params: dict[str, Any]) -> None:
        """Start a compute process on a simulated GPU of `node`, as `user`, named `name`; return
        once nvidia-smi lists it."""
        name = str(params.get("name") or "xmrig")
        user = str(params.get("user") or "nobody")
        for what, text in (("process name", name), ("user", user)):
            if not re.fullmatch(r"[A-Za-z0-9_.-]{1,32}", text):
                raise InputError(
                    f"{text!r} is not a usable {what}",
                    fix="use 1-32 letters, digits, '_', '.' and '-'",
                )
        app = [str(params.get("gpu", 0)), str(params.get("memory", 2048)), "100"]
        launch = shlex.join(["exec", "-a", name, *GPU_APP, *app])
        count = f"$(ls {GPU_APP_DIR}/*.json 2>/dev/null | wc -l)"
        script = (
            f'install -d -m 1777 {GPU_APP_DIR} && before="{count}" && '
            f"setsid -f runuser -u {shlex.quote(user)} -- bash -c {shlex.quote(launch)} "
            "</dev/null >/dev/null 2>&1 && for _ in $(seq 200); do "
            f'[ "{count}" -gt "$before" ] && exit 0; sleep 0.05; done; exit 1'
        )
        done = self.run(node, ["sh", "-c", script])
        if done.returncode != 0:
            raise FleetError(
                f"the GPU process {name} did not start on {node.name}: {done.stderr.strip()}",
                fix=f"check that user {user} exists on the node (`gpuforge fleet ssh`)",
            )

    # ---- internals --------------------------------------------------------------------

    def _apt_repo(self) -> Path | None:
        """The stand-in APT repository, built (or found current) once per Fleet object; called
        before the state lock, as the simulator locks its own build."""
        if self._apt is None and self.seed_hardware:
            self._apt = _simlink.apt_repo(resolve_cache_dir() / "apt")
        return self._apt

    def _ssh_dir(self, cluster: str) -> Path:
        return self.store.cluster_dir(cluster) / "ssh"

    def _record(self, node: Node) -> NodeRecord:
        record = self.store.get_node(node.cluster, node.name)
        if record is None:
            raise InputError(
                f"no fleet node named {node.name!r}", fix="see `gpuforge fleet status`"
            )
        return record

    def _pid1(self, record: NodeRecord) -> int:
        if record.state == _STOPPED or not alive(record.launcher_pid, record.launcher_start):
            return 0
        return _launch.init_pid(record.launcher_pid)

    def _visible_root(self, record: NodeRecord) -> Path:
        pid1 = self._pid1(record)
        if pid1:
            return Path(f"/proc/{pid1}/root")
        return self.store.node_dir(record.cluster, record.name) / "upper"

    def _node(self, record: NodeRecord) -> Node:
        pid1 = self._pid1(record)
        if record.state == _STOPPED:
            state = NodeState.STOPPED
        elif record.state == _RUNNING and pid1:
            state = NodeState.RUNNING
        else:
            state = NodeState.DEAD
        return Node(
            name=record.name,
            address=record.address,
            cluster=record.cluster,
            pool=record.pool,
            profile=record.profile,
            state=state,
            pid=pid1,
            faults=tuple(record.faults),
        )

    def _cluster_subnet(
        self, cluster: str, subnet: IPv4Network | None, owner: ClusterOwner | None = None
    ) -> IPv4Network:
        """Record the cluster (subnet, bridge, owner) if new; check a given subnet matches it.

        An existing cluster is refused to an `owner` that did not create it; one without an
        owner is claimed by the first deployment that asks.
        """
        existing = self.store.get_cluster(cluster)
        if existing is not None:
            if owner is not None:
                self._own(existing, owner, adopt=True)
            if subnet is not None and IPv4Network(existing.subnet) != subnet:
                raise InputError(
                    f"cluster {cluster} already uses subnet {existing.subnet}, not {subnet}",
                    fix=f"pass --subnet {existing.subnet} or bring the cluster down first",
                )
            return IPv4Network(existing.subnet)
        others = {IPv4Network(c.subnet): c.name for c in self.store.clusters()}
        if subnet is None:
            subnet = default_subnet(cluster, others)
        elif subnet in others:
            raise InputError(
                f"subnet {subnet} is already used by cluster {others[subnet]}",
                fix="pick another /24 or bring that cluster down",
            )
        record = ClusterRecord(cluster, str(subnet), bridge_name(cluster))
        self.store.put_cluster(record if owner is None else _owned(record, owner))
        return subnet

    def _own(self, record: ClusterRecord, owner: ClusterOwner | None, *, adopt: bool) -> None:
        """Refuse `owner` a cluster another deployment created; with `adopt` (under the lock),
        record `owner` on a cluster that has none yet."""
        if _foreign(record, owner):
            raise ClusterOwnedError(record, owner)
        if adopt and owner is not None and not record.cluster_id:
            self.store.put_cluster(_owned(record, owner))

    def _pool_spec(
        self,
        cluster: str,
        pool: str,
        profile: str,
        index: int,
        subnet: IPv4Network,
        os_name: str,
    ) -> NodeSpec:
        name = pool_node_name(cluster, pool, index)
        existing = self.store.get_node(cluster, name)
        if existing is not None:
            address = IPv4Address(existing.address)
            return NodeSpec(cluster, name, address, subnet, profile, pool, os=os_name)
        used = {IPv4Address(n.address) for n in self.store.nodes(cluster)}
        for host in range(FIRST_NODE_HOST, 255):
            if subnet[host] not in used:
                return NodeSpec(cluster, name, subnet[host], subnet, profile, pool, os=os_name)
        raise InputError(f"cluster {cluster} has no free address", fix="use fewer nodes")

    def _begin(self, spec: NodeSpec) -> NodeRecord:
        """Under the lock: record the node and start its processes, or return it when it runs."""
        self._cluster_subnet(spec.cluster, spec.subnet, spec.owner)
        existing = self.store.get_node(spec.cluster, spec.name)
        if existing is not None:
            wanted = (str(spec.address), spec.profile, spec.pool, spec.os)
            if (existing.address, existing.profile, existing.pool, existing.os) != wanted:
                raise InputError(
                    f"node {spec.name} already exists as {existing.address} "
                    f"({existing.profile}, pool {existing.pool}, {existing.os})",
                    fix=f"run `gpuforge fleet node-down --cluster {spec.cluster} "
                    f"--name {spec.name}` first, or keep its settings",
                )
            if existing.state == _RUNNING and self._pid1(existing):
                return existing
            self._stop_processes(existing)
            return self._start(existing, fresh=False)
        taken = {n.address: n.name for n in self.store.nodes(spec.cluster)}
        if str(spec.address) in taken:
            raise InputError(
                f"address {spec.address} is already used by node {taken[str(spec.address)]}",
                fix="pick another address of the subnet",
            )
        record = NodeRecord(
            name=spec.name,
            cluster=spec.cluster,
            pool=spec.pool,
            profile=spec.profile,
            address=str(spec.address),
            subnet=str(spec.subnet),
            os=spec.os,
        )
        self.store.put_node(record)
        try:
            return self._start(record, fresh=True)
        except BaseException:
            self._remove_node(record)
            raise

    def _start(self, record: NodeRecord, *, fresh: bool) -> NodeRecord:
        """Under the lock: write the node's files (once), create its veth, launch it."""
        cluster = self.store.get_cluster(record.cluster)
        assert cluster is not None
        subnet = IPv4Network(cluster.subnet)
        node_dir = self.store.node_dir(record.cluster, record.name)
        upper = node_dir / "upper"
        ssh_dir = self._ssh_dir(record.cluster)
        key = _ssh.ensure_client_key(ssh_dir)
        _ssh.write_ssh_config(ssh_dir)
        if fresh:
            upper.mkdir(parents=True, exist_ok=True)
            client_pub = key.with_suffix(".pub").read_text()
            prepare_upper(upper, record.name, record.address, client_pub)
            present_os(upper, record.os)
            if self.seed_hardware:
                index = host_number(IPv4Address(record.address), subnet)
                library_cache = self.store.tool_library_dir()
                _simlink.seed(upper, record.profile, record.name, index, library_cache)
        self._write_known_hosts(record.cluster)
        script = _launch.write_init_script(node_dir, record.name, self.state_dir, self._apt_repo())
        record.state = _STARTING
        record.launcher_pid, record.launcher_start = 0, 0
        record.owner_pid, record.owner_start = self._me
        self.store.put_node(record)
        _net.ensure_bridge(cluster.bridge, subnet)
        host_side, node_side = veth_names(record.cluster, record.name)
        mac = node_mac(record.cluster, record.name)
        _net.create_veth(host_side, node_side, cluster.bridge, mac)
        record.launcher_pid, record.launcher_start = _launch.spawn(script, node_dir / "console.log")
        self.store.put_node(record)
        return record

    def _finish(self, records: list[NodeRecord]) -> list[Node]:
        """Outside the lock: wire each launched node into the bridge and wait for its sshd."""
        workers = min(16, len(records))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            outcomes = list(pool.map(self._finish_one, records))
        failed = [r for r, error in outcomes if error is not None]
        with self.store.lock():
            for record, error in outcomes:
                current = self.store.get_node(record.cluster, record.name)
                if current is None or current.launcher_pid != record.launcher_pid:
                    continue
                current.state = _RUNNING if error is None else _FAILED
                if error is not None:
                    self._stop_processes(current)
                self.store.put_node(current)
            nodes = [self._node(self.store.get_node(r.cluster, r.name) or r) for r in records]
        if failed:
            first = next(e for _, e in outcomes if e is not None)
            assert first is not None
            names = ", ".join(r.name for r in failed)
            message = f"nodes failed to start ({names}): {first.message}"
            if len(failed) < len(records):
                raise PartialStartError(message, first.fix, nodes)
            raise FleetError(message, fix=first.fix)
        return nodes

    def _finish_one(self, record: NodeRecord) -> tuple[NodeRecord, FleetError | None]:
        log = self.store.node_dir(record.cluster, record.name) / "console.log"
        subnet = IPv4Network(record.subnet)
        try:
            _launch.wait_for_netns(record.launcher_pid, log)
            _, node_side = veth_names(record.cluster, record.name)
            _net.move_into_node(node_side, record.launcher_pid, record.address, subnet.prefixlen)
            _launch.wait_for_sshd(record.address, record.launcher_pid, log)
        except FleetError as error:
            return record, error
        return record, None

    def _write_known_hosts(self, cluster: str) -> None:
        entries = {}
        for node in self.store.nodes(cluster):
            upper = self.store.node_dir(cluster, node.name) / "upper"
            try:
                entries[node.address] = host_public_key(upper)
            except (OSError, IndexError):
                continue
        _ssh.write_known_hosts(self._ssh_dir(cluster), entries)

    def _stop_processes(self, record: NodeRecord) -> None:
        script = self.store.node_dir(record.cluster, record.name) / "init.sh"
        _launch.stop(script, record.launcher_pid, record.launcher_start)
        host_side, node_side = veth_names(record.cluster, record.name)
        _net.delete_link(host_side)
        _net.delete_link(node_side)

    def _remove_node(self, record: NodeRecord) -> None:
        self._stop_processes(record)
        self.store.remove_node(record.cluster, record.name)
        if self.store.get_cluster(record.cluster) is not None:
            self._write_known_hosts(record.cluster)

    def _drop_cluster_if_empty(self, cluster: str) -> None:
        record = self.store.get_cluster(cluster)
        if record is not None and not self.store.nodes(cluster):
            _net.delete_link(record.bridge)
            self.store.remove_cluster(cluster)

    def _reap_locked(self) -> None:
        """Clean what interrupted calls left: half-started nodes, empty clusters, stray links."""
        for cluster in self.store.clusters():
            for record in self.store.nodes(cluster.name):
                if record.state != _STARTING or alive(record.owner_pid, record.owner_start):
                    continue
                self._stop_processes(record)
                self.store.put_node(replace(record, state=_FAILED))
            self._drop_cluster_if_empty(cluster.name)
