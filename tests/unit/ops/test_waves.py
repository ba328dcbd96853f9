"""Wave planning: canary first, then batches, never more than max_unavailable out at once."""

from __future__ import annotations

import pytest

from gpuforge.ops import Wave, count_of, plan_waves, unavailable_limit

NODES = [f"n{i}" for i in range(8)]


def _nodes(waves: list[Wave]) -> list[list[str]]:
    return [list(w.nodes) for w in waves]


def test_canary_then_quarter_batches() -> None:
    waves = plan_waves(NODES, canary=1, batch=0.25, max_unavailable=2)
    assert _nodes(waves) == [["n0"], ["n1", "n2"], ["n3", "n4"], ["n5", "n6"], ["n7"]]
    assert [w.name for w in waves] == ["canary", "wave 1", "wave 2", "wave 3", "wave 4"]
    assert [w.index for w in waves] == [0, 1, 2, 3, 4]


def test_batch_larger_than_max_unavailable_is_cut() -> None:
    waves = plan_waves(NODES, canary=1, batch=4, max_unavailable=1)
    assert all(len(w.nodes) == 1 for w in waves)
    assert [n for w in waves for n in w.nodes] == NODES


def test_canary_larger_than_max_unavailable_is_cut() -> None:
    waves = plan_waves(NODES[:5], canary=3, batch=2, max_unavailable=2)
    assert _nodes(waves) == [["n0", "n1"], ["n2"], ["n3", "n4"]]
    assert [w.name for w in waves] == ["canary 1", "canary 2", "wave 2"]


def test_fractional_max_unavailable_is_of_the_whole_cluster() -> None:
    # Two nodes need the change in a cluster of 16: 25% of 16 = 4 may be out at once.
    waves = plan_waves(["a", "b"], canary=0, batch=1.0, max_unavailable=0.25, cluster_size=16)
    assert _nodes(waves) == [["a", "b"]]
    # 10% of 8 rounds down to 0: at least one node must be able to move.
    assert unavailable_limit(0.1, 8) == 1


def test_no_canary_and_no_nodes() -> None:
    assert _nodes(plan_waves(NODES[:3], canary=0, batch=2, max_unavailable=2)) == [
        ["n0", "n1"],
        ["n2"],
    ]
    assert plan_waves([], canary=1, batch=0.25, max_unavailable=1) == []


@pytest.mark.parametrize(
    ("size", "total", "expected"),
    [(0.25, 8, 2), (0.25, 7, 2), (0.25, 16, 4), (3, 8, 3), (0.01, 5, 1)],
)
def test_batch_count(size: float, total: int, expected: int) -> None:
    assert count_of(size, total) == expected


def test_never_more_than_max_unavailable() -> None:
    for limit in (1, 2, 3):
        for batch in (1, 2, 5, 0.5, 1.0):
            waves = plan_waves(NODES, canary=2, batch=batch, max_unavailable=limit)
            assert max(len(w.nodes) for w in waves) <= limit
            assert [n for w in waves for n in w.nodes] == NODES
