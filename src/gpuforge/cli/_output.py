"""Shared output plumbing for every command: exit codes, JSON vs human output, error display."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import IntEnum
from typing import Any, NoReturn

import typer
from rich.console import Console

from gpuforge.errors import GpuforgeError, SpecError

console = Console()
err_console = Console(stderr=True)


class Exit(IntEnum):
    """Stable exit codes, the same for every command."""

    OK = 0
    FINDINGS = 1
    BAD_INPUT = 2
    PARTIAL = 3


def emit_json(payload: Any) -> None:
    """Print one JSON document on stdout, sorted and indented so it diffs well."""
    sys.stdout.write(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")


def _say(text: str) -> None:
    """One message on stderr, never wrapped (paths and locations stay greppable)."""
    err_console.print(text, soft_wrap=True, highlight=False)


def fail(error: GpuforgeError, as_json: bool) -> NoReturn:
    """Report an expected error without a traceback and exit with its code."""
    if as_json:
        body: dict[str, Any] = {"ok": False, "error": error.message, "fix": error.fix}
        if isinstance(error, SpecError):
            body["problems"] = [p.to_dict() for p in error.problems]
        emit_json(body)
    elif isinstance(error, SpecError):
        for problem in error.problems:
            _say(f"[bold red]error[/] {problem.location}: {problem.message}")
            if problem.fix:
                _say(f"  [cyan]To fix:[/] {problem.fix}")
    else:
        _say(f"[bold red]error[/] {error.message}")
        if error.fix:
            _say(f"  [cyan]To fix:[/] {error.fix}")
    raise typer.Exit(error.exit_code)


@contextmanager
def handled(as_json: bool) -> Iterator[None]:
    """Turn any GpuforgeError raised inside the block into a clean message and exit code."""
    try:
        yield
    except GpuforgeError as error:
        fail(error, as_json)


def run_reporting(as_json: bool, action: Callable[[], int]) -> NoReturn:
    """Run `action` (which returns an exit code) with error handling, then exit with its code."""
    with handled(as_json):
        code = action()
    raise typer.Exit(code)
