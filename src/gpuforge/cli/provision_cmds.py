"""`gpuforge inventory DIR`: the Ansible inventory of a deployment, from its Terraform outputs."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from gpuforge.cli._command import Command
from gpuforge.cli._output import Exit, emit_json, emit_result, run_reporting
from gpuforge.errors import InputError
from gpuforge.provision import (
    build_inventory,
    deployment_nodes,
    dynamic_inventory,
    host_vars,
    inventory_yaml,
)


def inventory(
    deployment: Path = typer.Argument(
        ..., help="Deployment folder (DIR/terraform/<target>/ roots) or one root module."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the inventory and nodes as JSON."),
    as_list: bool = typer.Option(
        False, "--list", help="Print Ansible dynamic-inventory JSON (with _meta hostvars)."
    ),
    host: str | None = typer.Option(
        None, "--host", help="Print the vars of one host, as a dynamic inventory does."
    ),
) -> None:
    """Print the Ansible inventory built from `terraform output -json` of every root."""

    def action() -> int:
        if as_list and host:
            raise InputError("--list and --host exclude each other", "pass only one of them")
        nodes = deployment_nodes(deployment)
        built = build_inventory(nodes)
        # --list and --host answer in Ansible's dynamic-inventory format, not the envelope.
        if host:
            emit_json(host_vars(built, host))
        elif as_list:
            emit_json(dynamic_inventory(built))
        elif as_json:
            emit_result(Exit.OK, {"inventory": built, "nodes": [n.to_dict() for n in nodes]})
        else:
            sys.stdout.write(inventory_yaml(built))
        return Exit.OK

    run_reporting(as_json or as_list or host is not None, action)


def register(app: typer.Typer) -> None:
    """Add the `inventory` command to the gpuforge app."""
    app.command("inventory", cls=Command)(inventory)
