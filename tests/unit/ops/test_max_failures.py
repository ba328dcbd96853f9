"""`rollout.max_failures` (issue 18): that many nodes may fail their gate before an upgrade stops;
within it only the failed nodes go back to their earlier lock, the rest of their wave stays on
the new one, and later waves still run. 0 keeps the first failed wave's whole rollback and stop.

The waves run through `Rollout._roll` itself; only the steps that need nodes (probe, apply,
gate, rollback) answer from the test's script of which nodes fail.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
import yaml

from gpuforge.check import read_lock
from gpuforge.ops import Drift, DriftReport, Rollout, SilentReporter, Target, lock_digest
from gpuforge.ops._rollout import FailureBudget, WaveResult
from gpuforge.spec import load_spec

REPO = Path(__file__).parents[3]
NODES = ["h100-0", "h100-1", "h100-2", "h100-3"]


class Scripted(Rollout):
    """A rollout whose nodes fail the gate as `failing` says; records what went back."""

    failing: frozenset[str] = frozenset()
    undone: list[list[str]]

    def _probe(
        self, target: Target, nodes: Sequence[str], pools: Mapping[str, str], every_node: bool
    ) -> DriftReport:
        drift = ("GF-DRIFT-001", "cuda-drivers", "580", "570", "nvidia_driver")
        return DriftReport(list(nodes), {n: [Drift(n, *drift)] for n in nodes})

    def _apply(
        self, target: Target, plan: Mapping[str, Sequence[str]], pools: Mapping[str, str]
    ) -> dict[str, str]:
        return {n: "gate: XID 79" for n in plan if n in self.failing}

    def _gate(self, target: Target, nodes: Sequence[str], pools: Mapping[str, str]) -> None:
        return None

    def _undo(
        self,
        outcome: WaveResult,
        back: Sequence[str],
        before: Mapping[str, str],
        pools: Mapping[str, str],
    ) -> list[str]:
        self.undone.append(list(back))
        outcome.rolled_back_to.update(dict.fromkeys(back, "sha256:earlier"))
        return list(back)


def _rollout(tmp_path: Path, max_failures: int, batch: int, failing: set[str]) -> Scripted:
    shutil.copyfile(REPO / "examples" / "local.lock", tmp_path / "local.lock")
    text = (REPO / "examples" / "local.yaml").read_text()
    text += f"rollout: {{canary: 1, batch: {batch}, max_unavailable: {batch}, "
    text += f"max_failures: {max_failures}}}\n"
    spec = tmp_path / "local.yaml"
    spec.write_text(text)
    rollout = Scripted(load_spec(spec), spec, SilentReporter(), deploy_dir=tmp_path / "deploy")
    hosts = {n: {"gpuforge_pool": "h100"} for n in NODES}
    inventory = {"all": {"children": {"gpu_nodes": {"hosts": hosts}}}}
    rollout.deployment.inventory.parent.mkdir(parents=True, exist_ok=True)
    rollout.deployment.inventory.write_text(yaml.safe_dump(inventory))
    rollout.failing, rollout.undone = frozenset(failing), []
    return rollout


def _roll(rollout: Scripted) -> tuple[list[tuple[list[str], str]], int, dict[str, str]]:
    text = rollout.spec_path.with_suffix(".lock").read_text()
    lock = read_lock(rollout.spec_path.with_suffix(".lock"))
    target = Target(lock_digest(text), rollout.spec, lock, text, False)
    rollout.journal.start_run(command="upgrade")
    result = rollout._roll("upgrade", target, resume=False, force=False, undo=True)
    waves = [(w.nodes, w.status) for w in result.waves]
    on_target = {n: d == target.ident for n, d in result.node_locks.items()}
    return waves, result.exit_code, {n: "new" if on_target[n] else "old" for n in on_target}


def test_failures_within_the_budget_roll_back_those_nodes_only_and_go_on(tmp_path: Path) -> None:
    rollout = _rollout(tmp_path, max_failures=1, batch=3, failing={"h100-2"})
    waves, rc, locks = _roll(rollout)
    assert waves == [(["h100-0"], "done"), (["h100-1", "h100-2", "h100-3"], "partial")]
    assert rollout.undone == [["h100-2"]]
    assert locks == {"h100-0": "new", "h100-1": "new", "h100-3": "new"}
    assert rc == 3  # some nodes failed while the others are on the new lock


def test_the_failure_beyond_the_budget_rolls_its_wave_back_and_stops(tmp_path: Path) -> None:
    rollout = _rollout(tmp_path, max_failures=1, batch=1, failing={"h100-1", "h100-2"})
    waves, rc, locks = _roll(rollout)
    assert waves == [
        (["h100-0"], "done"),
        (["h100-1"], "partial"),
        (["h100-2"], "rolled back"),
    ]
    assert rollout.undone == [["h100-1"], ["h100-2"]]
    assert locks == {"h100-0": "new"}  # h100-3's wave never ran
    assert rc == 1


def test_no_budget_stops_at_the_first_failed_wave_and_rolls_it_back_whole(
    tmp_path: Path,
) -> None:
    rollout = _rollout(tmp_path, max_failures=0, batch=3, failing={"h100-2"})
    waves, rc, locks = _roll(rollout)
    assert waves == [(["h100-0"], "done"), (["h100-1", "h100-2", "h100-3"], "rolled back")]
    assert rollout.undone == [["h100-1", "h100-2", "h100-3"]]
    assert locks == {"h100-0": "new"}
    assert rc == 1


@pytest.mark.parametrize(
    ("left", "failed", "back", "stop", "after"),
    [
        (0, [], [], False, 0),
        (0, ["b"], ["a", "b", "c"], True, 0),
        (2, ["b"], ["b"], False, 1),
        (2, ["a", "c"], ["a", "c"], False, 0),
        (1, ["a", "c"], ["a", "b", "c"], True, 0),
    ],
)
def test_the_budget_settles_each_wave(
    left: int, failed: list[str], back: list[str], stop: bool, after: int
) -> None:
    budget = FailureBudget(left)
    assert budget.settle(["a", "b", "c"], failed) == (back, stop)
    assert budget.left == after
