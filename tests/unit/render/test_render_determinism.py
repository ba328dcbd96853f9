"""Determinism: the same spec renders byte-identical folders; re-renders change only what changed.

A pool (or a whole target) taken out of the spec takes its files with it, the diff shows the
removal, and files the renderer never wrote (Terraform state, .terraform/) are left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from gpuforge.render import MANIFEST

from .conftest import CASES, EXAMPLES, read_tree, render


def _spec_without(spec: Path, pool: str) -> str:
    """The spec's YAML text with one pool left out."""
    yaml = YAML()
    data = yaml.load(spec.read_text(encoding="utf-8"))
    del data["pools"][pool]
    buffer = StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("case", sorted(CASES))
def test_two_renders_are_byte_identical(
    case: str, rendered: Callable[[str], Path], tmp_path: Path
) -> None:
    render(CASES[case], tmp_path / "again")
    assert read_tree(tmp_path / "again") == read_tree(rendered(case))


@pytest.mark.parametrize("case", sorted(CASES))
def test_rerender_into_the_same_folder_changes_nothing(case: str, tmp_path: Path) -> None:
    out = tmp_path / "deploy"
    first = render(CASES[case], out)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    snapshot = read_tree(out)
    second = render(CASES[case], out)
    assert first.changed == first.files
    assert (second.changed, second.removed, second.diff) == ([], [], "")
    assert read_tree(out) == snapshot
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == before


def test_removing_a_pool_removes_its_group_vars(tmp_path: Path) -> None:
    out = tmp_path / "deploy"
    render(EXAMPLES / "local.yaml", out)
    result = render(_spec_without(EXAMPLES / "local.yaml", "a100"), out)
    gone = "ansible/inventory/group_vars/pool_a100.yml"
    assert result.removed == [gone]
    assert not (out / gone).exists()
    assert f"--- a/{gone}\n+++ /dev/null\n" in result.diff
    assert '-module "pool_a100" {\n' in result.diff
    assert '-  pool_name  = "a100"\n' in result.diff
    assert "terraform/local/main.tf" in result.changed
    assert "terraform/local/outputs.tf" in result.changed
    assert not any("a100" in line for line in (out / "terraform/local/main.tf").open())
    assert gone not in (out / MANIFEST).read_text(encoding="utf-8")


def test_removing_a_target_removes_its_root_and_module_but_keeps_state(tmp_path: Path) -> None:
    out = tmp_path / "deploy"
    spec = EXAMPLES / "multi-cloud-a100.yaml"
    render(spec, out)
    root = out / "terraform/vsphere-dc1"
    # Files Terraform writes next to the rendered ones are not the renderer's to delete.
    (root / "terraform.tfstate").write_text("{}\n", encoding="utf-8")
    (root / ".terraform").mkdir()
    (root / ".terraform" / "marker").write_text("x\n", encoding="utf-8")
    result = render(_spec_without(spec, "dc-infer"), out)
    assert sorted(p.name for p in root.iterdir()) == [".terraform", "terraform.tfstate"]
    assert not any(p.is_file() for p in (out / "terraform/modules/vsphere-gpu-cluster").rglob("*"))
    assert "terraform/vsphere-dc1/main.tf" in result.removed
    assert "terraform/modules/vsphere-gpu-cluster/main.tf" in result.removed
    assert "ansible/inventory/group_vars/pool_dc_infer.yml" in result.removed
    assert "--- a/terraform/vsphere-dc1/main.tf\n+++ /dev/null\n" in result.diff
    assert "vsphere/dc1" not in result.roots
    assert set(read_tree(out)) - {
        "terraform/vsphere-dc1/terraform.tfstate",
        "terraform/vsphere-dc1/.terraform/marker",
    } == set(result.files)


def test_a_spec_change_shows_only_the_files_it_touches(tmp_path: Path) -> None:
    out = tmp_path / "deploy"
    spec = EXAMPLES / "aws-training.yaml"
    render(spec, out)
    text = spec.read_text(encoding="utf-8").replace("count: 16", "count: 12")
    result = render(text, out)
    assert result.changed == [MANIFEST, "terraform/aws-us-west-2/main.tf"]
    assert "-  node_count              = 16\n+  node_count              = 12\n" in result.diff
    assert (out / "terraform/aws-us-west-2/main.tf").is_file()
