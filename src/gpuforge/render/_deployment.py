"""Write a deployment folder: Terraform roots (+ vendored modules), Ansible group_vars, manifest.

Rendering is deterministic: the same spec and lock give byte-identical files. Files the
previous render wrote but this one does not are removed; the diff against the previous render
is returned so `plan` can show it when no Terraform binary is available.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from gpuforge.check import Lock, inputs_digest
from gpuforge.errors import FileError, InputError, Location, MissingFileError, Problem
from gpuforge.files import MIB, backup_path, load_json, read_recovering, read_text, write_atomic
from gpuforge.render._ansible import render_group_vars
from gpuforge.render._boundary import (
    check_folder,
    inside,
    make_folder,
    read_inside,
    remove_inside,
    replace_inside,
    write_inside,
)
from gpuforge.render._members import (
    MEMBERS_FILE,
    Members,
    members_text,
    plan_members,
    read_members,
    rendered_counts,
)
from gpuforge.render._monitoring import monitoring_files
from gpuforge.render._naming import all_targets, target_pools
from gpuforge.render._terraform import render_root
from gpuforge.spec import ClusterSpec

MANIFEST = "gpuforge.json"
MAX_MANIFEST_BYTES = 64 * MIB
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


def build_files(
    spec: ClusterSpec, lock: Lock, members: Members | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """Every file of the deployment (relative path -> text), and target -> root folder;
    `members` (default: every pool numbered from 0) are the nodes of pools the target names."""
    if members is None:
        members = plan_members(spec, {})
    files: dict[str, str] = {}
    roots: dict[str, str] = {}
    modules: set[str] = set()
    for target in all_targets(spec):
        root = render_root(spec, lock, target, members)
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
    files.update(monitoring_files(spec))
    files[MEMBERS_FILE] = members_text(members)
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


def render_deployment(
    spec: ClusterSpec,
    lock: Lock,
    out_dir: Path,
    *,
    unhealthy: Collection[str] = (),
) -> RenderResult:
    """Write the deployment folder for `spec` + `lock` into `out_dir`; return what changed.

    Each pool's members start from the last render's; a pool that shrinks loses the nodes in
    `unhealthy` first, then its highest indexes. Only paths
    inside `out_dir` are read, written or deleted; a symlink in it is refused.
    """
    out_dir = make_folder(out_dir)
    check_folder(out_dir)
    kept = read_members(out_dir)
    if kept is None:
        kept = rendered_counts(read_manifest(out_dir))
    members = plan_members(spec, kept, unhealthy=unhealthy)
    files, roots = build_files(spec, lock, members)
    previous = _previous_files(out_dir)
    diff_parts: list[str] = []
    changed: list[str] = []
    for rel, text in sorted(files.items()):
        old = read_inside(out_dir, rel)
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
        if rel == MEMBERS_FILE:
            replace_inside(out_dir, rel, text)
        elif rel != MANIFEST:
            write_inside(out_dir, rel, text)
    removed = sorted(set(previous) - set(files))
    for rel in removed:
        old = read_inside(out_dir, rel)
        if old is not None:
            diff_parts.extend(
                difflib.unified_diff(
                    old.splitlines(keepends=True), [], fromfile=f"a/{rel}", tofile="/dev/null"
                )
            )
        remove_inside(out_dir, rel)
    # Last, as the commit point, with a copy in gpuforge.json.bak to recover from.
    manifest = out_dir / MANIFEST
    if MANIFEST in changed or not backup_path(manifest).is_file():
        write_atomic(manifest, files[MANIFEST], backup=True)
    return RenderResult(
        root=out_dir,
        files=sorted(files),
        changed=changed,
        removed=removed,
        diff="".join(diff_parts),
        roots=roots,
    )


def _parse_manifest(path: Path) -> dict[str, Any]:
    fix = f"delete {path} and render again (then remove files the old render left by hand)"
    text = read_text(path, max_bytes=MAX_MANIFEST_BYTES, fix=fix, follow_links=False)
    data = load_json(text, str(path), fix)
    if not isinstance(data, dict):
        raise FileError([Problem(Location(str(path)), "is not a JSON object", fix)])
    for key, kind in (("files", list), ("roots", dict)):
        if not isinstance(data.get(key, kind()), kind):
            message = f"`{key}` is not a JSON {'array' if kind is list else 'object'}"
            raise FileError([Problem(Location(str(path), path=key), message, fix)])
    return data


def read_manifest(out_dir: Path) -> dict[str, Any]:
    """The previous render's manifest ({} when there is none), from its backup when corrupt;
    FileError naming the file when neither copy is usable."""
    try:
        return read_recovering(out_dir / MANIFEST, _parse_manifest)
    except MissingFileError:
        return {}


def previous_roots(out_dir: Path) -> dict[str, str]:
    """Target -> root folder as the previous render's manifest recorded them (inside it only)."""
    roots = read_manifest(out_dir).get("roots", {})
    return {str(k): str(v) for k, v in roots.items() if _is_inside(v)}


def _previous_files(out_dir: Path) -> list[str]:
    listed = read_manifest(out_dir).get("files", [])
    return [f for f in listed if _is_inside(f)]


def _is_inside(value: object) -> bool:
    """Whether a path the manifest lists stays inside the folder; any other is ignored."""
    if not isinstance(value, str):
        return False
    try:
        inside(value, MANIFEST)
    except InputError:
        return False
    return True
