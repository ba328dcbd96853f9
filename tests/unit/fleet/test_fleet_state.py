"""The fleet state directory: records round-trip, the lock serialises writers, env override."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from gpuforge.errors import FileError
from gpuforge.fleet import STATE_DIR_ENV, resolve_state_dir
from gpuforge.fleet._state import ClusterRecord, NodeRecord, StateStore


def test_records_round_trip(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    store.put_cluster(ClusterRecord("demo", "10.251.7.0/24", "gfbabc"))
    node = NodeRecord("demo-gpu-0", "demo", "gpu", "hgx-h100-8", "10.251.7.11", "10.251.7.0/24")
    node.faults.append("xid-79")
    store.put_node(node)
    assert store.clusters() == [ClusterRecord("demo", "10.251.7.0/24", "gfbabc")]
    assert store.nodes("demo") == [node]
    store.remove_node("demo", "demo-gpu-0")
    assert store.nodes("demo") == []
    store.remove_cluster("demo")
    assert store.clusters() == []


def test_broken_record_is_reported_with_a_fix(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    folder = store.cluster_dir("demo")
    folder.mkdir(parents=True)
    (folder / "cluster.json").write_text("{not json")
    with pytest.raises(FileError) as caught:
        store.clusters()
    assert caught.value.exit_code == 2
    assert caught.value.message.startswith(f"{folder / 'cluster.json'}:1:2: invalid JSON")
    assert "cluster.json" in caught.value.fix


def test_lock_serialises_concurrent_writers(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    inside: list[int] = []
    overlaps: list[int] = []

    def worker(index: int) -> None:
        with store.lock():
            if inside:
                overlaps.append(index)
            inside.append(index)
            time.sleep(0.01)
            inside.remove(index)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == []


def test_state_dir_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(STATE_DIR_ENV, raising=False)
    assert resolve_state_dir() == Path("/var/lib/gpuforge/fleet")
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "env"))
    assert resolve_state_dir() == tmp_path / "env"
    assert resolve_state_dir(tmp_path / "flag") == tmp_path / "flag"


def test_a_corrupt_record_is_read_from_its_copy(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = StateStore(tmp_path)
    node = NodeRecord("demo-gpu-0", "demo", "gpu", "hgx-h100-8", "10.251.7.11", "10.251.7.0/24")
    store.put_node(node)
    record = store.node_dir("demo", "demo-gpu-0") / "node.json"
    record.write_text('{"name": "demo-gpu-0", "launcher_pid": "x"}\n')

    with caplog.at_level(logging.WARNING, logger="gpuforge"):
        assert store.get_node("demo", "demo-gpu-0") == node

    assert f"{record} (cluster): not a node record" in caplog.text
    assert f"using its backup {record}.bak" in caplog.text


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"name": "demo", "subnet": 5, "bridge": "gfb"}', "subnet"),
        ('{"name": "demo", "subnet": "10.0.0.0/24"}', "bridge"),
        ('{"name": "demo", "subnet": "10.0.0.0/24", "bridge": "b", "x": 1}', "x"),
        ('["demo"]', ""),
    ],
)
def test_a_record_of_the_wrong_shape_names_its_field(tmp_path: Path, text: str, field: str) -> None:
    store = StateStore(tmp_path)
    store.cluster_dir("demo").mkdir(parents=True)
    (store.cluster_dir("demo") / "cluster.json").write_text(text)

    with pytest.raises(FileError) as caught:
        store.get_cluster("demo")
    assert caught.value.problems[0].location.path == field
    assert caught.value.exit_code == 2
