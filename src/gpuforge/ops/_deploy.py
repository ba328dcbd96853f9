"""The deployment folder of a spec and the paths inside it."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from gpuforge.render import (
    INVENTORY_FILE,
    folder_inside,
    no_link_below,
    remove_tree_inside,
    write_inside,
)


@dataclass(frozen=True)
class Deployment:
    """Where one cluster's rendered files, state, journal, collected facts and reports live."""

    root: Path

    @classmethod
    def for_spec(cls, spec_path: Path, cluster: str, override: Path | None = None) -> Deployment:
        """The folder for a spec: `--deploy-dir`, else `.deploy/<cluster>` next to the spec.

        The default folder is refused when `.deploy` or `.deploy/<cluster>` is a symlink.
        """
        if override is not None:
            return cls(override.resolve())
        return cls(no_link_below(spec_path.resolve().parent, f".deploy/{cluster}"))

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def write(self, path: Path, text: str) -> None:
        """Write a file of this folder, never through a symlink (InputError names the path)."""
        write_inside(self.root, self._relative(path), text)

    def folder(self, path: Path) -> Path:
        """Create a folder inside this one (and those above it); never follows a symlink."""
        return folder_inside(self.root, self._relative(path))

    def remove_tree(self, path: Path) -> None:
        """Delete a folder inside this one with everything in it; never follows a symlink."""
        remove_tree_inside(self.root, self._relative(path))

    @property
    def inventory(self) -> Path:
        """The Ansible inventory written from Terraform's outputs."""
        return self.root / INVENTORY_FILE

    @property
    def journal(self) -> Path:
        """The append-only run journal (`up --resume` reads it)."""
        return self.root / "journal.jsonl"

    @property
    def collect_dir(self) -> Path:
        """Raw validation outputs fetched from the nodes, one folder per host."""
        return self.root / "validation" / "collected"

    @property
    def report_json(self) -> Path:
        """The readiness report as JSON."""
        return self.root / "validation" / "report.json"

    @property
    def report_html(self) -> Path:
        """The readiness report as a self-contained HTML page."""
        return self.root / "validation" / "report.html"

    @property
    def ansible_cfg(self) -> Path:
        """ansible.cfg for running the collection by hand against this deployment."""
        return self.root / "ansible" / "ansible.cfg"


def gpuforge_command() -> str:
    """How Terraform's local-exec provisioners call back into this gpuforge installation.

    The command is a trigger of every local node resource (its destroy provisioner can read
    nothing else), so it must not depend on how gpuforge was started: `gpuforge`,
    `python -m gpuforge` and `python3.11 -m gpuforge` of one environment give the same
    string, else Terraform would replace every node.
    """
    bin_dir = Path(sys.prefix) / "bin"
    for name in ("python3", "python"):
        if (bin_dir / name).exists():
            return f"{bin_dir / name} -m gpuforge"
    return f"{sys.executable} -m gpuforge"
