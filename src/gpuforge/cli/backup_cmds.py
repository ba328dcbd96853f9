"""`gpuforge backup` and `gpuforge restore`: a deployment's state, journal, files and lock."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gpuforge.check import lock_path
from gpuforge.cli._command import Command
from gpuforge.cli._output import Exit, console, emit_result, handled
from gpuforge.cli.spec_cmds import JsonOpt, SpecArg
from gpuforge.cli.up_cmds import DeployOpt, run_lock_notice
from gpuforge.ops import Deployment, create_backup, default_archive, restore_backup
from gpuforge.spec import load_spec


def backup_cmd(
    spec: SpecArg,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Archive to write; default <cluster>-backup-<time>."),
    ] = None,
    deploy_dir: DeployOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Archive (owner-only tar.gz) the deployment folder with Terraform state, journal and lock."""
    with handled(as_json):
        doc = load_spec(spec)
        root = Deployment.for_spec(spec, doc.spec.name, deploy_dir).root
        archive = (output or default_archive(doc.spec.name)).absolute()
        result = create_backup(root, lock_path(spec), doc.spec.name, archive, run_lock_notice)
    if as_json:
        emit_result(Exit.OK, result.to_dict())
    else:
        console.print(f"backed up {len(result.files)} files of {result.cluster} to {archive}")
    raise typer.Exit(Exit.OK)


def restore_cmd(
    spec: SpecArg,
    archive: Annotated[Path, typer.Argument(help="Archive written by `gpuforge backup`.")],
    deploy_dir: DeployOpt = None,
    no_init: Annotated[
        bool, typer.Option("--no-init", help="Leave `terraform init` to the next `up`.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Put a deleted deployment folder (and a missing lock) back from a checked archive."""
    with handled(as_json):
        doc = load_spec(spec)
        root = Deployment.for_spec(spec, doc.spec.name, deploy_dir).root
        result = restore_backup(archive, root, lock_path(spec), doc.spec.name, init=not no_init)
    if as_json:
        emit_result(Exit.OK, result.to_dict())
    else:
        console.print(f"restored {len(result.files)} files into {result.deployment}")
    raise typer.Exit(Exit.OK)


def register(app: typer.Typer) -> None:
    """Add `backup` and `restore` to the main app."""
    app.command("backup", cls=Command)(backup_cmd)
    app.command("restore", cls=Command)(restore_cmd)
