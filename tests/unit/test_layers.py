"""Data flows one way: a lower layer never imports a higher one (docs/HACKING.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "gpuforge"
# Lowest first. `errors` is shared by all; `cli` is the top.
LAYERS = [
    "files",
    "catalog",
    "spec",
    "providers",
    "check",
    "desired",
    "fleet",
    "render",
    "provision",
    "configure",
    "validate",
    "ops",
    "cost",
    "cli",
]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _layer_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != "gpuforge":
        return None
    return parts[1] if parts[1] in LAYERS else None


@pytest.mark.parametrize("layer", LAYERS)
def test_layer_imports_only_lower_layers(layer: str) -> None:
    """Every module of `layer` imports gpuforge layers at or below its own rank."""
    rank = LAYERS.index(layer)
    offenders = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        if "ansible_collections" in path.parts or "tools" in path.parts:
            continue
        for module in _imports(path):
            other = _layer_of(module)
            if other is not None and LAYERS.index(other) > rank:
                offenders.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert not offenders, "\n".join(offenders)


def test_every_layer_is_listed() -> None:
    """A new package must be placed in the layer order before it can be imported."""
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages - {"terraform", "ansible_collections"} <= set(LAYERS)
