"""Build the local stand-in APT repository that fleet nodes install from.

Its layout is that of NVIDIA's CUDA repositories: one flat repository per distribution under
`<distro>/x86_64/` (ubuntu2204, ubuntu2404, debian12), used inside nodes as
`deb [trusted=yes] file:/srv/gpuforge-apt/debian12/x86_64/ /`, each with its own driver packaging,
its `cuda-keyring` and the packages all of them share. Each distinct package is built once under
`.pool/` and linked into every repository that carries it (ubuntu2204 and ubuntu2404 differ only
in their keyring). Built once per input set: `.stamp` holds a hash of
the package lists and the tool scripts; a matching stamp skips the build. Its `distro/` folder is
one more flat repository, the node's distribution sources (`file:/srv/gpuforge-apt/distro ./`):
stand-ins of the Debian packages automation asks for.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from gpuforge.catalog import load_catalog
from gpuforge.errors import FleetError, ToolMissingError
from gpuforge.fleet.sim._packages import (
    Package,
    distribution_packages,
    repository_packages,
    shared_packages,
)
from gpuforge.fleet.sim._seed import hash_tools, tool_launcher

_FORMAT = "7"  # bump when the repository layout or package build changes
DISTRO = "distro"
POOL = ".pool"
ARCH_DIR = "x86_64"
# dpkg-deb processes at once while building the repository (the first node-up waits for it).
_BUILDERS = max(2, os.cpu_count() or 1)


def _inputs_hash(packages: list[Package]) -> str:
    digest = hashlib.sha256(_FORMAT.encode())
    for pkg in packages:
        digest.update(repr(pkg).encode())
    hash_tools(digest)
    return digest.hexdigest()


def deb_filename(pkg: Package) -> str:
    """The pool file name of a package (epoch dropped, as Debian archives do)."""
    return f"{pkg.name}_{pkg.version.split(':', 1)[-1]}_{pkg.arch}.deb"


def _stage(pkg: Package, into: Path) -> None:
    debian = into / "DEBIAN"
    debian.mkdir(parents=True)
    (debian / "control").write_text(pkg.control())
    for name, text in (("postinst", pkg.postinst()), ("postrm", pkg.postrm())):
        script = debian / name
        script.write_text(text)
        script.chmod(0o755)
    for dest, tool in pkg.tools.items():
        target = into / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(tool_launcher(tool))
        target.chmod(0o755)
    for dest, text in pkg.texts.items():
        target = into / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        target.chmod(0o755 if "/bin/" in f"/{dest}" else 0o644)


def _build_deb(pkg: Package, out: Path, scratch: Path) -> None:
    stage = scratch / pkg.name / pkg.version.replace(":", "_")
    _stage(pkg, stage)
    cmd = ["dpkg-deb", "--root-owner-group", "-Zgzip", "-z1", "--build", str(stage), str(out)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise FleetError(
            f"dpkg-deb failed for {pkg.name} {pkg.version}: {result.stderr.strip()}",
            fix="check that dpkg-deb works (apt-get install dpkg-dev) and the disk has space",
        )


def _stanza(pkg: Package, deb: Path) -> str:
    data = deb.read_bytes()
    fields = pkg.control().rstrip("\n").split("\n")
    description = fields.pop()
    fields += [
        f"Filename: ./{deb.name}",
        f"Size: {len(data)}",
        f"MD5sum: {hashlib.md5(data).hexdigest()}",
        f"SHA256: {hashlib.sha256(data).hexdigest()}",
        description,
    ]
    return "\n".join(fields) + "\n"


def _release(dest: Path) -> str:
    files = [dest / "Packages", dest / "Packages.gz"]
    lines = [
        "Origin: gpuforge",
        "Label: gpuforge simulated NVIDIA stack",
        "Architectures: amd64",
        time.strftime("Date: %a, %d %b %Y %H:%M:%S UTC", time.gmtime()),
        "MD5Sum:",
    ]
    lines += [
        f" {hashlib.md5(f.read_bytes()).hexdigest()} {f.stat().st_size} {f.name}" for f in files
    ]
    lines.append("SHA256:")
    lines += [
        f" {hashlib.sha256(f.read_bytes()).hexdigest()} {f.stat().st_size} {f.name}" for f in files
    ]
    return "\n".join(lines) + "\n"


def _pooled(pool_dir: Path, pkg: Package) -> Path:
    """Where a package's .deb is built: one folder per distinct package (name, version, files),
    so packages that are the same in several repositories are built once, and packages that
    only share a file name (each repository's cuda-keyring) are not mixed up."""
    key = hashlib.sha256(repr(pkg).encode()).hexdigest()[:16]
    return pool_dir / key / deb_filename(pkg)


def _build_debs(pool_dir: Path, packages: list[Package]) -> None:
    """Build every distinct package's .deb under `pool_dir`, side by side."""
    unique = {_pooled(pool_dir, pkg): pkg for pkg in packages}
    for deb in unique:
        deb.parent.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="gpuforge-apt-") as tmp,
        ThreadPoolExecutor(max_workers=_BUILDERS) as pool,
    ):
        # dpkg-deb runs as a child process, so threads build packages side by side.
        work = [(pkg, deb, Path(tmp) / deb.parent.name) for deb, pkg in unique.items()]
        list(pool.map(lambda job: _build_deb(*job), work))


