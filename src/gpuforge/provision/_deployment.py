"""A deployment folder's root modules, and the nodes all of them output together."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gpuforge.errors import InputError
from gpuforge.provision._engine import Engine
from gpuforge.provision._nodes import NodeRecord, merge_nodes, nodes_from_outputs

__all__ = ["RootModule", "deployment_nodes", "discover_roots"]


@dataclass(frozen=True)
class RootModule:
    """One Terraform root in a deployment; `target` is empty when the folder is itself the root."""

    target: str
    path: Path


def _has_tf(folder: Path) -> bool:
    return folder.is_dir() and any(folder.glob("*.tf"))


def discover_roots(deployment: Path) -> list[RootModule]:
    """Find the roots: DIR itself, DIR/terraform, or one DIR/terraform/<target>/ per target."""
    if not deployment.is_dir():
        raise InputError(
            f"{deployment} is not a directory", "pass the deployment folder `gpuforge render` wrote"
        )
    if _has_tf(deployment):
        return [RootModule("", deployment)]
    terraform = deployment / "terraform"
    if _has_tf(terraform):
        return [RootModule("", terraform)]
    roots = [
        RootModule(child.name, child)
        for child in sorted(terraform.iterdir() if terraform.is_dir() else [])
        if _has_tf(child) and not child.name.startswith(".")
    ]
    if not roots:
        raise InputError(
            f"no Terraform root module (*.tf) in {deployment}, {terraform} or its subfolders",
            "pass the deployment folder `gpuforge render` wrote, or a folder holding main.tf",
        )
    return roots


def deployment_nodes(
    deployment: Path, engine_for: Callable[[Path], Engine] = Engine
) -> list[NodeRecord]:
    """Read `output -json` of every root in the deployment and combine their node lists."""
    return merge_nodes(
        nodes_from_outputs(engine_for(root.path).outputs(), target=root.target)
        for root in discover_roots(deployment)
    )
