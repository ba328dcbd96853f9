"""Shared helpers for the validate tests: reading the real captures without their source line."""

from __future__ import annotations

from pathlib import Path

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "validate" / "real"


def real(name: str) -> str:
    """The text of one real capture, minus line 1 (the `# source:` note the tool never printed)."""
    return (REAL / name).read_text(encoding="utf-8").split("\n", 1)[1]


def captures(kind: str) -> list[str]:
    """Every capture of one kind (a folder under real/), as names relative to real/."""
    return sorted(f"{kind}/{p.name}" for p in (REAL / kind).iterdir())
