"""Multi-cloud: one root per target, each holding only its own pools, all listed in the manifest.

`gpuforge inventory DIR` over such a folder is covered by the provision tests; here the
manifest and the roots it names are checked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from gpuforge.render import MANIFEST, MODULE_FOR

from .conftest import EXAMPLES, pool_inputs, read_tree, render

TARGETS = {
    "aws/us-east-1": ("terraform/aws-us-east-1", ["aws-train"]),
    "azure/eastus": ("terraform/azure-eastus", ["azure-train"]),
    "vsphere/dc1": ("terraform/vsphere-dc1", ["dc-infer"]),
}


def _manifest(deployment: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((deployment / MANIFEST).read_text(encoding="utf-8"))
    return data


def test_manifest_lists_one_root_per_target(rendered: Callable[[str], Path]) -> None:
    manifest = _manifest(rendered("multi-cloud-a100"))
    assert manifest["roots"] == {target: folder for target, (folder, _) in TARGETS.items()}
    assert manifest["targets"] == {target: pools for target, (_, pools) in TARGETS.items()}
    assert manifest["pools"] == {
        "aws-train": {"target": "aws/us-east-1", "count": 2},
        "azure-train": {"target": "azure/eastus", "count": 2},
        "dc-infer": {"target": "vsphere/dc1", "count": 3},
    }


def test_manifest_files_are_exactly_the_folder(rendered: Callable[[str], Path]) -> None:
    deployment = rendered("multi-cloud-a100")
    assert _manifest(deployment)["files"] == sorted(read_tree(deployment))


def test_each_root_calls_its_own_module_for_its_own_pools(rendered: Callable[[str], Path]) -> None:
    deployment = rendered("multi-cloud-a100")
    for target, (folder, pools) in TARGETS.items():
        root = deployment / folder
        main = (root / "main.tf").read_text(encoding="utf-8")
        sources = set(re.findall(r'source\s*=\s*"([^"]+)"', main))
        assert sources == {f"../modules/{MODULE_FOR[target.split('/')[0]]}"}, target
        assert re.findall(r'^module "pool_([^"]+)"', main, re.MULTILINE) == pools, target
        assert sorted(pool_inputs(root)) == sorted(pools), target
        assert (root / "versions.tf").is_file() and (root / "providers.tf").is_file()


def test_remote_state_keys_differ_per_target(tmp_path: Path) -> None:
    text = (EXAMPLES / "multi-cloud-a100.yaml").read_text(encoding="utf-8")
    assert "backend: s3" in text, "the example keeps its state in S3"
    render(text, tmp_path)
    keys = [
        re.findall(r'key\s*=\s*"([^"]+)"', (tmp_path / folder / "versions.tf").read_text())
        for folder, _ in TARGETS.values()
    ]
    assert all(len(found) == 1 for found in keys)
    assert len({found[0] for found in keys}) == len(TARGETS)
