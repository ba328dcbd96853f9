"""The exit code of `up`: 3 (partial) only when some nodes failed while others are fine.

A run in which every node failed configure is a failure (1), even when validation judged the
nodes' simulated hardware ready: seen when a bad repository line broke APT on every node.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from gpuforge.configure import HostStats, PlaybookResult
from gpuforge.ops import UpResult, up_exit_code
from gpuforge.validate import NodeVerdict, ReadinessReport

NODES = ("n1", "n2")


def _configure(failed: set[str]) -> PlaybookResult:
    hosts = {h: HostStats(ok=5, failed=1 if h in failed else 0) for h in NODES}
    status = "failed" if failed == set(NODES) else ("partial" if failed else "ok")
    return PlaybookResult(
        playbook="site",
        status=status,
        hosts=hosts,
        failures={},
        duration_s=1.0,
        engine="ssh",
        strategy="linear",
        engine_reason="test",
        check=False,
        rc=2 if failed else 0,
        artifacts_dir=Path("/nonexistent"),
    )


def _report(ready: set[str]) -> ReadinessReport:
    now = datetime.now(UTC)
    verdicts = tuple(NodeVerdict(h, "train", 8, h in ready, 0, 0) for h in NODES)
    return ReadinessReport("c", now, now, verdicts, ())


@pytest.mark.parametrize(
    ("failed", "ready", "code"),
    [
        (set(), set(NODES), 0),
        ({"n1"}, {"n2"}, 3),
        ({"n1"}, set(NODES), 3),
        # Every node failed configure: not partial, whatever validation thought of them.
        (set(NODES), set(NODES), 1),
        (set(NODES), set(), 1),
        (set(NODES), None, 1),
        ({"n1"}, None, 3),
    ],
)
def test_exit_code(failed: set[str], ready: set[str] | None, code: int) -> None:
    result = UpResult("c", Path("/nonexistent"), configure=_configure(failed))
    result.report = None if ready is None else _report(ready)
    assert up_exit_code(result) == code
