"""The `gpuforge` command line: one Typer app composed of one module per command group."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="gpuforge",
    help="One declarative file to a provisioned, configured and validated GPU cluster.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Each module registers its commands on `app` with a `register(app)` function.
_COMMAND_MODULES = (
    "gpuforge.cli.spec_cmds",
    "gpuforge.cli.up_cmds",
    "gpuforge.cli.provision_cmds",
    "gpuforge.cli.fleet_cmds",
)


def _register_all() -> None:
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(app)


_register_all()


def main() -> None:
    """Entry point of the `gpuforge` console script."""
    app()
