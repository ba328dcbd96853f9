"""Every rendered root parses, is `fmt`-clean, and fits the interface of the modules it calls.

The cloud roots cannot be `validate`d here (their providers are unreachable), so the hand-off a
`validate` would check is checked from the parsed HCL: every argument of a module call is a
variable of that module, every required module variable is passed, every root variable used
is declared, and every root variable without a default gets a value from terraform.tfvars.json
except the few that only the site knows (project, vCenter objects).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hcl2
import pytest

from gpuforge.provision import TerraformBinary

from .conftest import BINARY_PARAMS, CASES, TERRAFORM_HINT, roots

# Root variables without a default that the renderer cannot know: set as TF_VAR_<name>.
SITE_SPECIFIC: dict[str, set[str]] = {
    "gcp": {"gcp_project"},
    "vsphere": {
        "vsphere_compute_cluster",
        "vsphere_datastore",
        "vsphere_network",
        "vsphere_template",
        "vsphere_ipv4_cidr",
        "vsphere_ipv4_gateway",
    },
}
_VAR_REF = re.compile(r"\bvar\.([A-Za-z_][A-Za-z0-9_]*)")


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _parse(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        parsed: dict[str, Any] = hcl2.load(handle)
    return parsed


def _labelled(folder: Path, kind: str) -> dict[str, dict[str, Any]]:
    """Blocks of one kind (variable, module, output) across a folder's .tf files, by label."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.tf")):
        for entry in _parse(path).get(kind, []):
            for name, body in entry.items():
                found[_unquote(name)] = body
    return found


def _arguments(body: dict[str, Any]) -> set[str]:
    """The arguments a block sets (python-hcl2 adds bookkeeping keys wrapped in `__`)."""
    return {key for key in body if not key.startswith("__")}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_rendered_tf_file_parses(case: str, rendered: Callable[[str], Path]) -> None:
    files = sorted(rendered(case).rglob("*.tf"))
    assert files
    for path in files:
        assert isinstance(_parse(path), dict), path


@pytest.mark.parametrize("binary", BINARY_PARAMS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_rendered_folder_is_fmt_clean(
    case: str, binary: TerraformBinary | None, rendered: Callable[[str], Path]
) -> None:
    if binary is None:
        pytest.skip(f"neither tofu nor terraform is on PATH or in .tools: {TERRAFORM_HINT}")
    completed = subprocess.run(
        [str(binary.path), "fmt", "-check", "-recursive", "-diff", "-no-color", "terraform"],
        cwd=rendered(case),
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


@pytest.mark.parametrize("case", sorted(CASES))
def test_module_calls_fit_the_modules(case: str, rendered: Callable[[str], Path]) -> None:
    for target, root in roots(rendered(case)).items():
        calls = _labelled(root, "module")
        assert calls, f"{target}: the root calls no module"
        for name, call in calls.items():
            source = _unquote(call["source"])
            module = (root / source).resolve()
            assert module.parent == (root.parent / "modules").resolve(), source
            declared = _labelled(module, "variable")
            passed = _arguments(call) - {"source"}
            unknown = passed - set(declared)
            assert not unknown, f"{target} module.{name}: {module.name} has no {sorted(unknown)}"
            required = {key for key, body in declared.items() if "default" not in body}
            assert required <= passed, f"{target} module.{name}: missing {required - passed}"
            assert "nodes" in _labelled(module, "output")


@pytest.mark.parametrize("case", sorted(CASES))
def test_root_variables_are_declared_and_set(case: str, rendered: Callable[[str], Path]) -> None:
    for target, root in roots(rendered(case)).items():
        declared = _labelled(root, "variable")
        used = {ref for path in root.glob("*.tf") for ref in _VAR_REF.findall(path.read_text())}
        assert used <= set(declared), f"{target}: undeclared {sorted(used - set(declared))}"
        tfvars = json.loads((root / "terraform.tfvars.json").read_text(encoding="utf-8"))
        assert set(tfvars) <= set(declared), f"{target}: tfvars sets {set(tfvars) - set(declared)}"
        unset = {key for key, body in declared.items() if "default" not in body} - set(tfvars)
        assert unset == SITE_SPECIFIC.get(target.split("/")[0], set()), target


@pytest.mark.parametrize("case", sorted(CASES))
def test_root_outputs_cover_every_pool(case: str, rendered: Callable[[str], Path]) -> None:
    deployment = rendered(case)
    manifest = json.loads((deployment / "gpuforge.json").read_text(encoding="utf-8"))
    for target, root in roots(deployment).items():
        outputs = set(_labelled(root, "output"))
        assert outputs == {"nodes"} | {f"nodes_{pool}" for pool in manifest["targets"][target]}
