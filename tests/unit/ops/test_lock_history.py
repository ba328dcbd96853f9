"""The lock history: each lock that reached a cluster kept with its time and nodes, which lock
each node is on, the previous lock, corrupt or hostile history files refused, and the history
inside a backup."""

from __future__ import annotations

import json
import os
import shutil
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from gpuforge.cli import backup_cmds
from gpuforge.errors import FileError, InputError
from gpuforge.ops import (
    Deployment,
    lock_digest,
    lock_history,
    node_locks,
    previous_lock,
    record_lock,
    recorded_lock,
)

REPO = Path(__file__).parents[3]
LOCK_A = (REPO / "examples" / "local.lock").read_text()
LOCK_B = LOCK_A.replace("driver: 580.95.05", "driver: 570.172.08")
T0 = datetime(2026, 12, 6, 12, 0, 0, tzinfo=UTC)
T1 = datetime(2026, 12, 6, 13, 0, 0, tzinfo=UTC)
T2 = datetime(2026, 12, 6, 14, 0, 0, tzinfo=UTC)


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    root = tmp_path / "deploy"
    root.mkdir(mode=0o700)
    return Deployment(root)


def test_two_locks_differ() -> None:
    assert lock_digest(LOCK_A) != lock_digest(LOCK_B)


def test_an_empty_history_has_no_previous_lock(deployment: Deployment) -> None:
    assert lock_history(deployment) == []
    assert node_locks(deployment) == {}
    assert previous_lock(deployment) is None
    assert record_lock(deployment, LOCK_A, []) is None
    assert not (deployment.root / "locks").exists()


def test_each_lock_is_kept_with_its_time_and_nodes(deployment: Deployment) -> None:
    first = record_lock(deployment, LOCK_A, ["n1", "n0"], at=T0)
    again = record_lock(deployment, LOCK_A, ["n2"], at=T1)
    upgrade = record_lock(deployment, LOCK_B, ["n0"], at=T2)

    assert first is not None and again is not None and upgrade is not None
    assert first.n == again.n == 1, "the newest lock applied again keeps its record"
    assert again.nodes == ("n0", "n1", "n2")
    assert (again.applied_at, again.updated_at) == ("2026-12-06T12:00:00Z", "2026-12-06T13:00:00Z")
    assert upgrade.n == 2 and upgrade.file == "locks/0002-20261206T140000Z.lock"
    assert [r.n for r in lock_history(deployment)] == [1, 2]
    assert (deployment.root / "locks/0001-20261206T120000Z.lock").read_text() == LOCK_A
    assert (deployment.root / upgrade.file).read_text() == LOCK_B
    on = {node: record.n for node, record in node_locks(deployment).items()}
    assert on == {"n0": 2, "n1": 1, "n2": 1}
    previous = previous_lock(deployment)
    assert previous is not None and previous.digest == lock_digest(LOCK_A)
    text, lock = recorded_lock(deployment, previous)
    assert text == LOCK_A and lock.cluster == "demo"


def test_a_rollback_starts_a_new_record_and_the_previous_lock_follows(
    deployment: Deployment,
) -> None:
    record_lock(deployment, LOCK_A, ["n0", "n1"], at=T0)
    record_lock(deployment, LOCK_B, ["n0"], at=T1)
    back = record_lock(deployment, LOCK_A, ["n0"], at=T2)

    assert back is not None and back.n == 3
    assert {n: r.digest for n, r in node_locks(deployment).items()} == {
        "n0": lock_digest(LOCK_A),
        "n1": lock_digest(LOCK_A),
    }
    previous = previous_lock(deployment)
    assert previous is not None and previous.n == 2
    before_b = previous_lock(deployment, lock_digest(LOCK_B))
    assert before_b is not None and before_b.n == 3


def test_the_index_is_replaced_atomically_and_owner_only(deployment: Deployment) -> None:
    record_lock(deployment, LOCK_A, ["n0"], at=T0)
    index = deployment.root / "locks" / "index.json"
    assert oct(index.stat().st_mode & 0o777) == "0o600"
    assert not [p.name for p in index.parent.iterdir() if p.name.endswith(".tmp")]
    data = json.loads(index.read_text())
    assert data["format"] == 1 and data["records"][0]["nodes"] == ["n0"]


def test_text_that_is_no_lock_is_refused(deployment: Deployment) -> None:
    with pytest.raises(FileError):
        record_lock(deployment, "cluster: [unclosed\n", ["n0"])
    assert lock_history(deployment) == []


@pytest.mark.parametrize(
    ("index", "field"),
    [
        ("{not json", ""),
        ('{"format": 9, "records": []}', "format"),
        ('{"format": 1, "records": {}}', "records"),
        ('{"format": 1, "records": [{"n": 1}]}', "records[0]"),
        (
            '{"format": 1, "records": [{"n": 1, "file": "../../etc/passwd", "digest": "x",'
            ' "applied_at": "t", "updated_at": "t", "nodes": []}]}',
            "records[0].file",
        ),
        (
            '{"format": 1, "records": [{"n": 1, "file": "locks/a.lock", "digest": "x",'
            ' "applied_at": "t", "updated_at": "t", "nodes": [1]}]}',
            "records[0].nodes",
        ),
    ],
)
def test_a_corrupt_index_is_refused_naming_the_field(
    deployment: Deployment, index: str, field: str
) -> None:
    (deployment.root / "locks").mkdir()
    (deployment.root / "locks" / "index.json").write_text(index)
    with pytest.raises(FileError) as caught:
        lock_history(deployment)
    problem = caught.value.problems[0]
    assert problem.location.file.endswith("locks/index.json")
    assert field in problem.location.path
    assert problem.fix


def test_a_changed_lock_copy_is_refused(deployment: Deployment) -> None:
    record = record_lock(deployment, LOCK_A, ["n0"], at=T0)
    assert record is not None
    (deployment.root / record.file).write_text(LOCK_B)
    with pytest.raises(FileError, match="no longer matches"):
        recorded_lock(deployment, record)


def test_a_symlink_in_place_of_the_index_is_never_followed(
    deployment: Deployment, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text("keep me\n")
    (deployment.root / "locks").mkdir()
    os.symlink(outside, deployment.root / "locks" / "index.json")
    with pytest.raises(InputError, match="symlink"):
        record_lock(deployment, LOCK_A, ["n0"], at=T0)
    assert outside.read_text() == "keep me\n"


def test_a_backup_holds_the_lock_history(tmp_path: Path) -> None:
    shutil.copyfile(REPO / "examples" / "local.lock", tmp_path / "local.lock")
    spec = Path(shutil.copyfile(REPO / "examples" / "local.yaml", tmp_path / "local.yaml"))
    deployment = Deployment(tmp_path / ".deploy" / "demo")
    deployment.root.mkdir(parents=True, mode=0o700)
    record = record_lock(deployment, LOCK_A, ["demo-h100-0"], at=T0)
    assert record is not None
    app = typer.Typer()
    app.callback()(lambda: None)
    backup_cmds.register(app)
    archive = tmp_path / "backup.tar.gz"
    result = CliRunner().invoke(app, ["backup", str(spec), "-o", str(archive), "--json"])
    assert result.exit_code == 0, result.output
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"deployment/locks/index.json", f"deployment/{record.file}"} <= names
