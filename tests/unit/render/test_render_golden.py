"""Golden files: each case renders byte for byte what tests/fixtures/golden/<case>/ holds.

A change to the renderer, the catalog or a shipped module shows up here as a file diff. After
reviewing it, accept it with `GPUFORGE_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/render`.
The vendored module copies are left out of the goldens (tests/unit/terraform covers the
modules); they are checked to equal the package's modules, and their digests are kept in
golden/<case>.modules.sha256 (`sha256sum -c` format), so a module change shows up here too.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from gpuforge.cli import up_cmds
from gpuforge.render import MANIFEST, MODULE_FOR, all_targets

from .conftest import AS_OF_TEXT, CASES, EXAMPLES, GOLDEN, MODULES, VENDORED, read_tree, solve

UPDATE = os.environ.get("GPUFORGE_UPDATE_GOLDEN") == "1"
ACCEPT_HINT = (
    "review the diff, then accept it: GPUFORGE_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/render"
)


def _without_modules(files: dict[str, bytes]) -> dict[str, bytes]:
    return {rel: data for rel, data in files.items() if not rel.startswith(VENDORED)}


def _write_golden(folder: Path, files: dict[str, bytes]) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    for rel, data in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _golden_diff(expected: dict[str, bytes], actual: dict[str, bytes]) -> str:
    """A unified diff of every file that differs, is missing or is new."""
    lines: list[str] = []
    for rel in sorted(set(expected) | set(actual)):
        old = expected.get(rel, b"").decode().splitlines(keepends=True)
        new = actual.get(rel, b"").decode().splitlines(keepends=True)
        if rel in expected and rel in actual and old == new:
            continue
        lines += difflib.unified_diff(old, new, f"golden/{rel}", f"rendered/{rel}")
    return "".join(lines)


def _app() -> typer.Typer:
    app = typer.Typer()
    up_cmds.register(app)
    return app


@pytest.mark.parametrize("case", sorted(CASES))
def test_render_matches_golden(case: str, rendered: Callable[[str], Path]) -> None:
    actual = _without_modules(read_tree(rendered(case)))
    folder = GOLDEN / case
    if UPDATE:
        _write_golden(folder, actual)
    assert folder.is_dir(), f"no golden folder {folder}: {ACCEPT_HINT}"
    expected = read_tree(folder)
    diff = _golden_diff(expected, actual)
    assert not diff, f"rendered files differ from the golden ones ({ACCEPT_HINT}):\n{diff}"


def test_every_golden_entry_belongs_to_a_case() -> None:
    wanted = [*CASES, *(f"{case}.modules.sha256" for case in CASES)]
    assert sorted(p.name for p in GOLDEN.iterdir()) == sorted(wanted)


@pytest.mark.parametrize("case", sorted(CASES))
def test_vendored_modules_equal_the_package(case: str, rendered: Callable[[str], Path]) -> None:
    deployment = rendered(case)
    spec, _ = solve(CASES[case])
    wanted = sorted({MODULE_FOR[target.provider] for target in all_targets(spec)})
    vendored = deployment / VENDORED
    assert sorted(p.name for p in vendored.iterdir()) == wanted
    for name in wanted:
        package = {
            rel: data
            for rel, data in read_tree(MODULES / name).items()
            if not rel.startswith(("examples/", ".terraform"))
        }
        assert read_tree(vendored / name) == package, f"vendored {name} differs from the package"


@pytest.mark.parametrize("case", sorted(CASES))
def test_vendored_module_digests_match_golden(case: str, rendered: Callable[[str], Path]) -> None:
    files = read_tree(rendered(case))
    digests = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {rel}\n"
        for rel, data in files.items()
        if rel.startswith(VENDORED)
    )
    golden = GOLDEN / f"{case}.modules.sha256"
    if UPDATE:
        golden.write_text(digests, encoding="utf-8")
    assert golden.is_file(), f"no {golden}: {ACCEPT_HINT}"
    expected = golden.read_text(encoding="utf-8")
    diff = "".join(
        difflib.unified_diff(
            expected.splitlines(keepends=True), digests.splitlines(keepends=True), "golden", "now"
        )
    )
    assert not diff, f"a vendored module changed ({ACCEPT_HINT}):\n{diff}"


@pytest.mark.parametrize("case", sorted(CASES))
def test_cli_render_writes_the_golden_files(case: str, tmp_path: Path) -> None:
    spec = tmp_path / CASES[case].name
    shutil.copy(CASES[case], spec)
    out = tmp_path / "deploy"
    result = CliRunner().invoke(
        _app(), ["render", str(spec), "-o", str(out), "--as-of", AS_OF_TEXT]
    )
    assert result.exit_code == 0, result.output
    files = read_tree(out)
    # ansible.cfg holds this machine's absolute paths: it is the CLI's, not in the manifest.
    assert b"[ssh_connection]" in files.pop("ansible/ansible.cfg")
    diff = _golden_diff(read_tree(GOLDEN / case), _without_modules(files))
    assert not diff, f"`gpuforge render` differs from the golden files:\n{diff}"
    assert MANIFEST in files


def test_cli_refuses_the_broken_example(tmp_path: Path) -> None:
    spec = tmp_path / "broken.yaml"
    shutil.copy(EXAMPLES / "broken.yaml", spec)
    out = tmp_path / "deploy"
    result = CliRunner().invoke(
        _app(), ["render", str(spec), "-o", str(out), "--as-of", AS_OF_TEXT]
    )
    assert result.exit_code == 2, result.output
    assert "To fix" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()
