"""Write a deployment folder: Terraform roots (+ vendored modules), Ansible group_vars, manifest.

Rendering is deterministic: the same spec and lock give byte-identical files. Files the
previous render wrote but this one does not are removed; the diff against the previous render
is returned so `plan` can show it when no Terraform binary is available.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from gpuforge.check import Lock, inputs_digest
from gpuforge.errors import InputError
from gpuforge.render._ansible import render_group_vars
from gpuforge.render._naming import all_targets, target_pools
from gpuforge.render._terraform import render_root
from gpuforge.spec import ClusterSpec

MANIFEST = "gpuforge.json"
GROUP_VARS_DIR = "ansible/inventory/group_vars"
INVENTORY_FILE = "ansible/inventory/hosts.yml"


@dataclass
class RenderResult:
    """What a render wrote: every file, which changed, which were removed, and the diff."""

    root: Path
    files: list[str]
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    diff: str = ""
    roots: dict[str, str] = field(default_factory=dict)


def terraform_root_dir(target_slug: str) -> str:
    """Path of a target's root module inside the deployment folder."""
    return f"terraform/{target_slug}"


def _module_files(name: str) -> dict[str, str]:
    base = resources.files("gpuforge").joinpath("terraform", "modules", name)
    files: dict[str, str] = {}

    def walk(node: Traversable, prefix: str) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            rel = f"{prefix}{child.name}"
            if child.is_dir():
                if child.name not in ("examples", ".terraform"):
                    walk(child, rel + "/")
            elif child.name.endswith((".tf", ".md")):
                files[rel] = child.read_text(encoding="utf-8")

    walk(base, "")
    return files


def build_files(spec: ClusterSpec, lock: Lock) -> tuple[dict[str, str], dict[str, str]]:
    """Every file of the deployment (relative path -> text), and target -> root folder."""
    files: dict[str, str] = {}
    roots: dict[str, str] = {}
    modules: set[str] = set()
    for target in all_targets(spec):
        root = render_root(spec, lock, target)
        folder = terraform_root_dir(target.slug)
        roots[str(target)] = folder
        modules |= root.modules
        for name, text in root.files.items():
            files[f"{folder}/{name}"] = text
    for module in sorted(modules):
        for rel, text in _module_files(module).items():
            files[f"terraform/modules/{module}/{rel}"] = text
    for name, text in render_group_vars(spec, lock).items():
        files[f"{GROUP_VARS_DIR}/{name}"] = text
    manifest = {
        "cluster": spec.name,
        "inputs_digest": inputs_digest(spec),
        "roots": roots,
        "pools": {
            name: {"target": str(spec.pool_target(pool)), "count": pool.count}
            for name, pool in spec.pools.items()
        },
        "targets": {str(t): target_pools(spec, t) for t in all_targets(spec)},
        "files": sorted([*files, MANIFEST]),
    }
    files[MANIFEST] = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    return files, roots


def render_deployment(spec: ClusterSpec, lock: Lock, out_dir: Path) -> RenderResult:
    """Write the deployment folder for `spec` + `lock` into `out_dir`; return what changed."""
    files, roots = build_files(spec, lock)
    previous = _previous_files(out_dir)
    diff_parts: list[str] = []
    changed: list[str] = []
    try:
        for rel, text in sorted(files.items()):
            path = out_dir / rel
            old = path.read_text(encoding="utf-8") if path.exists() else None
            if old == text:
                continue
            changed.append(rel)
            diff_parts.extend(
                difflib.unified_diff(
                    (old or "").splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    fromfile=f"a/{rel}" if old is not None else "/dev/null",
                    tofile=f"b/{rel}",
                )
            )
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        removed = sorted(set(previous) - set(files))
        for rel in removed:
            path = out_dir / rel
            if path.exists():
                diff_parts.extend(
                    difflib.unified_diff(
                        path.read_text(encoding="utf-8").splitlines(keepends=True),
                        [],
                        fromfile=f"a/{rel}",
                        tofile="/dev/null",
                    )
                )
                path.unlink()
    except OSError as error:
        raise InputError(
            f"cannot write the deployment folder {out_dir}: {error}", "check permissions"
        ) from None
    return RenderResult(
        root=out_dir,
        files=sorted(files),
        changed=changed,
        removed=removed,
        diff="".join(diff_parts),
        roots=roots,
    )


def previous_roots(out_dir: Path) -> dict[str, str]:
    """Target -> root folder as the previous render's manifest recorded them."""
    try:
        data = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    roots = data.get("roots", {})
    return {str(k): str(v) for k, v in roots.items() if ".." not in str(v)}


def _previous_files(out_dir: Path) -> list[str]:
    manifest = out_dir / MANIFEST
    if not manifest.exists():
        return []
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    listed = data.get("files", [])
    return [f for f in listed if isinstance(f, str) and ".." not in f]
