"""Run checkov, from its own virtualenv, on a Terraform folder and read its JSON report.

checkov pins many packages, so it lives in `.venv-checkov` (scripts/setup-checkov.sh), never in
gpuforge's environment. It always runs with `--skip-download`, or it would call its vendor's
service. Test files outside this folder (the renderer's) load it by path:

    spec = importlib.util.spec_from_file_location("tf_checkov", path_to_this_file)
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
CHECKOV_VENV = REPO_ROOT / ".venv-checkov"
SETUP_HINT = "run scripts/setup-checkov.sh to create .venv-checkov"


@dataclass(frozen=True)
class CheckResult:
    """One checkov finding: which check, on which resource, in which file and lines."""

    check_id: str
    name: str
    resource: str
    file: str
    first_line: int

    def __str__(self) -> str:
        return f"{self.check_id} {self.resource} ({self.file}:{self.first_line}): {self.name}"


@dataclass(frozen=True)
class CheckovReport:
    """The passed, failed and (inline) skipped checks of one checkov run."""

    passed: tuple[CheckResult, ...]
    failed: tuple[CheckResult, ...]
    skipped: tuple[CheckResult, ...]
    parsing_errors: int
    suppress_comments: tuple[str, ...]


def checkov_binary(venv: Path = CHECKOV_VENV) -> Path | None:
    """The checkov executable of the dedicated virtualenv, or None when it was not set up."""
    binary = venv / "bin" / "checkov"
    return binary if binary.is_file() else None


def _suppress_comment(entry: dict[str, Any]) -> str:
    """The reason written after an inline `#checkov:skip=ID:` comment ("" when none)."""
    return str(entry.get("check_result", {}).get("suppress_comment", "")).strip()


def _result(entry: dict[str, Any]) -> CheckResult:
    """One raw check entry of checkov's JSON report as a CheckResult."""
    lines = entry.get("file_line_range") or [0, 0]
    return CheckResult(
        check_id=str(entry["check_id"]),
        name=str(entry.get("check_name", "")),
        resource=str(entry.get("resource", "")),
        file=str(entry.get("file_path", "")),
        first_line=int(lines[0]),
    )


def parse_report(text: str) -> CheckovReport:
    """Parse `checkov -o json` output; a folder with nothing to check gives an empty report."""
    data: Any = json.loads(text) if text.strip() else {}
    reports = data if isinstance(data, list) else [data]
    passed: list[CheckResult] = []
    failed: list[CheckResult] = []
    skipped: list[CheckResult] = []
    comments: list[str] = []
    parsing_errors = 0
    for report in reports:
        if not isinstance(report, dict):
            continue
        results = report.get("results", {})
        parsing_errors += int(report.get("summary", report).get("parsing_errors", 0))
        passed += [_result(entry) for entry in results.get("passed_checks", [])]
        failed += [_result(entry) for entry in results.get("failed_checks", [])]
        skipped += [_result(entry) for entry in results.get("skipped_checks", [])]
        comments += [_suppress_comment(entry) for entry in results.get("skipped_checks", [])]
    return CheckovReport(
        tuple(passed), tuple(failed), tuple(skipped), parsing_errors, tuple(comments)
    )


def run_checkov(directory: Path, binary: Path, timeout: float = 300) -> CheckovReport:
    """Scan one Terraform folder (recursively) offline and return what checkov found."""
    completed = subprocess.run(
        [
            str(binary),
            "-d",
            str(directory),
            "--framework",
            "terraform",
            "--skip-download",
            "--compact",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    # Exit 1 means "failed checks found": the report says which. Anything else is a crash.
    if completed.returncode not in (0, 1):
        raise RuntimeError(f"checkov failed on {directory}: {completed.stderr[-2000:]}")
    return parse_report(completed.stdout)
