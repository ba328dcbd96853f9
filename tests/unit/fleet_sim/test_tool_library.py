"""The nodes' tool library is compiled once per fleet and copied into each node."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from gpuforge.fleet.sim._seed import (
    LIB_DIR,
    SYSTEMCTL_MODULE,
    TOOLS_DIR,
    build_tool_library,
    install_tool_library,
)

HOST_SYSTEMCTL = '#!/usr/bin/python3\nprint("systemctl stand-in")\n'


def _flags(pyc: Path) -> int:
    """The PEP 552 flags word of a .pyc: 3 is hash-based and checked against the source."""
    return int.from_bytes(pyc.read_bytes()[4:8], "little")


def test_the_library_is_built_once_with_hash_checked_bytecode(tmp_path: Path) -> None:
    host = tmp_path / "systemctl"
    host.write_text(HOST_SYSTEMCTL)
    cache = tmp_path / "cache"
    library = build_tool_library(cache, host)
    modules = [*(p.name for p in TOOLS_DIR.glob("*.py")), f"{SYSTEMCTL_MODULE}.py"]
    assert sorted(p.name for p in library.glob("*.py")) == sorted(modules)
    tag = sys.implementation.cache_tag
    pycs = sorted(p.name for p in (library / "__pycache__").glob(f"*.{tag}.pyc"))
    assert pycs == sorted(f"{name.removesuffix('.py')}.{tag}.pyc" for name in modules)
    assert {_flags(p) for p in (library / "__pycache__").iterdir()} == {3}
    marker = library / "built-here"
    marker.write_text("")
    assert build_tool_library(cache, host) == library and marker.exists()
    assert list(cache.iterdir()) == [library]


def test_other_inputs_build_a_new_library_and_drop_the_old(tmp_path: Path) -> None:
    host = tmp_path / "systemctl"
    host.write_text(HOST_SYSTEMCTL)
    cache = tmp_path / "cache"
    first = build_tool_library(cache, host)
    host.write_bytes(b"\x7fELF\x02\x01\x01")  # a binary systemctl: nothing to shadow
    second = build_tool_library(cache, host)
    assert second != first and not first.exists()
    assert not (second / f"{SYSTEMCTL_MODULE}.py").exists()
    root = tmp_path / "node"
    install_tool_library(root, second)
    assert not (root / "usr/bin/systemctl").exists()
    assert (root / LIB_DIR / "simlib.py").is_file()


def test_a_node_copy_loads_the_bytecode_and_recompiles_an_edited_source(tmp_path: Path) -> None:
    host = tmp_path / "systemctl"
    host.write_text(HOST_SYSTEMCTL)
    root = tmp_path / "node"
    install_tool_library(root, build_tool_library(tmp_path / "cache", host))
    module = root / LIB_DIR / f"{SYSTEMCTL_MODULE}.py"
    assert (root / "usr/bin/systemctl").exists()
    pyc = Path(importlib.util.cache_from_source(str(module)))
    # The copy's bytecode matches the copy's source (the hash a checked .pyc is loaded by).
    assert pyc.read_bytes()[8:16] == importlib.util.source_hash(module.read_bytes())
    module.write_text('print("edited")\n')
    imported = f"import sys; sys.path.insert(0, {str(module.parent)!r}); import {SYSTEMCTL_MODULE}"
    done = subprocess.run(
        [sys.executable, "-S", "-c", imported], capture_output=True, text=True, check=True
    )
    assert done.stdout == "edited\n"
