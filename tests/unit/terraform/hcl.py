"""Read the shipped modules with python-hcl2 and undo its quoting of keys and strings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hcl2

REPO_ROOT = Path(__file__).resolve().parents[3]
MODULES_DIR = REPO_ROOT / "src" / "gpuforge" / "terraform" / "modules"


def module_dirs() -> list[Path]:
    """Every shipped module (a folder of MODULES_DIR with a versions.tf), sorted by name."""
    return sorted(path.parent for path in MODULES_DIR.glob("*/versions.tf"))


def tf_files() -> list[Path]:
    """Every .tf file under MODULES_DIR, examples included."""
    return sorted(MODULES_DIR.rglob("*.tf"))


def unquote(text: Any) -> Any:
    """python-hcl2 keeps the quotes of string literals and of quoted keys: drop them."""
    if isinstance(text, str) and len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return text


def load(path: Path) -> dict[str, Any]:
    """Parse one .tf file into python-hcl2's dictionary form."""
    with path.open(encoding="utf-8") as handle:
        parsed: dict[str, Any] = hcl2.load(handle)
    return parsed


def blocks(module: Path, kind: str, filename: str) -> dict[str, dict[str, Any]]:
    """Labelled blocks of one kind (variable, output) in one file, by unquoted name."""
    found: dict[str, dict[str, Any]] = {}
    for entry in load(module / filename).get(kind, []):
        for name, body in entry.items():
            found[unquote(name)] = body
    return found


def variables(module: Path) -> dict[str, dict[str, Any]]:
    """The module's variables (variables.tf) by name."""
    return blocks(module, "variable", "variables.tf")


def outputs(module: Path) -> dict[str, dict[str, Any]]:
    """The module's outputs (outputs.tf) by name."""
    return blocks(module, "output", "outputs.tf")
