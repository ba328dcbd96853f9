"""The nodes' tool library is compiled once per fleet and copied into each node."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from gpuforge.errors import FleetError
from gpuforge.fleet.sim._seed import (
    LIB_DIR,
    STAND_IN_SYSTEMCTL,
    STAND_IN_SYSTEMCTL_ENV,
    SYSTEMCTL_MODULE,
    TOOLS_DIR,
    build_tool_library,
    install_tool_library,
    python_script,
    stand_in_systemctl,
)

STAND_IN = '#!/usr/bin/python3\nprint("systemctl stand-in")\n'


def _flags(pyc: Path) -> int:
    """The PEP 552 flags word of a .pyc: 3 is hash-based and checked against the source."""
    return int.from_bytes(pyc.read_bytes()[4:8], "little")


def test_the_library_is_built_once_with_hash_checked_bytecode(tmp_path: Path) -> None:
    host = tmp_path / "systemctl"
    host.write_text(STAND_IN)
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
    host.write_text(STAND_IN)
    cache = tmp_path / "cache"
    first = build_tool_library(cache, host)
    host.write_text(STAND_IN + "# a newer stand-in\n")
    second = build_tool_library(cache, host)
    assert second != first and not first.exists()
    assert (second / f"{SYSTEMCTL_MODULE}.py").read_text().endswith("# a newer stand-in\n")


def test_a_binary_or_missing_stand_in_is_refused_with_the_set_up_fix(tmp_path: Path) -> None:
    binary = tmp_path / "systemctl"
    binary.write_bytes(b"\x7fELF\x02\x01\x01")  # systemd's systemctl: the nodes never run it
    for stand_in in (binary, tmp_path / "missing"):
        with pytest.raises(FleetError) as caught:
            build_tool_library(tmp_path / "cache", stand_in)
        assert str(stand_in) in str(caught.value) and "scripts/setup.sh" in caught.value.fix
    assert not list((tmp_path / "cache").glob("*"))


def test_the_default_stand_in_is_set_ups_unpacked_script_or_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(STAND_IN_SYSTEMCTL_ENV, raising=False)
    assert stand_in_systemctl() == STAND_IN_SYSTEMCTL
    assert python_script(STAND_IN_SYSTEMCTL), "scripts/setup.sh unpacks the stand-in there"
    own = tmp_path / "systemctl"
    own.write_text(STAND_IN)
    monkeypatch.setenv(STAND_IN_SYSTEMCTL_ENV, str(own))
    library = build_tool_library(tmp_path / "cache")
    assert (library / f"{SYSTEMCTL_MODULE}.py").read_text() == STAND_IN


def test_a_node_copy_loads_the_bytecode_and_recompiles_an_edited_source(tmp_path: Path) -> None:
    host = tmp_path / "systemctl"
    host.write_text(STAND_IN)
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
