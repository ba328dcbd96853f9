"""The lock history upgrade and rollback read, and Ctrl-C deferred to the end of a wave."""

from __future__ import annotations

import os
import signal
from datetime import date
from pathlib import Path

import pytest

from gpuforge.check import make_context, solve_lock
from gpuforge.errors import InputError
from gpuforge.ops import DeferredInterrupt, Deployment, LockHistory, lock_id
from gpuforge.spec import load_spec

REPO = Path(__file__).resolve().parents[3]
SPEC = REPO / "tests" / "fixtures" / "up" / "upgrade.yaml"


def _lock_text(spec: Path) -> str:
    doc = load_spec(spec)
    return solve_lock(make_context(doc, date(2026, 12, 1))).dump()


@pytest.fixture
def history(tmp_path: Path) -> LockHistory:
    (tmp_path / "deploy").mkdir()
    return LockHistory(Deployment(tmp_path / "deploy"))


def test_nodes_and_previous_follow_the_records(history: LockHistory) -> None:
    spec = SPEC.read_text()
    history.record(spec, "lock: A\n", ["n0", "n1", "n2"])
    history.record(spec, "lock: B\n", ["n0"])
    history.record(spec, "lock: A\n", ["n0"])  # the canary rolled back
    history.record(spec, "lock: B\n", ["n0", "n1", "n2"])
    a, b = lock_id("lock: A\n"), lock_id("lock: B\n")
    assert history.node_locks() == {"n0": b, "n1": b, "n2": b}
    assert history.previous(b) == a
    assert history.previous(a) is None
    # A lock that never reached the cluster: the cluster runs the latest one recorded.
    assert history.previous(lock_id("lock: C\n")) == b


def test_a_recorded_lock_loads_with_its_spec(history: LockHistory, tmp_path: Path) -> None:
    text = _lock_text(SPEC)
    ident = history.record(SPEC.read_text(), text, ["h100-0"])
    known = history.load(ident)
    assert known.id == ident and known.doc.spec.name == "it-upgrade"
    assert known.lock.pools["h100"].stack.driver_branch == "570"
    assert (history.folder / f"{ident}.lock").read_text() == text


def test_a_damaged_history_lock_is_refused_with_a_fix(history: LockHistory) -> None:
    ident = history.record(SPEC.read_text(), "not: [a lock\n", ["n0"])
    with pytest.raises(InputError) as caught:
        history.load(ident)
    assert ident in caught.value.message and "gpuforge up" in (caught.value.fix or "")


def test_ctrl_c_is_noted_not_raised_while_deferred() -> None:
    noted: list[bool] = []
    with DeferredInterrupt(lambda: noted.append(True)) as interrupt:
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)
        assert interrupt.requested
    assert noted == [True]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
