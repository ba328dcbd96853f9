"""The exception tree shared by every layer.

GpuforgeError                  base; carries a "To fix:" hint
 ├── InputError                bad input from the user (exit 2)
 │    └── FileError            a file that cannot be read or parsed; each problem has a location
 │         ├── MissingFileError    the file does not exist
 │         └── SpecError           one or more problems in a spec file
 ├── DiskFullError             no space left while writing (exit 3: the run stopped part-way)
 ├── ToolMissingError          an external binary (tofu, terraform, ansible, sshd) is absent
 ├── FleetError                the local simulated fleet could not do what was asked
 ├── ProvisionError            OpenTofu/Terraform failed
 └── ConfigureError            Ansible failed to run (not: a node failed a task)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where in which file a problem sits; line and column are 1-based, 0 when unknown."""

    file: str
    line: int = 0
    column: int = 0
    path: str = ""

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        return f"{where} ({self.path})" if self.path else where


@dataclass(frozen=True)
class Problem:
    """One problem in an input file: where, what, and how to fix it."""

    location: Location
    message: str
    fix: str = ""

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready view, used by every `--json` output."""
        return {
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "field": self.location.path,
            "message": self.message,
            "fix": self.fix,
        }


class GpuforgeError(Exception):
    """Base of every error gpuforge raises on purpose; `fix` says what the user can do."""

    exit_code = 1

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


class InputError(GpuforgeError):
    """The user's input (a file, a flag) is unreadable or invalid."""

    exit_code = 2


class FileError(InputError):
    """A file is unreadable or malformed; `problems` lists every issue found, each located."""

    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0] if problems else None
        summary = f"{first.location}: {first.message}" if first else "invalid file"
        super().__init__(summary, first.fix if first else "")
        self.problems = problems


class MissingFileError(FileError):
    """The file does not exist (callers for which absence is normal catch this one)."""


class SpecError(FileError):
    """A spec failed to load or validate; `problems` lists every issue found, not only the first."""


class DiskFullError(GpuforgeError):
    """The disk (or quota) ran out while writing; what finished is kept, so a rerun continues.

    Exit 3, as for a partial failure: the input is fine, the run stopped part-way.
    """

    exit_code = 3


class ToolMissingError(GpuforgeError):
    """A binary gpuforge drives (tofu/terraform, sshd, ansible-playbook) is not installed."""

    exit_code = 2


class FleetError(GpuforgeError):
    """The local simulated fleet could not start, stop or reach a node."""


class ProvisionError(GpuforgeError):
    """OpenTofu/Terraform returned an error."""


class ConfigureError(GpuforgeError):
    """Ansible could not run at all (as opposed to a node failing a task)."""
