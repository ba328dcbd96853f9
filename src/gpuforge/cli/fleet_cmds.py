"""`gpuforge fleet ...`: bring the local simulated GPU fleet up and down, reach and break nodes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.table import Table

from gpuforge.cli._command import Command, Group
from gpuforge.cli._output import Exit, console, emit_result, run_reporting
from gpuforge.errors import FleetError, InputError
from gpuforge.fleet import (
    CLUSTER_ID_ENV,
    DEPLOYMENT_ENV,
    STATE_DIR_ENV,
    ClusterOwner,
    Fleet,
    Node,
    NodeSpec,
    fault_names,
    parse_address,
    parse_cluster_id,
    parse_subnet,
)

_STATE_DIR = typer.Option(
    None,
    "--state-dir",
    envvar=STATE_DIR_ENV,
    help="Fleet state folder (default /var/lib/gpuforge/fleet).",
)
_JSON = typer.Option(False, "--json", help="Print JSON instead of a table.")
_OS = typer.Option(
    "debian-12",
    "--os",
    help="Distribution the nodes present (debian-12, ubuntu-22.04, ubuntu-24.04): its os-release "
    "over the host's Debian userland.",
)
_CLUSTER_FILTER = typer.Option(None, "--cluster", help="Only this cluster.")
_CLUSTER_ID = typer.Option(
    None,
    "--cluster-id",
    envvar=CLUSTER_ID_ENV,
    help="Id of the deployment asking (its folder's cluster-id file): a cluster another "
    "deployment created is refused. Terraform's provisioners get it from `gpuforge up`.",
)
_DEPLOYMENT = typer.Option(
    None,
    "--deployment",
    envvar=DEPLOYMENT_ENV,
    help="Folder of the deployment asking, recorded with --cluster-id for error messages.",
)


def _reporting(as_json: bool, action: Callable[[], int], cluster: str | None = None) -> NoReturn:
    """Run a fleet action; Ctrl-C becomes a clean error (started nodes are recorded, reaped).

    The hint after Ctrl-C names `cluster`, so it never suggests removing other clusters.
    """
    fix = "run the same command again"
    if cluster is not None:
        fix += f", or `gpuforge fleet down --cluster {cluster}` to remove its nodes"

    def guarded() -> int:
        try:
            return action()
        except KeyboardInterrupt as interrupt:
            raise FleetError("interrupted; nodes started so far are recorded", fix) from interrupt

    run_reporting(as_json, guarded)


def _owner(cluster_id: str | None, deployment: str | None) -> ClusterOwner | None:
    """The deployment asking, from --cluster-id/--deployment; None when no id is given."""
    if not cluster_id:
        return None
    return ClusterOwner(parse_cluster_id(cluster_id), deployment or "")


def _confirm_every_cluster(fleet: Fleet, everything: bool, yes: bool) -> bool:
    """Whether `fleet down` may remove every cluster: --all --yes, or a yes on a terminal.

    Without a terminal and without both flags it refuses (exit 2): one command must not take
    down other people's clusters by default.
    """
    names = fleet.clusters()
    if not names or (everything and yes):
        return True
    listed = ", ".join(names)
    if not sys.stdin.isatty():
        raise InputError(
            f"`fleet down` without --cluster removes every cluster on this machine ({listed}) "
            "and no terminal is attached to confirm it",
            fix="pass --cluster NAME to remove one cluster, or --all --yes to remove them all",
        )
    return typer.confirm(f"Remove every node of {len(names)} cluster(s) ({listed})?")


def _ssh_files(fleet: Fleet, cluster: str) -> dict[str, str]:
    return {
        "ssh_private_key_file": str(fleet.client_key_path(cluster)),
        "ssh_config": str(fleet.ssh_config_path(cluster)),
        "known_hosts": str(fleet.known_hosts_path(cluster)),
    }


def _show(nodes: list[Node], as_json: bool, **extra: Any) -> None:
    if as_json:
        emit_result(Exit.OK, {"nodes": [n.to_dict() for n in nodes], **extra})
        return
    table = Table("name", "address", "profile", "pool", "cluster", "state", "faults")
    for node in nodes:
        table.add_row(
            node.name,
            node.address,
            node.profile,
            node.pool,
            node.cluster,
            node.state.value,
            ", ".join(node.faults),
        )
    console.print(table)


def up(
    profile: str = typer.Option(..., "--profile", help="Hardware profile, e.g. hgx-h100-8."),
    count: int = typer.Option(1, "--count", help="Number of nodes in the pool."),
    pool: str = typer.Option("gpu", "--pool", help="Pool name (nodes are <cluster>-<pool>-<i>)."),
    cluster: str = typer.Option("local", "--cluster", help="Cluster name."),
    subnet: str | None = typer.Option(None, "--subnet", help="Cluster /24 (default: derived)."),
    os_name: str = _OS,
    state_dir: Path | None = _STATE_DIR,
    as_json: bool = _JSON,
) -> None:
    """Start N nodes of a profile (idempotent: running nodes are kept as they are)."""

    def action() -> int:
        net = parse_subnet(subnet) if subnet else None
        fleet = Fleet(state_dir)
        nodes = fleet.up(cluster, pool, profile, count, net, os_name)
        _show(nodes, as_json, **_ssh_files(fleet, cluster))
        return Exit.OK

    _reporting(as_json, action, cluster)


def down(
    cluster: str | None = typer.Option(None, "--cluster", help="Only this cluster."),
    everything: bool = typer.Option(
        False, "--all", help="Every cluster on this machine (asks first unless --yes)."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="With --all: do not ask."),
    state_dir: Path | None = _STATE_DIR,
    as_json: bool = _JSON,
) -> None:
    """Stop and remove a cluster's nodes, bridge and state (--cluster), or every cluster's.

    Without --cluster it asks first on a terminal; without a terminal it needs --all --yes.
    """

    def action() -> int:
        if everything and cluster:
            raise InputError("--all and --cluster exclude each other", fix="pass only one")
        fleet = Fleet(state_dir)
        if cluster is None and not _confirm_every_cluster(fleet, everything, yes):
            if as_json:
                emit_result(Exit.OK, {"removed": []})
            else:
                console.print("nothing removed")
            return Exit.OK
        removed = fleet.down(cluster)
        if as_json:
            emit_result(Exit.OK, {"removed": removed})
        else:
            console.print(f"removed {len(removed)} node(s)")
        return Exit.OK

    _reporting(as_json, action, cluster)


def status(
    cluster: str | None = _CLUSTER_FILTER,
    state_dir: Path | None = _STATE_DIR,
    as_json: bool = _JSON,
) -> None:
    """List nodes with address, profile, pool and state (running, stopped or dead)."""

    def action() -> int:
        _show(Fleet(state_dir).status(cluster), as_json)
        return Exit.OK

    _reporting(as_json, action)


def ssh(
    node: str = typer.Argument(..., help="Node name."),
    command: list[str] | None = typer.Argument(None, help="Command to run (after --)."),
    cluster: str | None = _CLUSTER_FILTER,
    state_dir: Path | None = _STATE_DIR,
) -> None:
    """Open a shell on a node, or run one command and return its output and exit code."""

    def action() -> int:
        fleet = Fleet(state_dir)
        target = fleet.find(node, cluster)
        if not command:
            argv = [*fleet.ssh_command(target)]
            os.execvp(argv[0], argv)
        # Like ssh itself: the words are joined and the node's login shell interprets them.
        argv = [*fleet.ssh_command(target), "--", " ".join(command)]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        sys.stdout.write(done.stdout)
        sys.stderr.write(done.stderr)
        return done.returncode

    _reporting(False, action)


def inject(
    node: str = typer.Argument(..., help="Node name."),
    fault: str = typer.Argument(
        ...,
        help="Fault: "
        + ", ".join(fault_names())
        + " (xid takes --code, e.g. 79; ecc-uncorrectable --count; ib-* --hca;"
        " spot-interruption --notice-s; gpu-process, an unknown compute process on GPU"
        " --gpu, takes --process and --user).",
    ),
    gpu: int | None = typer.Option(None, "--gpu", help="GPU index the fault hits."),
    factor: float | None = typer.Option(None, "--factor", help="Bandwidth factor (nccl-slow)."),
    code: int | None = typer.Option(None, "--code", help="Xid code (xid), e.g. 79, 48, 63."),
    count: int | None = typer.Option(None, "--count", help="Error count (ecc-uncorrectable)."),
    hca: str | None = typer.Option(None, "--hca", help="HCA, e.g. mlx5_0 or all (ib-*)."),
    rate: int | None = typer.Option(None, "--rate", help="Degraded port rate in Gb/s."),
    package: str | None = typer.Option(None, "--package", help="Package (package-fail)."),
    notice_s: int | None = typer.Option(
        None, "--notice-s", help="Seconds from the notice to power-off (spot-interruption)."
    ),
    process: str | None = typer.Option(
        None, "--process", help="Process name (gpu-process; default xmrig)."
    ),
    user: str | None = typer.Option(
        None, "--user", help="User the process runs as (gpu-process; default nobody)."
    ),
    cluster: str | None = _CLUSTER_FILTER,
    state_dir: Path | None = _STATE_DIR,
    as_json: bool = _JSON,
) -> None:
    """Break a node on purpose (process or simulated hardware fault); `heal` undoes it."""

    def action() -> int:
        known = fault_names()
        if fault not in known:
            raise InputError(f"unknown fault {fault!r}", fix=f"use one of: {', '.join(known)}")
        given = {"gpu": gpu, "factor": factor, "code": code, "count": count, "hca": hca}
        given |= {"rate": rate, "name": process if fault == "gpu-process" else package}
        given |= {"notice_s": notice_s, "user": user}
        params = {key: value for key, value in given.items() if value is not None}
        fleet = Fleet(state_dir)
        fleet.inject(fleet.find(node, cluster), fault, **params)
        _show([fleet.find(node, cluster)], as_json)
        return Exit.OK

    _reporting(as_json, action)


def heal(
    node: str = typer.Argument(..., help="Node name."),
    cluster: str | None = _CLUSTER_FILTER,
    state_dir: Path | None = _STATE_DIR,
    as_json: bool = _JSON,
) -> None:
    """Clear every fault of a node: power it on, restart sshd, heal its simulated hardware."""

    def action() -> int:
        fleet = Fleet(state_dir)
        _show([fleet.heal(fleet.find(node, cluster))], as_json)
        return Exit.OK

    _reporting(as_json, action)


def node_up(
    cluster: str = typer.Option(..., "--cluster", help="Cluster name."),
    name: str = typer.Option(..., "--name", help="Node name (its hostname)."),
    address: str = typer.Option(..., "--address", help="Node address inside --subnet."),
    subnet: str = typer.Option(..., "--subnet", help="The cluster's /24."),
    profile: str = typer.Option(..., "--profile", help="Hardware profile."),
    pool: str = typer.Option("gpu", "--pool", help="Pool the node belongs to."),
    os_name: str = _OS,
    cluster_id: str | None = _CLUSTER_ID,
    deployment: str | None = _DEPLOYMENT,
    state_dir: Path | None = _STATE_DIR,
    as_json: bool = _JSON,
) -> None:
    """Start one node (used by the `local` Terraform module, one call per resource)."""

    def action() -> int:
        net = parse_subnet(subnet)
        owner = _owner(cluster_id, deployment)
        at = parse_address(address, net)
        spec = NodeSpec(cluster, name, at, net, profile, pool, owner, os_name)
        fleet = Fleet(state_dir)
        node = fleet.node_up(spec)
        _show([node], as_json, **_ssh_files(fleet, cluster))
        return Exit.OK

    _reporting(as_json, action, cluster)


def node_down(
    cluster: str = typer.Option(..., "--cluster", help="Cluster name."),
    name: str = typer.Option(..., "--name", help="Node name."),
    cluster_id: str | None = _CLUSTER_ID,
    state_dir: Path | None = _STATE_DIR,
    as_json: bool = _JSON,
) -> None:
    """Stop and remove one node (a no-op when it does not exist, so destroy is idempotent)."""

    def action() -> int:
        removed = Fleet(state_dir).node_down(cluster, name, _owner(cluster_id, None))
        if as_json:
            emit_result(Exit.OK, {"removed": [name] if removed else []})
        else:
            console.print(f"{name}: {'removed' if removed else 'not present'}")
        return Exit.OK

    _reporting(as_json, action, cluster)


def register(app: typer.Typer) -> None:
    """Add the `fleet` command group to the gpuforge app."""
    fleet_app = typer.Typer(
        cls=Group,
        help="The local simulated GPU fleet (target `local`): nodes reached by real SSH.",
        no_args_is_help=True,
    )
    fleet_app.command("up", cls=Command)(up)
    fleet_app.command("down", cls=Command)(down)
    fleet_app.command("status", cls=Command)(status)
    fleet_app.command("ssh", cls=Command)(ssh)
    fleet_app.command("inject", cls=Command)(inject)
    fleet_app.command("heal", cls=Command)(heal)
    fleet_app.command("node-up", cls=Command, hidden=True)(node_up)
    fleet_app.command("node-down", cls=Command, hidden=True)(node_down)
    app.add_typer(fleet_app, name="fleet")
