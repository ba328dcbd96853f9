"""`gpuforge backup` / `restore`: a round trip, and every unsafe or foreign archive refused with
exit 2, a message naming what is wrong and a fix, and nothing written."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import stat
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from gpuforge.cli import backup_cmds, up_cmds
from gpuforge.ops import MUNGE_KEY_FILE, ensure_munge_key, run_lock

REPO = Path(__file__).parents[3]
EXAMPLES = REPO / "examples"
AS_OF = ["--as-of", "2026-11-28"]
WIDE = {"COLUMNS": "250"}
CLUSTER_ID = "0123456789abcdef0123456789abcdef"


def _run(*args: str) -> Result:
    app = typer.Typer()
    app.callback()(lambda: None)
    up_cmds.register(app)
    backup_cmds.register(app)
    return CliRunner().invoke(app, list(args), env=WIDE)


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    """examples/local.yaml and its lock in a fresh folder, rendered into .deploy/<cluster>."""
    shutil.copyfile(EXAMPLES / "local.lock", tmp_path / "local.lock")
    path = Path(shutil.copyfile(EXAMPLES / "local.yaml", tmp_path / "local.yaml"))
    deploy = _deploy(path)
    result = _run("render", str(path), "-o", str(deploy), *AS_OF)
    assert result.exit_code == 0, result.output
    state = deploy / "terraform" / "local"
    (state / "terraform.tfstate").write_text('{"serial": 3}\n')
    (state / ".terraform").mkdir()
    (state / ".terraform" / "plugin").write_text("reinstalled by init\n")
    (deploy / "journal.jsonl").write_text('{"step": "provision"}\n')
    (deploy / "cluster-id").write_text(CLUSTER_ID + "\n")
    (deploy / "run.lock").write_text("")
    return path


def _deploy(spec: Path) -> Path:
    return spec.parent / ".deploy" / "demo"


def _backup(spec: Path) -> Path:
    archive = spec.parent / "backup.tar.gz"
    result = _run("backup", str(spec), "-o", str(archive), "--json")
    assert result.exit_code == 0, result.output
    return archive


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_backup_then_restore_puts_the_same_files_back_owner_only(spec: Path) -> None:
    deploy = _deploy(spec)
    before = {k: v for k, v in _snapshot(deploy).items() if ".terraform/" not in k}
    assert before.pop("run.lock") == b""
    archive = _backup(spec)
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert manifest["format"] == 1 and manifest["cluster"] == "demo"
    assert manifest["cluster_id"] == CLUSTER_ID
    assert "deployment/run.lock" not in {e["path"] for e in manifest["files"]}
    names = {entry["path"] for entry in manifest["files"]}
    assert "deployment/terraform/local/terraform.tfstate" in names
    assert "deployment/journal.jsonl" in names and "lock/local.lock" in names
    assert not any(".terraform/" in name for name in names)

    shutil.rmtree(deploy)
    lock = (spec.parent / "local.lock").read_bytes()
    (spec.parent / "local.lock").unlink()
    result = _run("restore", str(spec), str(archive), "--no-init", "--json")

    assert result.exit_code == 0, result.output
    assert _snapshot(deploy) == before
    assert (spec.parent / "local.lock").read_bytes() == lock
    assert stat.S_IMODE(deploy.stat().st_mode) == 0o700
    state = deploy / "terraform" / "local" / "terraform.tfstate"
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert not list(deploy.parent.glob(".demo.restore-*")), "the staging folder is removed"


def test_a_slurm_clusters_munge_key_goes_into_the_backup_owner_only_and_comes_back(
    spec: Path,
) -> None:
    """The key every node's munged shares: without the same key after a restore, `up` would
    need a new one on every node, and the nodes could not talk until then."""
    deploy = _deploy(spec)
    key = ensure_munge_key(deploy).read_bytes()
    archive = _backup(spec)
    with tarfile.open(archive) as tar:
        member = tar.getmember(f"deployment/{MUNGE_KEY_FILE}")
        assert stat.S_IMODE(member.mode) == 0o600
        assert tar.extractfile(member).read() == key  # type: ignore[union-attr]

    shutil.rmtree(deploy)
    result = _run("restore", str(spec), str(archive), "--no-init", "--json")

    assert result.exit_code == 0, result.output
    restored = deploy / MUNGE_KEY_FILE
    assert restored.read_bytes() == key and stat.S_IMODE(restored.stat().st_mode) == 0o600
    assert ensure_munge_key(deploy).read_bytes() == key  # `up` keeps the restored key


# ---- refusals: each archive is built by hand from a good one ----


def _members(archive: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(archive) as tar:
        return [(m, tar.extractfile(m).read() if m.isfile() else b"") for m in tar]  # type: ignore[union-attr]


def _write(archive: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> None:
    archive.unlink()
    with tarfile.open(archive, "w:gz") as tar:
        for info, data in members:
            info.size = len(data) if info.isfile() else 0
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)


def _manifest_edit(edit: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    def change(archive: Path) -> None:
        members = _members(archive)
        manifest = json.loads(members[0][1])
        edit(manifest)
        members[0] = (members[0][0], json.dumps(manifest).encode())
        _write(archive, members)

    return change


def _add_member(
    info: tarfile.TarInfo, data: bytes = b"", listed: bool = True
) -> Callable[[Path], None]:
    def change(archive: Path) -> None:
        members = _members(archive)
        if listed:
            manifest = json.loads(members[0][1])
            manifest["files"].append(
                {"path": info.name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            )
            members[0] = (members[0][0], json.dumps(manifest).encode())
        _write(archive, [*members, (info, data)])

    return change


def _info(name: str, kind: bytes = tarfile.REGTYPE, target: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    info.mode = 0o600
    return info


def _truncate(archive: Path) -> None:
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])


def _corrupt(archive: Path) -> None:
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))


def _not_gzip(archive: Path) -> None:
    archive.write_bytes(b"this is not an archive\n")


def _plain_gzip(archive: Path) -> None:
    archive.write_bytes(gzip.compress(b"not a tar either\n" * 100))


def _tampered(archive: Path) -> None:
    members = _members(archive)
    members = [
        (info, b'{"serial": 99}\n' if info.name.endswith("terraform.tfstate") else data)
        for info, data in members
    ]
    _write(archive, members)


def _deep_manifest(archive: Path) -> None:
    members = _members(archive)
    members[0] = (members[0][0], b"[" * 100_000 + b"]" * 100_000)
    _write(archive, members)


def _dropped(archive: Path) -> None:
    members = _members(archive)
    _write(archive, [m for m in members if not m[0].name.endswith("journal.jsonl")])


REFUSALS = {
    "truncated": (_truncate, "truncated or corrupt"),
    "corrupt": (_corrupt, "corrupt"),
    "not-gzip": (_not_gzip, "not a readable tar.gz"),
    "gzip-not-tar": (_plain_gzip, "not a readable tar.gz"),
    "other-cluster": (
        _manifest_edit(lambda m: m.update(cluster="someone-else")),
        "backup of cluster 'someone-else'",
    ),
    "future-format": (_manifest_edit(lambda m: m.update(format=99)), "format 99"),
    "absolute-path": (_add_member(_info("/etc/cron.d/evil"), b"x"), "absolute path"),
    "dot-dot": (_add_member(_info("deployment/../../evil"), b"x"), "'..'"),
    "symlink": (_add_member(_info("deployment/link", tarfile.SYMTYPE, "/etc/passwd")), "symlink"),
    "hardlink": (
        _add_member(_info("deployment/hard", tarfile.LNKTYPE, "deployment/journal.jsonl")),
        "hard link",
    ),
    "device": (_add_member(_info("deployment/null", tarfile.CHRTYPE)), "a device or FIFO"),
    "fifo": (_add_member(_info("deployment/pipe", tarfile.FIFOTYPE)), "a device or FIFO"),
    "not-in-manifest": (
        _add_member(_info("deployment/extra"), b"x", listed=False),
        "not in its manifest",
    ),
    "outside-the-layout": (_add_member(_info("elsewhere/file"), b"x"), "not part of a backup"),
    "checksum": (_tampered, "checksum of 'deployment/terraform/local/terraform.tfstate'"),
    "member-missing": (_dropped, "lacks"),
    "deep-manifest": (_deep_manifest, "is not JSON (it nests too deeply)"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_unsafe_or_foreign_archive_is_refused_writing_nothing(spec: Path, case: str) -> None:
    change, expected = REFUSALS[case]
    archive = _backup(spec)
    change(archive)
    shutil.rmtree(_deploy(spec))
    before = _snapshot(spec.parent)

    result = _run("restore", str(spec), str(archive), "--json")

    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert expected in error["message"], error
    assert error["fix"], error
    assert _snapshot(spec.parent) == before, "nothing written"
    assert not _deploy(spec).exists()
    assert not (Path("/etc/cron.d/evil")).exists()


def test_restore_over_an_existing_deployment_is_refused(spec: Path) -> None:
    archive = _backup(spec)
    before = _snapshot(spec.parent)

    result = _run("restore", str(spec), str(archive), "--json")

    assert result.exit_code == 2, result.output
    assert "already exists" in json.loads(result.stdout)["error"]["message"]
    assert _snapshot(spec.parent) == before


def test_restore_refuses_a_lock_that_differs_from_the_one_in_git(spec: Path) -> None:
    archive = _backup(spec)
    shutil.rmtree(_deploy(spec))
    (spec.parent / "local.lock").write_text("# another lock\n")
    before = _snapshot(spec.parent)

    result = _run("restore", str(spec), str(archive), "--json")

    assert result.exit_code == 2, result.output
    assert "differs from the lock" in json.loads(result.stdout)["error"]["message"]
    assert _snapshot(spec.parent) == before


def test_backup_refuses_a_symlink_in_the_deployment_and_an_existing_archive(
    spec: Path, tmp_path: Path
) -> None:
    archive = _backup(spec)
    result = _run("backup", str(spec), "-o", str(archive), "--json")
    assert result.exit_code == 2 and "already exists" in result.stdout

    (_deploy(spec) / "leak").symlink_to("/etc/shadow")
    result = _run("backup", str(spec), "-o", str(tmp_path / "other.tar.gz"), "--json")
    assert result.exit_code == 2 and "symlink" in result.stdout
    assert not (tmp_path / "other.tar.gz").exists()


def test_backup_is_refused_while_a_run_holds_the_deployment(spec: Path, tmp_path: Path) -> None:
    """A backup during an `up` could archive half-written state: refused, nothing written."""
    archive = tmp_path / "during-up.tar.gz"
    with run_lock(_deploy(spec), "gpuforge up"):
        result = _run("backup", str(spec), "-o", str(archive), "--json")
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert "in use by `gpuforge up`" in error["message"] and error["fix"], error
    assert not archive.exists()

    result = _run("backup", str(spec), "-o", str(archive), "--json")
    assert result.exit_code == 0, result.output
    assert not (_deploy(spec) / "run.lock").exists(), "the backup leaves no lock behind"
