"""Pool members: which node a shrinking pool loses, which index and address a growing pool adds,
and that resizing one pool never moves another pool's nodes (issue 18)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gpuforge.errors import FileError, InputError
from gpuforge.render import MANIFEST, render_deployment
from gpuforge.render._members import (
    MEMBERS_FILE,
    Member,
    PoolMembers,
    plan_members,
    read_members,
    removal_order,
)

from .conftest import EXAMPLES, solve

LOCAL = (EXAMPLES / "local.yaml").read_text(encoding="utf-8")


def _sized(h100: int, a100: int = 2) -> str:
    """examples/local.yaml with its pools resized."""
    text = LOCAL.replace("h100:\n    count: 2", f"h100:\n    count: {h100}")
    return text.replace("a100:\n    count: 2", f"a100:\n    count: {a100}")


def _pool(*pairs: tuple[int, int]) -> PoolMembers:
    return PoolMembers("local", tuple(Member(index, host) for index, host in pairs))


def _indexes(members: dict[str, PoolMembers], pool: str) -> dict[int, int]:
    return {m.index: m.host for m in members[pool].nodes}


def test_the_unhealthy_go_first_then_the_highest_index() -> None:
    members = [Member(i, 10 + i) for i in range(5)]
    order = [m.index for m in removal_order(members, {1, 3})]
    assert order == [3, 1, 4, 2, 0]


def test_a_shrinking_pool_loses_its_unhealthy_node_and_keeps_its_highest() -> None:
    spec, _ = solve(_sized(3))
    previous = {"h100": _pool((0, 10), (1, 11), (2, 12), (3, 13)), "a100": _pool((0, 14), (1, 15))}
    healthy = plan_members(spec, previous)
    assert _indexes(healthy, "h100") == {0: 10, 1: 11, 2: 12}
    # A100 nodes named as unhealthy do not make the h100 pool lose one of its own.
    sick = plan_members(spec, previous, unhealthy={"h100-1", "a100-0"})
    assert _indexes(sick, "h100") == {0: 10, 2: 12, 3: 13}
    assert _indexes(sick, "a100") == {0: 14, 1: 15}


def test_a_growing_pool_takes_the_lowest_free_index_and_an_address_no_node_held() -> None:
    spec, _ = solve(_sized(4, a100=1))
    previous = {"h100": _pool((0, 10), (2, 12), (3, 13)), "a100": _pool((0, 14), (1, 11))}
    members = plan_members(spec, previous)
    # a100-1 leaves in the same change: its address is not handed to the new h100-1.
    assert _indexes(members, "a100") == {0: 14}
    assert _indexes(members, "h100") == {0: 10, 1: 15, 2: 12, 3: 13}


def test_resizing_the_first_pool_leaves_the_second_pool_in_place(tmp_path: Path) -> None:
    """h100 2 -> 3 -> 1: the a100 module call and its nodes' addresses never change (before,
    the second pool's first host moved with the first pool's count)."""
    out = tmp_path / "deploy"
    spec, lock = solve(_sized(2))
    render_deployment(spec, lock, out)
    main = out / "terraform/local/main.tf"
    a100 = main.read_text(encoding="utf-8").split('module "pool_a100"')[1]
    for h100 in (3, 1):
        spec, lock = solve(_sized(h100))
        result = render_deployment(spec, lock, out)
        assert main.read_text(encoding="utf-8").split('module "pool_a100"')[1] == a100
        assert "a100" not in "".join(
            line for line in result.diff.splitlines(keepends=True) if line.startswith(("-", "+"))
        )
    members = read_members(out)
    assert members is not None
    assert _indexes(members, "a100") == {0: 12, 1: 13}
    assert _indexes(members, "h100") == {0: 10}


def test_render_removes_the_unhealthy_node_it_is_told_of(tmp_path: Path) -> None:
    out = tmp_path / "deploy"
    spec, lock = solve(_sized(2))
    render_deployment(spec, lock, out)
    spec, lock = solve(_sized(1))
    result = render_deployment(spec, lock, out, unhealthy={"h100-0"})
    assert '-    "0" = 10\n' in result.diff
    assert '"1" = 11' in (out / "terraform/local/main.tf").read_text(encoding="utf-8")
    assert MEMBERS_FILE in result.changed


def test_a_deployment_rendered_before_members_keeps_its_nodes(tmp_path: Path) -> None:
    """No members file (an older render): the manifest's counts give the nodes it made, at the
    addresses it gave them, so the first render with members changes no node."""
    out = tmp_path / "deploy"
    spec, lock = solve(_sized(2))
    render_deployment(spec, lock, out)
    (out / MEMBERS_FILE).unlink()
    spec, lock = solve(_sized(1))
    render_deployment(spec, lock, out, unhealthy={"h100-0"})
    members = read_members(out)
    assert members is not None
    assert _indexes(members, "h100") == {1: 11}
    assert _indexes(members, "a100") == {0: 12, 1: 13}
    assert MEMBERS_FILE in json.loads((out / MANIFEST).read_text(encoding="utf-8"))["files"]


def test_a_damaged_members_file_is_named_with_its_field(tmp_path: Path) -> None:
    (tmp_path / MEMBERS_FILE).write_text(
        '{"pools": {"h100": {"target": "local", "nodes": [{"index": -1, "host": 10}]}}}'
    )
    with pytest.raises(FileError) as caught:
        read_members(tmp_path)
    text = str(caught.value)
    assert MEMBERS_FILE in text and "pools.h100.nodes[0]" in text
    assert "delete" in caught.value.problems[0].fix


def test_a_pool_that_would_need_an_address_past_the_subnet_is_refused() -> None:
    spec, _ = solve(_sized(245, a100=1))
    previous = {"h100": PoolMembers("local", tuple(Member(i, 10 + i) for i in range(245)))}
    with pytest.raises(InputError, match=r"past \.254"):
        plan_members(spec, previous)
