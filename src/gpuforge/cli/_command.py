"""Help text the way Click programs write it: `SPEC` in the usage line, no type after a flag.

Every gpuforge command is registered with `cls=Command` and every group made with `cls=Group`.
Flags get an empty metavar (Typer 0.2x would print `<bool>`), options that take a value show
their name in capitals (`--as-of AS_OF`), and the usage line names arguments plainly (`SPEC`,
`[COMMAND]...`) instead of `{spec}`.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from gpuforge.cli._output import running


def _plain(params: list[Any]) -> list[Any]:
    """`params` with Click-style metavars: none on a flag, the name in capitals otherwise."""
    for param in params:
        if isinstance(param, TyperOption) and param.metavar is None:
            param.metavar = "" if param.is_flag else (param.name or "value").upper()
        elif isinstance(param, TyperArgument) and param.metavar is None:
            param.metavar = (param.name or "arg").upper()
    return params


class Command(TyperCommand):
    """A Typer command whose help shows no type noise and plain argument names."""

    def get_params(self, ctx: Any) -> list[Any]:
        """The command's parameters (with `--help`), with plain metavars."""
        return _plain(list(super().get_params(ctx)))

    def invoke(self, ctx: Any) -> Any:
        """Run the command, named (`fleet status`) for the envelope of its JSON answer."""
        with running(" ".join(ctx.command_path.split()[1:])):
            return super().invoke(ctx)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        """The usage line: `[OPTIONS]` then each argument, optional ones in brackets."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = param.metavar or (param.name or "arg").upper()
                piece = name if param.required else f"[{name}]"
                pieces.append(piece + ("..." if param.nargs != 1 else ""))
        return pieces


class Group(TyperGroup):
    """A Typer group whose options show no type noise either."""

    def get_params(self, ctx: Any) -> list[Any]:
        """The group's parameters (with `--help`), with plain metavars."""
        return _plain(list(super().get_params(ctx)))
