"""The deployment folder is a boundary: a tampered gpuforge.json or a symlink planted in the
folder never makes render read, write or delete anything outside it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gpuforge.errors import InputError
from gpuforge.render import (
    MANIFEST,
    check_folder,
    previous_roots,
    remove_tree_inside,
    write_inside,
)

from .conftest import EXAMPLES, render

SPEC = EXAMPLES / "local.yaml"
ROOT = "terraform/local"


@pytest.fixture
def deploy(tmp_path: Path) -> Path:
    """A folder the local example was rendered into once."""
    folder = tmp_path / "deploy"
    render(SPEC, folder)
    return folder


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A folder outside the deployment, with one file, that nothing may touch."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "keep.txt").write_text("precious\n")
    return folder


def _tamper_manifest(deploy: Path, **changes: object) -> None:
    data = json.loads((deploy / MANIFEST).read_text())
    data.update(changes)
    (deploy / MANIFEST).write_text(json.dumps(data))


def test_absolute_paths_in_the_manifest_are_never_deleted(deploy: Path, victim: Path) -> None:
    target = victim / "keep.txt"
    listed = json.loads((deploy / MANIFEST).read_text())["files"]
    _tamper_manifest(
        deploy, files=[*listed, str(target), "../outside/keep.txt", "~/x", f"a/../{target}"]
    )

    result = render(SPEC, deploy)

    assert target.read_text() == "precious\n"
    assert str(target) not in result.removed


def test_absolute_root_folders_in_the_manifest_are_ignored(deploy: Path, victim: Path) -> None:
    _tamper_manifest(deploy, roots={"aws/us-east-1": str(victim), "local": ROOT})

    assert previous_roots(deploy) == {"local": ROOT}


def test_a_symlinked_folder_is_refused_and_its_target_untouched(deploy: Path, victim: Path) -> None:
    os.rename(deploy / ROOT, victim / "moved")
    (deploy / ROOT).symlink_to(victim)

    with pytest.raises(InputError) as error:
        render(SPEC, deploy)

    assert str(deploy / ROOT) in error.value.message
    assert "remove the symlink" in error.value.fix
    assert sorted(p.name for p in victim.iterdir()) == ["keep.txt", "moved"]


def test_a_symlinked_file_is_refused_and_its_target_untouched(deploy: Path, victim: Path) -> None:
    main_tf = deploy / ROOT / "main.tf"
    main_tf.unlink()
    main_tf.symlink_to(victim / "keep.txt")

    with pytest.raises(InputError, match=r"main\.tf is a symlink"):
        render(SPEC, deploy)

    assert (victim / "keep.txt").read_text() == "precious\n"


def test_a_symlinked_manifest_is_refused(deploy: Path, victim: Path) -> None:
    (victim / MANIFEST).write_text(json.dumps({"files": ["keep.txt"]}))
    (deploy / MANIFEST).unlink()
    (deploy / MANIFEST).symlink_to(victim / MANIFEST)

    with pytest.raises(InputError, match="symlink"):
        render(SPEC, deploy)

    assert (victim / "keep.txt").exists()


def test_links_inside_terraforms_own_folder_are_allowed(deploy: Path, victim: Path) -> None:
    providers = deploy / ROOT / ".terraform" / "providers"
    providers.mkdir(parents=True)
    (providers / "null").symlink_to(victim)

    check_folder(deploy)
    render(SPEC, deploy)

    (deploy / ROOT / ".terraform").rename(deploy / "moved")
    (deploy / ROOT / ".terraform").symlink_to(deploy / "moved")
    with pytest.raises(InputError, match="symlink"):
        check_folder(deploy)


def test_new_folders_are_private(tmp_path: Path) -> None:
    result = render(SPEC, tmp_path / "fresh")

    assert result.root.stat().st_mode & 0o777 == 0o700
    assert (result.root / ROOT).stat().st_mode & 0o077 == 0


def test_writes_and_tree_removals_stop_at_a_symlink(deploy: Path, victim: Path) -> None:
    (deploy / "validation").symlink_to(victim)

    with pytest.raises(InputError, match="symlink"):
        write_inside(deploy, "validation/keep.txt", "overwritten\n")
    with pytest.raises(InputError, match="symlink"):
        remove_tree_inside(deploy, "validation")
    with pytest.raises(InputError, match="not inside"):
        write_inside(deploy, str(victim / "keep.txt"), "overwritten\n")

    assert (victim / "keep.txt").read_text() == "precious\n"
