"""The stand-in APT repository builds with NVIDIA's per-distribution layout, apt can read each
distribution's repository, and the packages' maintainer scripts keep the simulated state."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from gpuforge.catalog import load_catalog
from gpuforge.fleet.sim import ensure_apt_repo, shared_apt_repo
from gpuforge.fleet.sim._apt import repository_dir
from gpuforge.fleet.sim._packages import packages_of

from .conftest import Run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository, built once for this module."""
    return ensure_apt_repo(tmp_path_factory.mktemp("apt") / "repo")


DEBIAN12 = "debian12/x86_64"
UBUNTU2204 = "ubuntu2204/x86_64"


def test_the_host_cache_holds_one_build_per_digest_shared_by_every_caller(tmp_path: Path) -> None:
    """Fleet state folders share one build in the host's cache, named by its digest: a second
    caller gets the same folder, not a rebuild."""
    built = shared_apt_repo(tmp_path)
    assert built.parent == tmp_path
    assert (built / ".stamp").read_text().startswith(built.name)
    mtime = (built / DEBIAN12 / "Packages").stat().st_mtime
    assert shared_apt_repo(tmp_path) == built
    assert (built / DEBIAN12 / "Packages").stat().st_mtime == mtime
    assert [p.name for p in tmp_path.iterdir()] == [built.name]


def test_each_distribution_has_a_flat_repository_and_the_build_is_cached(repo: Path) -> None:
    for distro in ("debian12", "ubuntu2204", "ubuntu2404"):
        for name in ("Packages", "Packages.gz", "Release", "cuda-keyring_1.1-1_all.deb"):
            assert (repository_dir(repo, distro) / name).is_file(), (distro, name)
    assert not (repo / "Packages").exists()  # no repository for all distributions at once
    stamp = (repo / ".stamp").read_text()
    mtime = (repo / DEBIAN12 / "Packages").stat().st_mtime
    assert ensure_apt_repo(repo) == repo
    assert (repo / ".stamp").read_text() == stamp
    assert (repo / DEBIAN12 / "Packages").stat().st_mtime == mtime


def test_the_ubuntu_repository_names_the_driver_as_nvidias_ubuntu2204_does(repo: Path) -> None:
    index = (repo / UBUNTU2204 / "Packages").read_text()
    for stanza in (
        "Package: cuda-keyring\nVersion: 1.1-1\nArchitecture: all",
        "Package: nvidia-driver-535\nVersion: 535.183.01-0ubuntu1",
        "Package: nvidia-driver-550-open\nVersion: 550.90.07-0ubuntu1",
        "Package: nvidia-utils-535\nVersion: 535.183.01-0ubuntu1",
        "Package: cuda-drivers-535\nVersion: 535.183.01-1",
    ):
        assert stanza in index, stanza
    assert "-server" not in index and "Package: nvidia-kernel-open-dkms" not in index


def test_the_debian_repository_names_the_driver_as_nvidias_debian12_does(repo: Path) -> None:
    index = (repo / DEBIAN12 / "Packages").read_text()
    for stanza in (
        "Package: cuda-keyring\nVersion: 1.1-1\nArchitecture: all",
        "Package: nvidia-driver\nVersion: 580.95.05-1",
        "Package: nvidia-kernel-open-dkms\nVersion: 580.95.05-1",
        "Package: nvidia-kernel-dkms\nVersion: 535.183.01-1",
        "Package: nvidia-open\nVersion: 580.95.05-1",
        "Package: cuda-drivers-580\nVersion: 580.95.05-1",
        "Package: nvidia-driver-pinning-580\nVersion: 580-1",
    ):
        assert stanza in index, stanza
    assert "0ubuntu1" not in index and "Package: nvidia-driver-5" not in index


def test_packages_follow_the_contract(repo: Path) -> None:
    index = (repo / DEBIAN12 / "Packages").read_text()
    for stanza in (
        "Package: nvidia-fabricmanager-535\nVersion: 535.183.01-1",
        "Package: cuda-toolkit-12-2\nVersion: 12.2.2-1",
        "Package: libnccl2\nVersion: 2.18.5-1+cuda12.2",
        "Package: libcudnn9-cuda-12\nVersion: 9.10.2.21-1",
        "Package: nvidia-container-toolkit\nVersion: 1.17.8-1",
        "Package: datacenter-gpu-manager\nVersion: 1:3.3.8",
        "Package: nccl-tests\nVersion: 2.13.10",
    ):
        assert stanza in index, stanza


def _apt(tmp: Path, repo: Path, suite: str = "/") -> list[str]:
    for sub in (
        "state/lists/partial",
        "cache/archives/partial",
        "etc/sources.list.d",
        "etc/preferences.d",
    ):
        (tmp / sub).mkdir(parents=True, exist_ok=True)
    (tmp / "etc/sources.list").write_text(f"deb [trusted=yes] file:{repo} {suite}\n")
    return [
        f"-oDir::Etc::sourcelist={tmp}/etc/sources.list",
        f"-oDir::Etc::sourceparts={tmp}/etc/sources.list.d",
        f"-oDir::Etc::preferencesparts={tmp}/etc/preferences.d",
        f"-oDir::State={tmp}/state",
        f"-oDir::Cache={tmp}/cache",
        "-oDir::State::status=/dev/null",
        "-oDebug::NoLocking=1",
    ]


