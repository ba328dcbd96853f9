"""Finding the binary (tofu preferred, explicit override, .tools fallback) and reading its text."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from gpuforge.errors import ProvisionError, ToolMissingError
from gpuforge.provision import (
    Engine,
    TerraformBinary,
    find_binary,
    find_tools_dir,
    mirror_cli_config,
)
from gpuforge.provision._events import parse_plain_diagnostics


def test_no_binary_anywhere_raises_tool_missing(tmp_path: Path) -> None:
    env = {"PATH": str(tmp_path), "GPUFORGE_TOOLS_DIR": str(tmp_path / "absent")}
    with pytest.raises(ToolMissingError) as caught:
        find_binary(env)
    assert "neither OpenTofu" in caught.value.message
    assert "scripts/setup-terraform.sh" in caught.value.fix
    assert caught.value.exit_code == 2


def test_override_that_is_not_executable_raises(tmp_path: Path) -> None:
    plain = tmp_path / "terraform"
    plain.write_text("not a binary", encoding="utf-8")
    with pytest.raises(ToolMissingError) as caught:
        find_binary({"PATH": "", "GPUFORGE_TERRAFORM": str(plain)})
    assert "not an executable file" in caught.value.message


def test_override_that_does_not_answer_version_raises() -> None:
    with pytest.raises(ToolMissingError) as caught:
        find_binary({"PATH": "", "GPUFORGE_TERRAFORM": "/bin/true"})
    assert "does not run as terraform" in caught.value.message


def test_override_wins_over_path(any_binary: TerraformBinary, tmp_path: Path) -> None:
    chosen = find_binary({"PATH": "/usr/bin:/bin", "GPUFORGE_TERRAFORM": str(any_binary.path)})
    assert (chosen.path, chosen.version) == (any_binary.path, any_binary.version)


def test_tofu_is_preferred_over_terraform(any_binary: TerraformBinary, tmp_path: Path) -> None:
    for name in ("tofu", "terraform"):
        (tmp_path / name).symlink_to(any_binary.path)
    chosen = find_binary({"PATH": str(tmp_path)})
    assert chosen.path == tmp_path / "tofu"
    assert chosen.flavor == "tofu" and chosen.supports_json_ui


def test_tools_install_is_the_fallback(tmp_path: Path) -> None:
    tools = find_tools_dir()
    if tools is None or not (tools / "bin" / "terraform").exists():
        pytest.skip("no .tools/bin/terraform: run scripts/setup-terraform.sh --with-terraform")
    chosen = find_binary({"PATH": str(tmp_path), "GPUFORGE_TOOLS_DIR": str(tools)})
    assert chosen.path == tools / "bin" / "terraform"
    assert mirror_cli_config(tools) == tools / "terraformrc"


def test_version_gates_the_json_ui() -> None:
    old = TerraformBinary(Path("terraform"), "terraform", (0, 15, 2))
    assert not old.supports_json_ui
    assert TerraformBinary(Path("terraform"), "terraform", (0, 15, 3)).supports_json_ui


def test_engine_needs_an_existing_folder(any_binary: TerraformBinary, tmp_path: Path) -> None:
    with pytest.raises(ProvisionError) as caught:
        Engine(tmp_path / "missing", binary=any_binary)
    assert "not a directory" in caught.value.message


def test_plain_diagnostics_from_coloured_framed_output(
    any_binary: TerraformBinary, tmp_path: Path
) -> None:
    (tmp_path / "main.tf").write_text('variable "x" {\n  default = [\n}\n', encoding="utf-8")
    done = subprocess.run(
        [str(any_binary.path), "init", "-input=false"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "CHECKPOINT_DISABLE": "1"},
        check=False,
    )
    assert done.returncode == 1
    errors = [d for d in parse_plain_diagnostics(done.stdout + done.stderr) if d.file]
    assert errors, done.stdout + done.stderr
    assert (errors[0].file, errors[0].severity) == ("main.tf", "error")
    assert errors[0].line in (2, 3) and errors[0].summary and "\x1b" not in errors[0].detail
