"""The stand-in APT repository builds, apt can read it, and its maintainer scripts keep state."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from gpuforge.catalog import load_catalog
from gpuforge.fleet.sim import ensure_apt_repo
from gpuforge.fleet.sim._packages import all_packages

from .conftest import Run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository, built once for this module."""
    return ensure_apt_repo(tmp_path_factory.mktemp("apt") / "repo")


def test_repo_is_flat_with_release_and_cached(repo: Path) -> None:
    for name in ("Packages", "Packages.gz", "Release"):
        assert (repo / name).is_file()
    stamp = (repo / ".stamp").read_text()
    mtime = (repo / "Packages").stat().st_mtime
    assert ensure_apt_repo(repo) == repo
    assert (repo / ".stamp").read_text() == stamp
    assert (repo / "Packages").stat().st_mtime == mtime


def test_packages_follow_the_contract(repo: Path) -> None:
    index = (repo / "Packages").read_text()
    for stanza in (
        "Package: nvidia-driver-535-server\nVersion: 535.183.01-0ubuntu1",
        "Package: nvidia-driver-550-server-open\nVersion: 550.90.07-0ubuntu1",
        "Package: nvidia-utils-535-server\nVersion: 535.183.01-0ubuntu1",
        "Package: nvidia-fabricmanager-535\nVersion: 535.183.01-1",
        "Package: cuda-toolkit-12-2\nVersion: 12.2.2-1",
        "Package: libnccl2\nVersion: 2.18.5-1+cuda12.2",
        "Package: libcudnn9-cuda-12\nVersion: 9.10.2.21-1",
        "Package: nvidia-container-toolkit\nVersion: 1.17.8-1",
        "Package: datacenter-gpu-manager\nVersion: 1:3.3.8",
        "Package: nccl-tests\nVersion: 2.13.10",
    ):
        assert stanza in index, stanza


def _apt(tmp: Path, repo: Path) -> list[str]:
    for sub in (
        "state/lists/partial",
        "cache/archives/partial",
        "etc/sources.list.d",
        "etc/preferences.d",
    ):
        (tmp / sub).mkdir(parents=True, exist_ok=True)
    (tmp / "etc/sources.list").write_text(f"deb [trusted=yes] file:{repo} ./\n")
    return [
        f"-oDir::Etc::sourcelist={tmp}/etc/sources.list",
        f"-oDir::Etc::sourceparts={tmp}/etc/sources.list.d",
        f"-oDir::Etc::preferencesparts={tmp}/etc/preferences.d",
        f"-oDir::State={tmp}/state",
        f"-oDir::Cache={tmp}/cache",
        "-oDir::State::status=/dev/null",
        "-oDebug::NoLocking=1",
    ]


def test_apt_reads_the_repository(repo: Path, tmp_path: Path) -> None:
    opts = _apt(tmp_path, repo)
    update = subprocess.run(["apt-get", *opts, "update"], capture_output=True, text=True)
    assert update.returncode == 0, update.stdout + update.stderr
    assert "blank filename" not in update.stdout + update.stderr
    sim = subprocess.run(
        ["apt-get", *opts, "-s", "install", "nvidia-driver-535-server=535.183*"],
        capture_output=True,
        text=True,
    )
    assert sim.returncode == 0, sim.stderr
    assert "Inst nvidia-utils-535-server (535.183.01-0ubuntu1" in sim.stdout


def _script(repo: Path, tmp: Path, deb: str, name: str) -> Path:
    out = tmp / deb
    subprocess.run(["dpkg-deb", "-e", str(repo / deb), str(out)], check=True)
    return out / name


def _state(node: Path) -> dict[str, object]:
    return json.loads((node / "var/lib/gpuforge-sim/state.json").read_text())  # type: ignore[no-any-return]


