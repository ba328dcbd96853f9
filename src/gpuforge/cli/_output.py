"""Shared output plumbing for every command: exit codes, JSON vs human output, error display.

No command shows a Python traceback: expected errors (GpuforgeError) print their message and
fix, a full disk becomes DiskFullError, any other OSError names its file, and anything else
becomes a one-line "internal error" with a hint. Set GPUFORGE_DEBUG=1 to see the traceback.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from enum import IntEnum
from pathlib import Path
from typing import Any, Literal, NoReturn

import typer
from rich.console import Console
from typer.exceptions import TyperException

from gpuforge.errors import FileError, GpuforgeError, InputError
from gpuforge.files import disk_full

# NO_COLOR (no-color.org) turns every ANSI style off, not only colours; Rich already writes none
# when the output is not a terminal.
_STYLES: Literal["auto"] | None = None if os.environ.get("NO_COLOR") else "auto"
console = Console(color_system=_STYLES)
err_console = Console(stderr=True, color_system=_STYLES)
DEBUG_ENV = "GPUFORGE_DEBUG"


class Exit(IntEnum):
    """Stable exit codes, the same for every command."""

    OK = 0
    FINDINGS = 1
    BAD_INPUT = 2
    PARTIAL = 3


def emit_json(payload: Any) -> None:
    """Print one JSON document on stdout, sorted and indented so it diffs well."""
    sys.stdout.write(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")


_command: ContextVar[str] = ContextVar("gpuforge_command", default="gpuforge")


@contextmanager
def running(command: str) -> Iterator[None]:
    """Name the command being run, for the envelope of its JSON answer (and of its errors)."""
    token = _command.set(command)
    try:
        yield
    finally:
        _command.reset(token)


def emit_result(exit_code: int, result: Any) -> None:
    """Print a command's `--json` answer in the envelope every command shares: `command`, `ok`,
    `exit_code` and the command's own payload under `result` (see cli/schemas/)."""
    envelope = {"command": _command.get(), "ok": exit_code == 0, "exit_code": int(exit_code)}
    emit_json({**envelope, "result": result})


def emit_error(error: GpuforgeError) -> None:
    """Print an error in the same envelope, its message, fix and located problems under `error`."""
    body: dict[str, Any] = {"message": error.message, "fix": error.fix}
    if isinstance(error, FileError):
        body["problems"] = [p.to_dict() for p in error.problems]
    envelope = {"command": _command.get(), "ok": False, "exit_code": int(error.exit_code)}
    emit_json({**envelope, "error": body})


def _say(text: str) -> None:
    """One message on stderr, never wrapped (paths and locations stay greppable)."""
    err_console.print(text, soft_wrap=True, highlight=False)


def fail(error: GpuforgeError, as_json: bool) -> NoReturn:
    """Report an expected error without a traceback and exit with its code."""
    if as_json:
        emit_error(error)
    elif isinstance(error, FileError):
        for problem in error.problems:
            _say(f"[bold red]error[/] {problem.location}: {problem.message}")
            if problem.fix:
                _say(f"  [cyan]To fix:[/] {problem.fix}")
    else:
        _say(f"[bold red]error[/] {error.message}")
        if error.fix:
            _say(f"  [cyan]To fix:[/] {error.fix}")
    raise typer.Exit(error.exit_code)


def debugging() -> bool:
    """Whether the developer asked for tracebacks (GPUFORGE_DEBUG=1)."""
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def as_gpuforge_error(error: Exception) -> GpuforgeError:
    """The error to show for an exception no layer turned into a GpuforgeError itself."""
    if isinstance(error, GpuforgeError):
        return error
    if isinstance(error, OSError):
        full = disk_full(error, Path(str(error.filename)) if error.filename else None)
        if full is not None:
            return full
        where = f"{error.filename}: " if error.filename else ""
        return InputError(
            f"{where}{error.strerror or error}",
            "check that the path exists and this user may read and write it",
        )
    return GpuforgeError(
        f"internal error: {type(error).__name__}: {error}",
        f"this is a gpuforge bug; run again with {DEBUG_ENV}=1 to see the traceback, and report it",
    )


class _WarningPrinter(logging.Handler):
    """Shows what the layers log as warnings (a file recovered from its backup) on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            _say(f"[bold yellow]warning[/] {record.getMessage()}")
        else:
            _say(f"[dim]{record.levelname.lower()}[/] {record.getMessage()}")


@contextmanager
def _warnings_shown() -> Iterator[None]:
    logger = logging.getLogger("gpuforge")
    handler = _WarningPrinter(logging.DEBUG)
    logger.addHandler(handler)
    # `--verbose` lowers the level to INFO before the command's own block starts; keep that.
    if logger.level == logging.NOTSET or logger.level > logging.WARNING:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.removeHandler(handler)


@contextmanager
def handled(as_json: bool) -> Iterator[None]:
    """Turn any error raised inside the block into a clean message and exit code, never a
    traceback (unless GPUFORGE_DEBUG is set and the error was not expected)."""
    try:
        with _warnings_shown():
            yield
    except (typer.Exit, typer.Abort, TyperException):
        raise
    except GpuforgeError as error:
        fail(error, as_json)
    except Exception as error:
        if debugging():
            raise
        fail(as_gpuforge_error(error), as_json)


def run_reporting(as_json: bool, action: Callable[[], int]) -> NoReturn:
    """Run `action` (which returns an exit code) with error handling, then exit with its code."""
    with handled(as_json):
        code = action()
    raise typer.Exit(code)
