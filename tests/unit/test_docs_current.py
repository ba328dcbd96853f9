"""The generated documentation pages (CLI, rules, spec, roles and their READMEs, modules) match
the code: `scripts/gen_docs.py --check` fails on a stale page."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_generated_pages_are_current() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_docs.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_role_has_its_generated_readme() -> None:
    roles = ROOT / "src" / "gpuforge" / "ansible_collections" / "gpuforge" / "gpu" / "roles"
    for role in roles.iterdir():
        readme = role / "README.md"
        assert readme.is_file() and f"gpuforge.gpu.{role.name}" in readme.read_text()
