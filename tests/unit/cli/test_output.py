"""`handled`: no traceback for any error, a hint for the unexpected, GPUFORGE_DEBUG to see it."""

from __future__ import annotations

import errno
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from gpuforge.cli._output import handled

GPUFORGE = Path(sys.executable).parent / "gpuforge"


def _app(error: BaseException | None = None, warning: str = "") -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def act(as_json: bool = typer.Option(False, "--json")) -> None:
        """Raise `error` (and log `warning`) inside the CLI's error handling."""
        with handled(as_json):
            if warning:
                logging.getLogger("gpuforge.files").warning(warning)
            if error is not None:
                raise error

    return app


def test_an_unexpected_error_is_one_line_with_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GPUFORGE_DEBUG", raising=False)

    result = CliRunner().invoke(_app(ZeroDivisionError("division by zero")), [])

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert (
        result.stderr.splitlines()[0] == "error internal error: ZeroDivisionError: division by zero"
    )
    assert "GPUFORGE_DEBUG=1" in result.stderr
    assert "Traceback" not in result.output


def test_gpuforge_debug_lets_the_traceback_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPUFORGE_DEBUG", "1")

    result = CliRunner().invoke(_app(KeyError("pools")), [])

    assert isinstance(result.exception, KeyError)


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), 3, "no space left on the device"),
        (
            OSError(errno.EDQUOT, "Disk quota exceeded", "/srv/deploy/journal.jsonl"),
            3,
            "no space left on the device holding /srv/deploy (while writing journal.jsonl)",
        ),
        (
            PermissionError(errno.EACCES, "Permission denied", "/srv/deploy/x"),
            2,
            "/srv/deploy/x: Permission denied",
        ),
    ],
)
def test_os_errors_name_their_file_and_a_fix(error: OSError, code: int, message: str) -> None:
    result = CliRunner().invoke(_app(error), ["--json"])

    assert result.exit_code == code
    assert message in result.stdout
    assert '"fix": "' in result.stdout


def test_warnings_of_the_layers_are_shown() -> None:
    result = CliRunner().invoke(_app(warning="gpuforge.json is corrupt; using its backup"), [])

    assert result.exit_code == 0
    assert "warning gpuforge.json is corrupt; using its backup" in result.stderr


def test_the_one_command_module_still_parses_its_argument(tmp_path: Path) -> None:
    """`gpuforge inventory DIR` (whose module registers one command) reads DIR, not "inventory"."""
    env = {k: v for k, v in os.environ.items() if k != "GPUFORGE_DEBUG"} | {"COLUMNS": "200"}
    done = subprocess.run(
        [str(GPUFORGE), "inventory", str(tmp_path / "absent")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )

    assert done.returncode == 2
    assert f"{tmp_path / 'absent'} is not a directory" in done.stderr