def _link(source: Path, target: Path) -> None:
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _index_flat(dest: Path, packages: list[Package], pool_dir: Path) -> None:
    """Link each package's built .deb from `pool_dir` into `dest`; write Packages(.gz) and
    Release."""
    dest.mkdir(parents=True, exist_ok=True)
    debs = [dest / deb_filename(pkg) for pkg in packages]
    for pkg, deb in zip(packages, debs, strict=True):
        _link(_pooled(pool_dir, pkg), deb)
    stanzas = [_stanza(pkg, deb) for pkg, deb in zip(packages, debs, strict=True)]
    wanted = {deb.name for deb in debs}
    for old in dest.glob("*.deb"):
        if old.name not in wanted:
            old.unlink()
    index = "\n".join(stanzas)
    (dest / "Packages.tmp").write_text(index)
    (dest / "Packages.tmp").replace(dest / "Packages")
    with gzip.open(dest / "Packages.gz.tmp", "wt", compresslevel=6) as gz:
        gz.write(index)
    (dest / "Packages.gz.tmp").replace(dest / "Packages.gz")
    (dest / "Release").write_text(_release(dest))


def _drop_flat_root(dest: Path) -> None:
    """Remove what an older build left at the top (one flat repository for all distributions)."""
    for old in [*dest.glob("*.deb"), *(dest / n for n in ("Packages", "Packages.gz", "Release"))]:
        old.unlink(missing_ok=True)


def repository_dir(root: Path, repo: str) -> Path:
    """The flat repository of one distribution (`debian12`) inside the stand-in at `root`."""
    return root / repo / ARCH_DIR


@dataclass(frozen=True)
class _Build:
    """What one build of the stand-in writes: its stamp (a digest of every package), each
    repository's own packages, the packages every repository shares, and the distribution's."""

    stamp: str
    per_repo: dict[str, list[Package]]
    shared: list[Package]
    distro: list[Package]
    everything: list[Package]


def _build_inputs() -> _Build:
    """The packages of this host's build, and the stamp that names it."""
    if shutil.which("dpkg-deb") is None:
        raise ToolMissingError(
            "dpkg-deb is needed to build the simulated APT repository",
            fix="install it: apt-get install dpkg-dev",
        )
    catalog = load_catalog()
    shared = shared_packages(catalog)
    per_repo = repository_packages(catalog)
    distro = distribution_packages(os.uname().release)
    everything = [pkg for own in per_repo.values() for pkg in own] + shared + distro
    return _Build(_inputs_hash(everything), per_repo, shared, distro, everything)


def ensure_apt_repo(dest: Path) -> Path:
    """Build the stand-in repository into `dest` unless it is already current; return `dest`."""
    return _ensure(dest, _build_inputs())


def shared_apt_repo(cache: Path) -> Path:
    """The stand-in repository in `cache`, in a folder named by its build's digest: built once
    for every fleet state folder on the host, and never rebuilt in place (a newer build gets a
    folder of its own), so nodes that mount one keep it as it was."""
    build = _build_inputs()
    return _ensure(cache / build.stamp[:16], build)


def _ensure(dest: Path, build: _Build) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    with (dest / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp_file = dest / ".stamp"
        if stamp_file.is_file() and stamp_file.read_text().strip() == build.stamp:
            return dest
        stamp_file.unlink(missing_ok=True)
        _drop_flat_root(dest)
        pool_dir = dest / POOL
        shutil.rmtree(pool_dir, ignore_errors=True)
        _build_debs(pool_dir, build.everything)
        for repo, own in build.per_repo.items():
            _index_flat(repository_dir(dest, repo), own + build.shared, pool_dir)
        _index_flat(dest / DISTRO, build.distro, pool_dir)
        stamp_file.write_text(build.stamp + "\n")
    return dest
