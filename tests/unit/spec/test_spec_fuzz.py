"""Property tests: whatever YAML arrives, the loader returns a spec or raises SpecError, never
anything else; a spec that loads can be checked without a crash; the CLI never shows a traceback."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from typer.testing import CliRunner

from gpuforge.check import LockConflicts, make_context, run_checks, solve_lock
from gpuforge.cli import spec_cmds
from gpuforge.errors import SpecError
from gpuforge.spec import load_spec_text

EXAMPLES = sorted((Path(__file__).parents[3] / "examples").glob("*.yaml"))
EXAMPLE_TEXTS = [path.read_text(encoding="utf-8") for path in EXAMPLES]
SPEC_KEYS = [
    "apiVersion",
    "kind",
    "name",
    "target",
    "pools",
    "gpu",
    "count",
    "software",
    "cuda",
    "driver",
    "mig",
    "fabric",
    "security",
    "ssh_cidrs",
    "state",
    "backend",
    "rollout",
    "batch",
    "instance_type",
]
AS_OF = date(2026, 11, 28)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["H100:8", "25%", "400G", "aws/us-east-1", "local", ">=12.2,<13", "auto"]),
)
keys = st.one_of(st.sampled_from(SPEC_KEYS), st.text(min_size=1, max_size=12))
trees = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)
    ),
    max_leaves=25,
)


def _dump(value: Any) -> str:
    yaml = YAML(typ="safe", pure=True)
    buffer = io.StringIO()
    yaml.dump(value, buffer)
    return buffer.getvalue()


@st.composite
def spec_shaped(draw: st.DrawFn) -> str:
    """A random tree under the top-level spec keys, so validation (not only YAML) is exercised."""
    body = draw(st.dictionaries(st.sampled_from(SPEC_KEYS), trees, min_size=1, max_size=8))
    return _dump(body)


@st.composite
def mutated_example(draw: st.DrawFn) -> str:
    """An example spec with a few lines deleted or duplicated, characters swapped or inserted."""
    lines = draw(st.sampled_from(EXAMPLE_TEXTS)).splitlines(keepends=True)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        if not lines:
            break
        index = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        line = lines[index]
        action = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "replace"]))
        if action == "delete":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, line)
        elif action == "swap" and len(line) > 1:
            at = draw(st.integers(min_value=0, max_value=len(line) - 2))
            lines[index] = line[:at] + line[at + 1] + line[at] + line[at + 2 :]
        elif action == "insert":
            at = draw(st.integers(min_value=0, max_value=len(line)))
            extra = draw(st.text(alphabet=":-[]{}&*!|>'\"#%@`,? \t\n0123456789x", max_size=3))
            lines[index] = line[:at] + extra + line[at:]
        else:
            key, _, _ = line.partition(":")
            value = draw(scalars | st.sampled_from(["[", "{", "- x", "*a", "&a b"]))
            lines[index] = f"{key}: {value}\n"
    return "".join(lines)


any_yaml = st.one_of(st.text(max_size=300), trees.map(_dump), spec_shaped(), mutated_example())


def _check_everything(text: str) -> None:
    """Load; if it loads, run every rule and the solver: nothing may raise but SpecError."""
    try:
        doc = load_spec_text(text, "fuzz.yaml")
    except SpecError as error:
        assert error.problems, "SpecError without problems"
        for problem in error.problems:
            assert problem.location.file == "fuzz.yaml"
            assert problem.message
            assert problem.fix, f"no fix for {problem.message!r}"
        return
    ctx = make_context(doc, AS_OF)
    for finding in run_checks(ctx):
        assert finding.code.startswith("GF-") and finding.fix
    try:
        solve_lock(ctx)
    except LockConflicts as conflicts:
        assert all(conflicts.conflicts.values())


@settings(max_examples=300, deadline=None)
@given(any_yaml)
def test_loader_and_checks_never_crash(text: str) -> None:
    _check_everything(text)


@settings(max_examples=200, deadline=None)
@given(mutated_example())
def test_mutated_examples_never_crash(text: str) -> None:
    _check_everything(text)


@pytest.fixture(scope="module")
def cli() -> typer.Typer:
    app = typer.Typer()
    spec_cmds.register(app)
    return app


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=any_yaml)
def test_check_command_never_shows_a_traceback(
    cli: typer.Typer, tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "cluster.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_spec_text(path.read_text(encoding="utf-8"), str(path))
        invalid = False
    except SpecError:
        invalid = True

    result = CliRunner().invoke(cli, ["check", str(path), "--as-of", "2026-11-28"])

    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    if invalid:
        assert result.exit_code == 2, result.output
    else:
        assert result.exit_code in (0, 1), result.output