def test_postinst_postrm_upgrade_and_remove(repo: Path, tmp_path: Path) -> None:
    from .conftest import make_node

    node = make_node(tmp_path / "node", driver=None)
    env = dict(os.environ, GPUFORGE_SIM_ROOT=str(node))
    old = "nvidia-driver-535-server_535.129.03-0ubuntu1_amd64.deb"
    new = "nvidia-driver-535-server_535.183.01-0ubuntu1_amd64.deb"
    subprocess.run(
        [str(_script(repo, tmp_path, old, "postinst")), "configure"], env=env, check=True
    )
    assert _state(node)["driver"] == {
        "version": "535.129.03",
        "package": "nvidia-driver-535-server",
        "flavor": "proprietary",
        "branch": "535",
        "cuda": "12.2",
    }
    subprocess.run(
        [str(_script(repo, tmp_path, old, "postrm")), "upgrade", "535.183.01"], env=env, check=True
    )
    subprocess.run(
        [str(_script(repo, tmp_path, new, "postinst")), "configure", "535.129.03"],
        env=env,
        check=True,
    )
    assert _state(node)["driver"]["version"] == "535.183.01"  # type: ignore[index]
    subprocess.run([str(_script(repo, tmp_path, old, "postrm")), "remove"], env=env, check=True)
    assert _state(node)["driver"]["version"] == "535.183.01"  # type: ignore[index]
    subprocess.run([str(_script(repo, tmp_path, new, "postrm")), "remove"], env=env, check=True)
    assert _state(node)["driver"] is None


def test_injected_package_failure_fails_the_postinst(repo: Path, tmp_path: Path) -> None:
    from gpuforge.fleet.sim import inject_fault

    from .conftest import make_node

    node = make_node(tmp_path / "node", driver=None)
    inject_fault(node, "package-fail", name="libnccl2")
    env = dict(os.environ, GPUFORGE_SIM_ROOT=str(node))
    script = _script(repo, tmp_path, "libnccl2_2.18.5-1+cuda12.2_amd64.deb", "postinst")
    out = subprocess.run([str(script), "configure"], env=env, capture_output=True, text=True)
    assert out.returncode == 1
    assert "libnccl2" in out.stderr
    assert "nccl" not in _state(node)["software"]  # type: ignore[operator]


def test_package_ships_the_tool(repo: Path, tmp_path: Path, run: Run) -> None:
    listing = subprocess.run(
        ["dpkg-deb", "-c", str(repo / "nvidia-utils-535-server_535.183.01-0ubuntu1_amd64.deb")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "./usr/bin/nvidia-smi" in listing and "nvidia-persistenced.service" in listing


def test_every_maintainer_script_is_valid_shell(tmp_path: Path) -> None:
    from gpuforge.catalog import load_catalog
    from gpuforge.fleet.sim._packages import all_packages

    scripts = {p.postinst() for p in all_packages(load_catalog())}
    scripts |= {p.postrm() for p in all_packages(load_catalog())}
    for i, text in enumerate(sorted(scripts)):
        path = tmp_path / f"s{i}"
        path.write_text(text)
        check = subprocess.run(["sh", "-n", str(path)], capture_output=True, text=True)
        assert check.returncode == 0, text + check.stderr


def test_every_package_version_is_offered_once() -> None:
    # CUDA updates that share a driver floor (12.6.1, 12.6.2) must not build one cuda-compat twice.
    pairs = [(p.name, p.version) for p in all_packages(load_catalog())]

    assert len(pairs) == len(set(pairs))


def test_the_distribution_repository_serves_what_automation_asks_for(
    repo: Path, tmp_path: Path
) -> None:
    opts = _apt(tmp_path, repo / "distro")
    update = subprocess.run(["apt-get", *opts, "update"], capture_output=True, text=True)
    assert update.returncode == 0, update.stdout + update.stderr
    headers = f"linux-headers-{os.uname().release}"
    names = ["pciutils", "dkms", headers, "firmware-misc-nonfree", "build-essential"]
    shown = subprocess.run(
        ["apt-cache", *opts, "show", *names], capture_output=True, text=True, check=False
    )
    assert shown.returncode == 0, shown.stderr
    assert "Package: pciutils\nVersion: 1:3.9.0-4" in shown.stdout
    assert f"Package: {headers}\n" in shown.stdout
    assert "Package: nvidia-driver-535-server" not in (repo / "distro/Packages").read_text()
