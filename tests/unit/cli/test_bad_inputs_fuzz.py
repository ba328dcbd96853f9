"""Fuzzed files through the real commands: whatever the bytes, an exit code of the contract, a
fix with every exit 2, and never a traceback. (test_bad_inputs.py holds the fixed corpus.)"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gpuforge.cli import build_app

EXAMPLES = Path(__file__).parents[3] / "examples"
SPEC = (EXAMPLES / "local.yaml").read_bytes()
LOCK = (EXAMPLES / "local.lock").read_bytes()
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
NASTY = st.sampled_from(
    [
        b"\0",
        b"\xff",
        b"\xc3",
        b"&a ",
        b"*a",
        b"!!python/name:os.system ",
        b"<<: ",
        b"\t",
        b"[",
        b"{",
        b"'",
        b'"',
        b": ",
        b"- ",
        b"\n",
        b"#",
        b"\x07",
        "💥".encode(),
        b"9" * 120,
        b"!x ",
    ]
)


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    """`original` truncated, with a few nasty pieces spliced in at random places."""
    data = original[: draw(st.integers(0, len(original)))]
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(NASTY) + data[at:]
    return data


def _invoke(args: list[str], root: Path) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), args, env={"COLUMNS": "300"})
    assert isinstance(result.exception, SystemExit | None), repr(result.exception)
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def _contract(code: int, output: str) -> None:
    assert code in (0, 1, 2), output
    if code == 2:
        assert "To fix:" in output, output


@FUZZ
@given(mutated(SPEC))
def test_a_fuzzed_spec_never_gets_a_traceback(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "cluster.yaml").write_bytes(data)
        code, output = _invoke(["check", str(root / "cluster.yaml")], root)
        _contract(code, output)


@FUZZ
@given(mutated(LOCK))
def test_a_fuzzed_lock_never_gets_a_traceback(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        shutil.copyfile(EXAMPLES / "local.yaml", root / "cluster.yaml")
        (root / "cluster.lock").write_bytes(data)
        before = (root / "cluster.lock").read_bytes()
        code, output = _invoke(["check", str(root / "cluster.yaml")], root)
        _contract(code, output)
        assert (root / "cluster.lock").read_bytes() == before


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)
NODE_KEYS = [
    "name",
    "cluster",
    "pool",
    "profile",
    "address",
    "subnet",
    "state",
    "launcher_pid",
    "faults",
    "owner_pid",
]


@FUZZ
@given(st.dictionaries(st.sampled_from(["files", "roots", "cluster", "pools"]), JSON) | JSON)
def test_a_fuzzed_manifest_is_rendered_over_or_refused(manifest: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        shutil.copyfile(EXAMPLES / "local.yaml", root / "cluster.yaml")
        shutil.copyfile(EXAMPLES / "local.lock", root / "cluster.lock")
        (root / "deploy").mkdir()
        (root / "deploy" / "gpuforge.json").write_text(json.dumps(manifest))
        args = ["render", str(root / "cluster.yaml"), "-o", str(root / "deploy")]
        code, output = _invoke(args, root)
        assert code in (0, 2), output
        if code == 2:
            assert "gpuforge.json" in output and "To fix:" in output, output


@FUZZ
@given(st.dictionaries(st.sampled_from(NODE_KEYS), JSON))
def test_a_fuzzed_node_record_is_read_or_refused(record: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        state = Path(folder)
        node = state / "clusters" / "c1" / "nodes" / "n1"
        node.mkdir(parents=True)
        (node.parents[1] / "cluster.json").write_text(
            '{"name": "c1", "subnet": "10.77.0.0/24", "bridge": "gfb1"}'
        )
        (state / "lock").touch()
        (node / "node.json").write_text(json.dumps(record))
        code, output = _invoke(["fleet", "status", "--state-dir", str(state), "--json"], state)
        assert code == 2, output
        assert "node.json" in output and '"fix":' in output, output
