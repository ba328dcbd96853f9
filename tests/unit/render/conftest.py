"""Shared set-up of the renderer tests: the specs rendered once per session, and tree helpers.

Every case is rendered with the same fixed `as_of`, so the lock (and so every rendered file)
depends only on the spec, the catalog and the renderer.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import hcl2
import pytest

from gpuforge.check import Lock, make_context, solve_lock
from gpuforge.errors import ToolMissingError
from gpuforge.provision import TerraformBinary, find_tools_dir, probe_binary
from gpuforge.render import MANIFEST, RenderResult, render_deployment
from gpuforge.spec import ClusterSpec, load_spec, load_spec_text

REPO_ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = REPO_ROOT / "examples"
SPECS = REPO_ROOT / "tests" / "fixtures" / "specs"
GOLDEN = REPO_ROOT / "tests" / "fixtures" / "golden"
MODULES = REPO_ROOT / "src" / "gpuforge" / "terraform" / "modules"
COLLECTION = REPO_ROOT / "src" / "gpuforge" / "ansible_collections" / "gpuforge" / "gpu"
AS_OF = date(2025, 6, 1)
AS_OF_TEXT = AS_OF.isoformat()
VENDORED = "terraform/modules/"

# Golden folder name -> spec: every example that renders, plus one gcp and one onprem spec.
CASES: dict[str, Path] = {
    "local": EXAMPLES / "local.yaml",
    "aws-training": EXAMPLES / "aws-training.yaml",
    "multi-cloud-a100": EXAMPLES / "multi-cloud-a100.yaml",
    "gcp": SPECS / "render-gcp.yaml",
    "onprem": SPECS / "render-onprem.yaml",
}


def solve(spec: Path | str) -> tuple[ClusterSpec, Lock]:
    """Load a spec (a path, or YAML text) and solve its lock as of AS_OF."""
    doc = load_spec(spec) if isinstance(spec, Path) else load_spec_text(spec)
    return doc.spec, solve_lock(make_context(doc, AS_OF))


def render(spec: Path | str, out: Path) -> RenderResult:
    """Render a spec (path or YAML text) into `out` with a lock solved as of AS_OF."""
    cluster, lock = solve(spec)
    return render_deployment(cluster, lock, out)


def read_tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, by POSIX path relative to it, with its bytes; the `.bak`
    copies gpuforge keeps to recover from (gpuforge.json.bak) are not rendered files."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.suffix != ".bak"
    }


def roots(deployment: Path) -> dict[str, Path]:
    """Target (`aws/us-east-1`) -> root folder, as the deployment's manifest lists them."""
    manifest = json.loads((deployment / MANIFEST).read_text(encoding="utf-8"))
    return {target: deployment / folder for target, folder in manifest["roots"].items()}


def _hcl_value(value: Any) -> Any:
    """python-hcl2 keeps string literals quoted ('"x"'); unquote them, recursively."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return json.loads(value)
    if isinstance(value, list):
        return [_hcl_value(item) for item in value]
    if isinstance(value, dict):
        return {k: _hcl_value(v) for k, v in value.items() if k != "__is_block__"}
    return value


def pool_inputs(root: Path) -> dict[str, dict[str, Any]]:
    """Each `module "pool_<name>"` call of a root's main.tf: pool name -> its arguments."""
    with (root / "main.tf").open(encoding="utf-8") as handle:
        parsed = hcl2.load(handle)
    calls: dict[str, dict[str, Any]] = {}
    for block in parsed.get("module", []):
        for label, body in block.items():
            name = json.loads(label) if label.startswith('"') else label
            if name.startswith("pool_"):
                calls[name.removeprefix("pool_")] = _hcl_value(body)
    return calls


def terraform_binaries() -> list[TerraformBinary]:
    """Every distinct tofu/terraform version reachable here: PATH, then the .tools install."""
    paths = [shutil.which(name) for name in ("tofu", "terraform")]
    tools = find_tools_dir(start=REPO_ROOT)
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


BINARY_PARAMS = [
    pytest.param(b, id=f"{b.flavor}-{b.version_text}") for b in terraform_binaries()
] or [pytest.param(None, id="no-binary")]
TERRAFORM_HINT = (
    "run scripts/setup-terraform.sh --with-terraform (Terraform + null provider mirror)"
)


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """The deployment folder of a case, rendered at most once per session."""
    folders: dict[str, Path] = {}

    def get(case: str) -> Path:
        if case not in folders:
            out = tmp_path_factory.mktemp(f"render-{case}") / "deploy"
            render(CASES[case], out)
            folders[case] = out
        return folders[case]

    return get
