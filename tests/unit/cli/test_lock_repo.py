"""`gpuforge lock --repo` against the fleet's stand-in repository: only versions it serves are
pinned, and a pinned version that leaves the repository is a check finding (GF-LOCK-003)."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from gpuforge.catalog import PackagePin, load_catalog
from gpuforge.check import RepoIndex
from gpuforge.cli import spec_cmds
from gpuforge.fleet.sim._apt import ensure_apt_repo
from gpuforge.fleet.sim._packages import Package, packages_of

AS_OF = ["--as-of", "2026-11-28"]
SPEC = """apiVersion: gpuforge/v1
kind: Cluster
name: repo-lock
target: local
pools:
  train:
    gpu: H100:8
    count: 2
software: {driver: "580"}
"""


def _run(*args: str) -> tuple[int, Any]:
    app = typer.Typer()
    spec_cmds.register(app)
    result = CliRunner().invoke(app, [*args, "--json"], env={"COLUMNS": "250"})
    body = json.loads(result.stdout)
    return result.exit_code, body["result"] if "result" in body else body["error"]


def _write_index(folder: Path, packages: list[Package]) -> Path:
    """The stand-in repository's Packages index (its control stanzas), without building .debs."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Packages").write_text("\n".join(p.control() for p in packages), encoding="utf-8")
    return folder


@pytest.fixture
def stand_in() -> list[Package]:
    return packages_of(load_catalog(), "ubuntu2204")  # the spec's default OS, Ubuntu 22.04


def _pins(data: dict[str, Any]) -> list[PackagePin]:
    return [PackagePin(*p.split("=", 1)) for p in data["pools"]["train"]["packages"]]


def test_lock_pins_only_what_the_stand_in_repository_serves(
    tmp_path: Path, stand_in: list[Package]
) -> None:
    repo = _write_index(tmp_path / "repo", stand_in)
    spec = tmp_path / "cluster.yaml"
    spec.write_text(SPEC, encoding="utf-8")

    code, data = _run("lock", str(spec), "--repo", str(repo), *AS_OF)

    assert code == 0, data
    index = RepoIndex.parse((repo / "Packages").read_text(), "stand-in")
    assert all(index.offers(pin) for pin in _pins(data))
    assert data["pools"]["train"]["driver"] == "580.95.05"
    assert "offered by" in data["pools"]["train"]["reasons"]["dcgm"]


def test_a_version_removed_from_the_index_is_a_finding_and_is_not_pinned_again(
    tmp_path: Path, stand_in: list[Package]
) -> None:
    spec = tmp_path / "cluster.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    code, data = _run("lock", str(spec), "--repo", str(_write_index(tmp_path / "a", stand_in)))
    assert code == 0
    cuda = data["pools"]["train"]["cuda"]

    left = [p for p in stand_in if not p.version.startswith(f"{cuda}-")]
    smaller = _write_index(tmp_path / "b", left)
    code, checked = _run("check", str(spec), "--repo", str(smaller), *AS_OF)

    assert code == 1
    missing = [f for f in checked["findings"] if f["code"] == "GF-LOCK-003"]
    assert len(missing) == 1 and f"={cuda}-1" in missing[0]["message"]
    assert missing[0]["field"] == "pools.train"

    code, relocked = _run("lock", str(spec), "--repo", str(smaller), *AS_OF)
    assert code == 0
    assert relocked["pools"]["train"]["cuda"] != cuda
    index = RepoIndex.parse((smaller / "Packages").read_text(), "smaller")
    assert all(index.offers(pin) for pin in _pins(relocked))


def test_a_newer_release_the_catalog_does_not_list_is_pinned_from_the_repository(
    tmp_path: Path, stand_in: list[Package]
) -> None:
    newer = [
        Package(p.name, p.version.replace("580.95.05", "580.105.08"), p.description)
        for p in stand_in
        if "580.95.05" in p.version
    ]
    repo = _write_index(tmp_path / "repo", stand_in + newer)
    spec = tmp_path / "cluster.yaml"
    spec.write_text(SPEC, encoding="utf-8")

    code, data = _run("lock", str(spec), "--repo", str(repo), *AS_OF)
    _, checked = _run("check", str(spec), "--repo", str(repo), *AS_OF)

    assert code == 0 and data["pools"]["train"]["driver"] == "580.105.08"
    assert "GF-STACK-014" in {f["code"] for f in checked["findings"]}


def test_a_missing_driver_branch_in_the_repository_is_a_lock_problem(
    tmp_path: Path, stand_in: list[Package]
) -> None:
    repo = _write_index(tmp_path / "repo", [p for p in stand_in if "580" not in p.name])
    spec = tmp_path / "cluster.yaml"
    spec.write_text(SPEC, encoding="utf-8")

    code, data = _run("lock", str(spec), "--repo", str(repo), *AS_OF)

    assert code == 1
    assert "GF-STACK-015" in data["problems"][0]["message"]


@pytest.mark.parametrize("where", ["missing", "empty"])
def test_an_unreadable_repository_is_bad_input(tmp_path: Path, where: str) -> None:
    spec = tmp_path / "cluster.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    repo = tmp_path / "repo"
    if where == "empty":
        _write_index(repo, [])

    code, data = _run("lock", str(spec), "--repo", str(repo), *AS_OF)

    assert code == 2 and "To fix" not in data  # the error carries its fix as a field
    assert str(repo) in json.dumps(data)


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb builds the stand-in repo")
def test_lock_against_the_built_stand_in_repository_by_file_url(tmp_path: Path) -> None:
    repo = ensure_apt_repo(tmp_path / "apt")
    spec = tmp_path / "cluster.yaml"
    spec.write_text(SPEC, encoding="utf-8")

    ubuntu2204 = repo / "ubuntu2204" / "x86_64"
    code, data = _run("lock", str(spec), "--repo", f"file://{ubuntu2204}", *AS_OF)

    assert code == 0, data
    with gzip.open(ubuntu2204 / "Packages.gz", "rt", encoding="utf-8") as handle:
        index = RepoIndex.parse(handle.read(), "built")
    pins = _pins(data)
    assert pins and all(index.offers(pin) for pin in pins)


def test_the_specs_repository_url_is_read_without_repo(
    tmp_path: Path, stand_in: list[Package]
) -> None:
    repo = _write_index(tmp_path / "repo", stand_in)
    spec = tmp_path / "cluster.yaml"
    spec.write_text(
        SPEC.replace(
            'software: {driver: "580"}',
            f'software: {{driver: "580", repository: mirror, repository_url: "file:{repo}"}}',
        ),
        encoding="utf-8",
    )
    code, data = _run("lock", str(spec), *AS_OF)
    assert code == 0 and f"offered by file:{repo}" in data["pools"]["train"]["reasons"]["dcgm"]

    cuda = data["pools"]["train"]["cuda"]
    _write_index(repo, [p for p in stand_in if not p.version.startswith(f"{cuda}-")])
    code, checked = _run("check", str(spec), *AS_OF)

    assert code == 1 and "GF-LOCK-003" in {f["code"] for f in checked["findings"]}


def test_an_unreachable_spec_repository_leaves_the_catalog_to_decide(tmp_path: Path) -> None:
    spec = tmp_path / "cluster.yaml"
    url = f"file:{tmp_path}/none"
    spec.write_text(
        SPEC.replace(
            'software: {driver: "580"}',
            f'software: {{driver: "580", repository: mirror, repository_url: "{url}"}}',
        ),
        encoding="utf-8",
    )

    code, data = _run("lock", str(spec), *AS_OF)

    assert code == 0 and "catalogued release" in data["pools"]["train"]["reasons"]["dcgm"]
