"""mitogen's planner gets the collection folders listed once, in the controller, not per worker."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import SimpleNamespace

import ansible_mitogen.planner
import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "src" / "gpuforge"))
collection_dirs = importlib.import_module(
    "ansible_collections.gpuforge.gpu.plugins.plugin_utils.collection_dirs"
)
FIRST = "/srv/collections/ansible_collections/a/b"
SECOND = "/usr/share/c/ansible_collections/d/e"


@pytest.fixture(autouse=True)
def _planner(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test may replace the planner's function; the original comes back afterwards."""
    monkeypatch.setattr(
        ansible_mitogen.planner, "_load_collections", ansible_mitogen.planner._load_collections
    )


def test_the_planner_adds_the_folders_listed_at_install(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def listing() -> list[bytes]:
        calls.append(1)
        return [FIRST.encode(), SECOND.encode()]

    monkeypatch.setattr(collection_dirs, "list_collection_dirs", listing)
    assert collection_dirs.install() == [FIRST, SECOND]
    for _ in range(3):
        invocation = SimpleNamespace(_extra_sys_paths={"/already/there"})
        ansible_mitogen.planner._load_collections(invocation)
        assert invocation._extra_sys_paths == {"/already/there", FIRST, SECOND}
    assert calls == [1]


def test_a_failed_listing_leaves_the_planner_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing() -> list[bytes]:
        raise AttributeError("no collection loader in this process")

    original = ansible_mitogen.planner._load_collections
    monkeypatch.setattr(collection_dirs, "list_collection_dirs", failing)
    assert collection_dirs.install() is None
    assert ansible_mitogen.planner._load_collections is original
