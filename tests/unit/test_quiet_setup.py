"""Set-up and the test run print one line per step; the steps' own output goes to a log file."""

from __future__ import annotations

import subprocess
from pathlib import Path

QUIET = Path(__file__).parents[2] / "scripts" / "quiet.sh"


def _run(script: str, log: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", f"set -euo pipefail; . {QUIET}; {script}"],
        env={"GPUFORGE_LOG": str(log), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )


def test_a_step_prints_one_line_and_logs_its_output(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "setup.log"
    done = _run("quiet 'noisy step' sh -c 'for i in 1 2 3 4 5; do echo pip says $i; done'", log)
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    assert line.split()[:3] == ["noisy", "step", "ok"]
    assert "pip says 5" in log.read_text() and "pip says" not in done.stdout + done.stderr


def test_a_failing_step_shows_the_end_of_the_log_and_stops(tmp_path: Path) -> None:
    log = tmp_path / "setup.log"
    done = _run("quiet broken sh -c 'echo the reason; exit 7'; echo not reached", log)
    assert done.returncode == 7
    assert "broken" in done.stdout and "FAILED (exit 7)" in done.stdout
    assert "the reason" in done.stdout and "not reached" not in done.stdout
