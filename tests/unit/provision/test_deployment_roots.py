"""Which folders of a deployment are Terraform roots."""

from __future__ import annotations

from pathlib import Path

import pytest

from gpuforge.errors import InputError
from gpuforge.provision import RootModule, discover_roots


def _root(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "main.tf").write_text("", encoding="utf-8")
    return folder


def test_folder_that_is_a_root(tmp_path: Path) -> None:
    _root(tmp_path / "r")
    assert discover_roots(tmp_path / "r") == [RootModule("", tmp_path / "r")]


def test_single_terraform_subfolder(tmp_path: Path) -> None:
    _root(tmp_path / "terraform")
    assert discover_roots(tmp_path) == [RootModule("", tmp_path / "terraform")]


def test_one_root_per_target_sorted_skipping_others(tmp_path: Path) -> None:
    _root(tmp_path / "terraform" / "gcp")
    _root(tmp_path / "terraform" / "aws")
    _root(tmp_path / "terraform" / ".terraform")
    (tmp_path / "terraform" / "notes").mkdir()
    assert discover_roots(tmp_path) == [
        RootModule("aws", tmp_path / "terraform" / "aws"),
        RootModule("gcp", tmp_path / "terraform" / "gcp"),
    ]


@pytest.mark.parametrize("make", ["nothing", "missing"])
def test_no_root_is_an_input_error(tmp_path: Path, make: str) -> None:
    target = tmp_path / "absent" if make == "missing" else tmp_path
    with pytest.raises(InputError) as caught:
        discover_roots(target)
    assert caught.value.fix and caught.value.exit_code == 2
