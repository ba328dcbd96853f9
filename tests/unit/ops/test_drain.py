"""The drain contract: which drainer a spec gets, and the site's own drain commands run per
node without a shell, fail with a fix, and time out naming the busy node."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from gpuforge.errors import SpecError
from gpuforge.ops._deploy import Deployment
from gpuforge.ops._drain import (
    CommandDrainer,
    DrainError,
    DrainTimeout,
    NothingToDrain,
    drainer_for,
)
from gpuforge.spec import ClusterSpec, load_spec_text

BASE = """\
apiVersion: gpuforge/v1
kind: Cluster
name: drains
target: local
pools:
  gpu: {instance_type: hgx-h100-8, count: 2}
"""


def _spec(rollout: str = "") -> ClusterSpec:
    text = BASE + (f"rollout:\n{rollout}" if rollout else "")
    return load_spec_text(text, "drains.yaml").spec


def _recorder(tmp_path: Path) -> list[str]:
    """A drain program that appends its arguments, one call per line, to calls.txt."""
    script = tmp_path / "record.py"
    script.write_text(
        "import sys, pathlib\n"
        f"p = pathlib.Path({str(tmp_path / 'calls.txt')!r})\n"
        "p.open('a').write('|'.join(sys.argv[1:]) + '\\n')\n"
    )
    return [sys.executable, str(script)]


def test_a_spec_without_scheduler_or_commands_has_nothing_to_drain(tmp_path: Path) -> None:
    assert isinstance(drainer_for(_spec(), Deployment(tmp_path)), NothingToDrain)


def test_drain_command_written_as_one_string_is_split_like_a_shell_but_never_run_by_one() -> None:
    spec = _spec("  drain_command: \"drain-node --why '{reason} now' {node}; rm -rf /\"\n")
    assert spec.rollout.drain_command == [
        "drain-node",
        "--why",
        "{reason} now",
        "{node};",
        "rm",
        "-rf",
        "/",
    ]


def test_an_unbalanced_quote_in_a_drain_command_is_a_located_spec_error() -> None:
    with pytest.raises(SpecError) as caught:
        _spec('  drain_command: "drain \'node"\n')
    assert "rollout.drain_command" in caught.value.problems[0].location.path


def test_max_unavailable_takes_a_count_or_a_percentage() -> None:
    assert _spec("  max_unavailable: 25%\n").rollout.max_unavailable == 0.25
    assert _spec("  max_unavailable: 3\n").rollout.max_unavailable == 3


def test_command_drainer_runs_once_per_node_with_hostile_names_as_single_arguments(
    tmp_path: Path,
) -> None:
    program = _recorder(tmp_path)
    spec = _spec(
        f"  drain_command: {[*program, 'drain', '{node}', '{reason}']}\n"
        f"  undrain_command: {[*program, 'resume', '{node}']}\n"
    )
    drainer = drainer_for(spec, Deployment(tmp_path))
    assert isinstance(drainer, CommandDrainer)
    drainer.drain(
        ["gpu-0", "$(touch pwned)"], reason="driver 580; reboot", timeout_s=30, force=False
    )
    drainer.undrain(["gpu-0"])
    calls = (tmp_path / "calls.txt").read_text().splitlines()
    assert calls == [
        "drain|gpu-0|driver 580; reboot",
        "drain|$(touch pwned)|driver 580; reboot",
        "resume|gpu-0",
    ]
    assert not (tmp_path / "pwned").exists()


def test_a_failing_drain_program_names_its_exit_and_a_fix(tmp_path: Path) -> None:
    drainer = CommandDrainer((sys.executable, "-c", "import sys; sys.exit('node is down')"), ())
    with pytest.raises(DrainError) as caught:
        drainer.drain(["gpu-0"], reason="x", timeout_s=30, force=False)
    assert "exited 1: node is down" in caught.value.message
    assert "rollout.drain_command" in caught.value.fix


def test_a_missing_drain_program_is_a_drain_error_not_a_traceback() -> None:
    drainer = CommandDrainer(("/nonexistent/drain-node", "{node}"), ())
    with pytest.raises(DrainError, match="was not found"):
        drainer.drain(["gpu-0"], reason="x", timeout_s=30, force=False)


def test_a_drain_past_its_time_names_the_busy_node_unless_forced() -> None:
    slow = (sys.executable, "-c", "import time; time.sleep(30)")
    drainer = CommandDrainer(slow, ())
    with pytest.raises(DrainTimeout) as caught:
        drainer.drain(["gpu-1"], reason="x", timeout_s=0.2, force=False)
    assert caught.value.busy == {"gpu-1": []}
    assert "--force" in caught.value.fix
    drainer.drain(["gpu-1"], reason="x", timeout_s=0.2, force=True)
