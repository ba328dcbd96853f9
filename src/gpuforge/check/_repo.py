"""An APT repository's `Packages` index: which versions of the stack's packages it offers.

Read from a file, a folder holding `Packages`/`Packages.gz`, or a `file:`/`http(s):` URL of a
flat repository (NVIDIA's CUDA repository, a site mirror, or the fleet's stand-in). Control data
is parsed and Debian versions are compared with python-debian, as APT would order them.
"""

from __future__ import annotations

import gzip
import io
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from functools import cmp_to_key
from pathlib import Path

from debian.deb822 import Packages
from debian.debian_support import Version as DebVersion
from debian.debian_support import version_compare

from gpuforge.catalog import PackagePin, Version
from gpuforge.errors import InputError
from gpuforge.spec import SpecDocument

# The branch metapackage every CUDA repository carries, whatever its driver packaging.
_DRIVER = re.compile(r"^cuda-drivers-(\d+)$")
_TOOLKIT = re.compile(r"^cuda-toolkit-(\d+)-(\d+)$")
_CUDNN = re.compile(r"^libcudnn9-cuda-(\d+)$")
_NCCL_BUILD = re.compile(r"\+cuda(\d+\.\d+)$")
_TIMEOUT_S = 20
_INDEX_NAMES = ("Packages.gz", "Packages")


def _upstream(debian_version: str) -> Version | None:
    """The upstream part of a Debian version as a dotted number, or None when it is not one."""
    try:
        return Version.parse(DebVersion(debian_version).upstream_version or "")
    except ValueError:
        return None


@dataclass(frozen=True)
class RepoIndex:
    """Package name -> the Debian versions the repository offers, newest first."""

    source: str
    packages: dict[str, tuple[str, ...]]

    @classmethod
    def parse(cls, text: str, source: str) -> RepoIndex:
        """Read a `Packages` index; stanzas without Package or Version are skipped."""
        found: dict[str, set[str]] = {}
        for stanza in Packages.iter_paragraphs(io.StringIO(text), use_apt_pkg=False):
            name, version = stanza.get("Package"), stanza.get("Version")
            if name and version:
                found.setdefault(name, set()).add(version)
        newest_first = cmp_to_key(lambda a, b: version_compare(b, a))
        return cls(source, {n: tuple(sorted(v, key=newest_first)) for n, v in found.items()})

    def offers(self, pin: PackagePin) -> bool:
        """True when the repository has this package at exactly this version."""
        return any(version_compare(pin.version, v) == 0 for v in self.packages.get(pin.name, ()))

    def _upstreams(self, pattern: re.Pattern[str]) -> list[Version]:
        found = {
            up.parts: up
            for name, versions in self.packages.items()
            if pattern.match(name)
            for v in versions
            if (up := _upstream(v)) is not None
        }
        return sorted(found.values())

    def driver_versions(self) -> list[Version]:
        """Driver versions of every branch's metapackage (`cuda-drivers-<branch>`), oldest first."""
        return self._upstreams(_DRIVER)

    def cuda_versions(self) -> list[Version]:
        """CUDA toolkit updates (X.Y.Z), oldest first."""
        return self._upstreams(_TOOLKIT)

    def nccl_builds(self) -> dict[Version, tuple[str, ...]]:
        """NCCL versions of libnccl2 and the CUDA builds (`12.2`) each is offered for."""
        builds: dict[tuple[int, ...], tuple[Version, set[str]]] = {}
        for debian_version in self.packages.get("libnccl2", ()):
            upstream, match = _upstream(debian_version), _NCCL_BUILD.search(debian_version)
            if upstream is not None and match:
                builds.setdefault(upstream.parts, (upstream, set()))[1].add(match.group(1))
        return {v: tuple(sorted(b)) for v, b in sorted(builds.values())}

    def cudnn_builds(self) -> dict[Version, tuple[int, ...]]:
        """cuDNN 9 versions and the CUDA majors each is built for."""
        builds: dict[tuple[int, ...], tuple[Version, set[int]]] = {}
        for name, versions in self.packages.items():
            match = _CUDNN.match(name)
            for debian_version in versions if match else ():
                upstream = _upstream(debian_version)
                if upstream is not None and match:
                    builds.setdefault(upstream.parts, (upstream, set()))[1].add(int(match[1]))
        return {v: tuple(sorted(m)) for v, m in sorted(builds.values())}

    def upstream_versions(self, name: str) -> list[Version]:
        """Upstream versions of one package (container toolkit, DCGM), oldest first."""
        return self._upstreams(re.compile(f"^{re.escape(name)}$"))


def _read_location(location: str) -> bytes:
    parsed = urllib.parse.urlparse(location)
    if parsed.scheme in ("http", "https"):
        base = location if location.endswith(("/Packages", "/Packages.gz")) else None
        candidates = [base] if base else [f"{location.rstrip('/')}/{n}" for n in _INDEX_NAMES]
        last: Exception | None = None
        for url in candidates:
            try:
                with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response:
                    data: bytes = response.read()
                    return data
            except (urllib.error.URLError, OSError) as error:
                last = error
        raise OSError(f"cannot read {location} ({last})")
    path = Path(urllib.parse.unquote(parsed.path) if parsed.scheme == "file" else location)
    if path.is_dir():
        for name in _INDEX_NAMES:
            if (path / name).is_file():
                return (path / name).read_bytes()
        raise OSError(f"{path} holds no Packages or Packages.gz")
    return path.read_bytes()


def read_repo_index(location: str) -> RepoIndex:
    """Read the `Packages` index at a path or URL; InputError when it cannot be read."""
    try:
        data = _read_location(location)
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile) as error:
        raise InputError(
            f"repository index {location}: {error}",
            "give --repo a Packages file, a folder holding one, or the URL of a flat APT "
            "repository (the folder with Packages.gz), or leave --repo out to use the catalog",
        ) from None
    index = RepoIndex.parse(text, location)
    if not index.packages:
        raise InputError(
            f"repository index {location}: no package stanzas found",
            "point --repo at an APT Packages index (Package: and Version: fields)",
        )
    return index


def repo_for(doc: SpecDocument, explicit: str | None = None) -> RepoIndex | None:
    """The nodes' repository index: `explicit` (`--repo`, InputError when unreadable), else the
    spec's software.repository_url when it can be read, else None and the catalog decides."""
    if explicit:
        return read_repo_index(explicit)
    location = doc.spec.software.repository_url
    if not location:
        return None
    try:
        return read_repo_index(location)
    except InputError:
        return None
