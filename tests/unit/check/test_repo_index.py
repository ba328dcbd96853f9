"""Reading an APT `Packages` index: plain or gzip, a file, a folder, a file: URL, or over HTTP
(from a server on loopback); Debian version order from python-debian, epochs included."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gpuforge.catalog import PackagePin, Version
from gpuforge.check import RepoIndex, read_repo_index
from gpuforge.errors import InputError

INDEX = """Package: datacenter-gpu-manager
Version: 1:3.3.9
Architecture: amd64

Package: datacenter-gpu-manager
Version: 1:3.3.10
Architecture: amd64

Package: cuda-drivers-580
Version: 580.95.05-1
Architecture: amd64

Package: cuda-drivers-580
Version: 580.105.08-1
Architecture: amd64

Package: nvidia-driver-580-open
Version: 580.95.05-0ubuntu1
Architecture: amd64

Package: libnccl2
Version: 2.27.5-1+cuda12.9
Architecture: amd64

Package: libnccl2
Version: 2.27.5-1+cuda13.0
Architecture: amd64
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "Packages.gz").write_bytes(gzip.compress(INDEX.encode()))
    return tmp_path


@pytest.fixture
def served(folder: Path) -> Iterator[str]:
    handler = partial(SimpleHTTPRequestHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        thread.join()


def test_versions_are_ordered_as_debian_orders_them() -> None:
    index = RepoIndex.parse(INDEX, "inline")

    assert index.packages["datacenter-gpu-manager"] == ("1:3.3.10", "1:3.3.9")
    assert [str(v) for v in index.upstream_versions("datacenter-gpu-manager")] == [
        "3.3.9",
        "3.3.10",
    ]
    assert [str(v) for v in index.driver_versions()] == ["580.95.05", "580.105.08"]
    assert index.nccl_builds() == {Version.parse("2.27.5"): ("12.9", "13.0")}
    assert index.offers(PackagePin("datacenter-gpu-manager", "1:3.3.9"))
    assert not index.offers(PackagePin("datacenter-gpu-manager", "3.3.9"))


@pytest.mark.parametrize("how", ["folder", "file", "file-url", "http"])
def test_every_location_reads_the_same_index(folder: Path, served: str, how: str) -> None:
    location = {
        "folder": str(folder),
        "file": str(folder / "Packages.gz"),
        "file-url": f"file://{folder}",
        "http": served,
    }[how]

    assert read_repo_index(location).packages == RepoIndex.parse(INDEX, "x").packages


@pytest.mark.parametrize("text", ["", "not an index at all\n"])
def test_an_index_without_packages_is_bad_input(tmp_path: Path, text: str) -> None:
    (tmp_path / "Packages").write_text(text, encoding="utf-8")

    with pytest.raises(InputError, match="no package stanzas"):
        read_repo_index(str(tmp_path))


def test_an_unreachable_url_is_bad_input_naming_it() -> None:
    with pytest.raises(InputError, match=r"127\.0\.0\.1:9/repo"):
        read_repo_index("http://127.0.0.1:9/repo")
