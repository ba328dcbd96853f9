"""The `gpuforge` command line: one Typer app composed of one module per command group.

`build_app()` registers every module's commands. The console script registers only the module
that owns the command being run when it can tell (the offline spec commands do not need the
Terraform, Ansible and fleet layers), which keeps `gpuforge check` fast to start.
"""

from __future__ import annotations

import importlib
import logging
import sys
from importlib.metadata import version as package_version
from typing import Annotated

import typer

from gpuforge.cli._command import Group
from gpuforge.cli._output import Exit, console, emit_result, handled, running

# Each module registers its commands with a `register(app)` function; the set lists the
# commands it owns so `main` can load only that module.
_COMMAND_MODULES: dict[str, frozenset[str]] = {
    "gpuforge.cli.spec_cmds": frozenset({"check", "lock", "schema", "rules", "catalog"}),
    "gpuforge.cli.up_cmds": frozenset({"up", "validate", "destroy", "render", "plan"}),
    "gpuforge.cli.provision_cmds": frozenset({"inventory"}),
    "gpuforge.cli.fleet_cmds": frozenset({"fleet"}),
    "gpuforge.cli.cost_cmds": frozenset({"cost", "catalog"}),
    "gpuforge.cli.drift_cmds": frozenset({"drift"}),
    "gpuforge.cli.backup_cmds": frozenset({"backup", "restore"}),
    "gpuforge.cli.scale_cmds": frozenset({"scale"}),
    "gpuforge.cli.upgrade_cmds": frozenset({"upgrade", "rollback"}),
}


def build_app(modules: list[str] | None = None) -> typer.Typer:
    """The Typer app with the commands of `modules` (default: all of them)."""
    app = typer.Typer(
        name="gpuforge",
        cls=Group,
        help="One declarative file to a provisioned, configured and validated GPU cluster.",
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    # With a callback the app stays a group even when only one command is registered (else
    # Typer would run `inventory` as the whole app and take the word `inventory` for its DIR).
    app.callback(invoke_without_command=True)(_group)
    for name in modules if modules is not None else list(_COMMAND_MODULES):
        importlib.import_module(name).register(app)
    return app


def _group(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", help="Print the version of gpuforge and exit.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show what each step does on stderr.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --version: as JSON.")] = False,
) -> None:
    """One declarative file to a provisioned, configured and validated GPU cluster."""
    if verbose:
        logging.getLogger("gpuforge").setLevel(logging.INFO)
    if version:
        number = package_version("gpuforge")
        if as_json:
            with running("version"):
                emit_result(Exit.OK, {"version": number})
        else:
            console.print(f"gpuforge {number}", highlight=False)
        raise typer.Exit(Exit.OK)
    if ctx.invoked_subcommand is None:
        console.print(ctx.get_help(), highlight=False)
        raise typer.Exit(Exit.OK)


def _modules_for(argv: list[str]) -> list[str] | None:
    """The one module owning the command in `argv`, or None (all) when it is unclear."""
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    owners = [name for name, commands in _COMMAND_MODULES.items() if command in commands]
    return owners or None


def main() -> None:
    """Entry point of the `gpuforge` console script: never a traceback (GPUFORGE_DEBUG=1 shows
    one), whatever a command or Typer itself raises outside the commands' own handling."""
    app = build_app(_modules_for(sys.argv[1:]))
    with handled("--json" in sys.argv[1:]):
        app()