def _simulate(tmp: Path, repo: Path, *install: str) -> str:
    opts = _apt(tmp, repo)
    update = subprocess.run(["apt-get", *opts, "update"], capture_output=True, text=True)
    assert update.returncode == 0, update.stdout + update.stderr
    assert "blank filename" not in update.stdout + update.stderr
    sim = subprocess.run(
        ["apt-get", *opts, "-s", "install", *install], capture_output=True, text=True
    )
    assert sim.returncode == 0, sim.stdout + sim.stderr
    return sim.stdout


def test_apt_installs_the_branch_metapackage_from_each_repository(
    repo: Path, tmp_path: Path
) -> None:
    ubuntu = _simulate(tmp_path / "u", repo / UBUNTU2204, "cuda-drivers-535")
    assert "Inst nvidia-driver-535 (535.183.01-0ubuntu1" in ubuntu
    assert "Inst nvidia-compute-utils-535 (535.183.01-0ubuntu1" in ubuntu
    # Debian's names carry no branch: without the pinning package the versions are explicit.
    names = ("nvidia-driver", "nvidia-kernel-dkms", "nvidia-smi", "nvidia-persistenced")
    debian = _simulate(
        tmp_path / "d", repo / DEBIAN12, "cuda-drivers-580", *(f"{n}=580.95.05-1" for n in names)
    )
    assert "Inst cuda-drivers-580 (580.95.05-1" in debian
    # What the lock of a Debian 12 pool with open modules pins.
    lock = ("nvidia-driver", "nvidia-kernel-open-dkms", "nvidia-smi", "nvidia-persistenced")
    opened = _simulate(tmp_path / "o", repo / DEBIAN12, *(f"{n}=580.95.05-1" for n in lock))
    assert "Inst nvidia-kernel-open-dkms (580.95.05-1" in opened
    assert "Inst nvidia-kernel-dkms" not in opened


def _script(repo: Path, tmp: Path, deb: str, name: str) -> Path:
    out = tmp / deb.replace("/", "_")
    subprocess.run(["dpkg-deb", "-e", str(repo / deb), str(out)], check=True)
    return out / name


def _state(node: Path) -> dict[str, object]:
    return json.loads((node / "var/lib/gpuforge-sim/state.json").read_text())  # type: ignore[no-any-return]


def test_postinst_postrm_upgrade_and_remove(repo: Path, tmp_path: Path) -> None:
    from .conftest import make_node

    node = make_node(tmp_path / "node", driver=None)
    env = dict(os.environ, GPUFORGE_SIM_ROOT=str(node))
    old = f"{UBUNTU2204}/nvidia-driver-535_535.129.03-0ubuntu1_amd64.deb"
    new = f"{UBUNTU2204}/nvidia-driver-535_535.183.01-0ubuntu1_amd64.deb"
    subprocess.run(
        [str(_script(repo, tmp_path, old, "postinst")), "configure"], env=env, check=True
    )
    assert _state(node)["driver"] == {
        "version": "535.129.03",
        "package": "nvidia-driver-535",
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
    script = _script(repo, tmp_path, f"{DEBIAN12}/libnccl2_2.18.5-1+cuda12.2_amd64.deb", "postinst")
    out = subprocess.run([str(script), "configure"], env=env, capture_output=True, text=True)
    assert out.returncode == 1
    assert "libnccl2" in out.stderr
    assert "nccl" not in _state(node)["software"]  # type: ignore[operator]


def test_package_ships_the_tool(repo: Path, tmp_path: Path, run: Run) -> None:
    listing = subprocess.run(
        [
            "dpkg-deb",
            "-c",
            str(repo / UBUNTU2204 / "nvidia-compute-utils-535_535.183.01-0ubuntu1_amd64.deb"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "./usr/bin/nvidia-persistenced" in listing and "nvidia-persistenced.service" in listing


def test_every_maintainer_script_is_valid_shell(tmp_path: Path) -> None:
    from gpuforge.catalog import load_catalog

    every = [p for r in ("debian12", "ubuntu2204") for p in packages_of(load_catalog(), r)]
    scripts = {p.postinst() for p in every} | {p.postrm() for p in every}
    for i, text in enumerate(sorted(scripts)):
        path = tmp_path / f"s{i}"
        path.write_text(text)
        check = subprocess.run(["sh", "-n", str(path)], capture_output=True, text=True)
        assert check.returncode == 0, text + check.stderr


def test_every_package_version_is_offered_once() -> None:
    # CUDA updates that share a driver floor (12.6.1, 12.6.2) must not build one cuda-compat twice.
    for distro in ("debian12", "ubuntu2204", "ubuntu2404"):
        pairs = [(p.name, p.version) for p in packages_of(load_catalog(), distro)]
        assert len(pairs) == len(set(pairs)), distro


def test_the_distribution_repository_serves_what_automation_asks_for(
    repo: Path, tmp_path: Path
) -> None:
    opts = _apt(tmp_path, repo / "distro", "./")
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
    assert "Package: nvidia-driver" not in (repo / "distro/Packages").read_text()


def test_each_repositorys_keyring_names_that_repository(repo: Path, tmp_path: Path) -> None:
    """The keyrings share a file name across repositories, not their APT source."""
    for distro in ("debian12", "ubuntu2204", "ubuntu2404"):
        out = tmp_path / distro
        deb = repository_dir(repo, distro) / "cuda-keyring_1.1-1_all.deb"
        subprocess.run(["dpkg-deb", "-x", str(deb), str(out)], check=True)
        source = (out / f"etc/apt/sources.list.d/cuda-{distro}-x86_64.list").read_text()
        assert source == f"deb [trusted=yes] file:/srv/gpuforge-apt/{distro}/x86_64/ /\n"
