"""Waves of a rolling change: canary first, then batches, never more out of service than allowed.

Pure planning, no I/O: the nodes that need the change (in the order given) are cut into waves.
The first `canary` nodes form the canary wave; the rest go in batches of `batch` nodes (a
count, or a fraction of the nodes to change, rounded up). A wave never holds more than
`max_unavailable` nodes (a count, or a fraction of the whole cluster, rounded down, at least
one): a larger canary or batch is cut into several waves of that size, so that at most that
many nodes are drained at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Wave:
    """One step of a rollout: its position, a name for people, and its nodes."""

    index: int
    name: str
    nodes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view for the journal and `--json`."""
        return {"index": self.index, "name": self.name, "nodes": list(self.nodes)}


def count_of(size: int | float, total: int) -> int:
    """A batch size as a node count: an int as is, a fraction of `total` rounded up (>= 1)."""
    if isinstance(size, int):
        return max(1, size)
    return max(1, math.ceil(size * total - 1e-9))


def unavailable_limit(max_unavailable: int | float, cluster_size: int) -> int:
    """The most nodes out of service at once: a count, or a fraction of the cluster rounded
    down, never below one (a rollout must be able to move)."""
    if isinstance(max_unavailable, int):
        return max(1, max_unavailable)
    return max(1, math.floor(max_unavailable * cluster_size + 1e-9))


def _chunks(nodes: Sequence[str], size: int) -> list[tuple[str, ...]]:
    return [tuple(nodes[i : i + size]) for i in range(0, len(nodes), size)]


def plan_waves(
    nodes: Sequence[str],
    *,
    canary: int,
    batch: int | float,
    max_unavailable: int | float,
    cluster_size: int | None = None,
) -> list[Wave]:
    """Cut `nodes` (those whose change needs a rollout, in rollout order) into waves.

    `cluster_size` (default: len(nodes)) is what a fractional `max_unavailable` is taken of.
    """
    limit = unavailable_limit(max_unavailable, cluster_size or len(nodes))
    canaries = list(nodes[: max(0, canary)])
    rest = list(nodes[len(canaries) :])
    canary_chunks = _chunks(canaries, limit)
    waves = [
        Wave(i, "canary" if len(canary_chunks) == 1 else f"canary {i + 1}", chunk)
        for i, chunk in enumerate(canary_chunks)
    ]
    size = min(count_of(batch, len(nodes)), limit)
    for chunk in _chunks(rest, size):
        waves.append(Wave(len(waves), f"wave {len(waves)}", chunk))
    return waves


def most_unavailable(waves: Sequence[Wave]) -> int:
    """The most nodes any wave takes out of service at once."""
    return max((len(w.nodes) for w in waves), default=0)
