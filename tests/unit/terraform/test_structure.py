"""Static checks of every shipped module: layout, parsing, documented and typed interface."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hcl import MODULES_DIR, load, module_dirs, outputs, tf_files, unquote, variables
from readme_table import documented_section, render_tables

MODULES = module_dirs()
MODULE_IDS = [module.name for module in MODULES]
EXPECTED_MODULES = {
    "aws-gpu-cluster",
    "azure-gpu-cluster",
    "gcp-gpu-cluster",
    "local-gpu-cluster",
    "onprem",
    "vsphere-gpu-cluster",
}
NODE_FIELDS = {
    "name",
    "private_ip",
    "pool",
    "gpu_model",
    "gpu_count",
    "instance_type",
    "market",
    "zone",
}
# Inputs every cloud cluster module takes under the same name, so the renderer can pass one set.
SHARED_INPUTS = {
    "cluster_name",
    "pool_name",
    "node_count",
    "gpu_model",
    "gpu_count",
    "instance_type",
    "market",
    "ssh_cidrs",
    "ssh_public_key",
    "root_gb",
    "scratch_gb",
    "scratch_iops",
    "scratch_throughput_mbps",
    "placement_group",
}
# What a module leaves out of SHARED_INPUTS, and why.
NOT_APPLICABLE = {
    # vSphere disks take an IOPS limit but have no throughput setting.
    "vsphere-gpu-cluster": {"scratch_throughput_mbps"},
    # The local fleet has no disks, SSH policy or placement: nodes live on this machine.
    "local-gpu-cluster": {
        "instance_type",
        "ssh_cidrs",
        "ssh_public_key",
        "root_gb",
        "scratch_gb",
        "scratch_iops",
        "scratch_throughput_mbps",
        "placement_group",
    },
}
CLOUD_MODULES = [m for m in MODULES if m.name not in ("onprem", "local-gpu-cluster")]


def test_every_expected_module_is_shipped() -> None:
    assert {module.name for module in MODULES} == EXPECTED_MODULES


@pytest.mark.parametrize("module", MODULES, ids=MODULE_IDS)
def test_standard_module_structure(module: Path) -> None:
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
        assert (module / name).is_file(), f"{module.name} lacks {name}"
    examples = sorted((module / "examples").iterdir())
    assert examples, f"{module.name} has no example"
    for example in examples:
        for name in ("main.tf", "outputs.tf", "versions.tf", "README.md"):
            assert (example / name).is_file(), f"{example} lacks {name}"
        assert 'source = "../.."' in (example / "main.tf").read_text()


@pytest.mark.parametrize("path", tf_files(), ids=lambda p: str(p.relative_to(MODULES_DIR)))
def test_every_tf_file_parses(path: Path) -> None:
    assert isinstance(load(path), dict)


@pytest.mark.parametrize("module", MODULES, ids=MODULE_IDS)
def test_every_variable_has_type_and_description(module: Path) -> None:
    for name, body in variables(module).items():
        assert body.get("type"), f"{module.name}: variable {name} has no type"
        assert unquote(body.get("description", "")), f"{module.name}: {name} has no description"


@pytest.mark.parametrize("module", MODULES, ids=MODULE_IDS)
def test_every_output_has_description(module: Path) -> None:
    for name, body in outputs(module).items():
        assert unquote(body.get("description", "")), f"{module.name}: output {name}"


@pytest.mark.parametrize("module", MODULES, ids=MODULE_IDS)
def test_versions_are_lower_bounds_only(module: Path) -> None:
    (terraform,) = load(module / "versions.tf")["terraform"]
    assert re.fullmatch(r">= \d+\.\d+", unquote(terraform["required_version"]))
    for providers in terraform.get("required_providers", []):
        for name, spec in providers.items():
            if name.startswith("__"):
                continue
            assert unquote(spec["source"]).startswith("hashicorp/")
            assert re.fullmatch(r">= [\d.]+", unquote(spec["version"])), f"{module.name}: {name}"


@pytest.mark.parametrize("module", MODULES, ids=MODULE_IDS)
def test_nodes_output_has_exactly_the_contract_fields(module: Path) -> None:
    value = outputs(module)["nodes"]["value"]
    if module.name == "onprem":  # onprem shapes the objects in a local
        value = load(module / "main.tf")["locals"][0]["nodes"]
    objects = re.findall(r"\{([^{}]*)\}", value)
    assert objects, f"{module.name}: no object literal in the nodes output"
    keys = set(re.findall(r"(?:^|,)\s*(\w+)\s*=", objects[-1]))
    assert keys == NODE_FIELDS


@pytest.mark.parametrize("module", [*CLOUD_MODULES, MODULES_DIR / "local-gpu-cluster"], ids=str)
def test_shared_inputs_use_the_same_names(module: Path) -> None:
    expected = SHARED_INPUTS - NOT_APPLICABLE.get(module.name, set())
    missing = expected - set(variables(module))
    assert not missing, f"{module.name} lacks shared inputs {sorted(missing)}"
    assert {"tags", "labels"} & set(variables(module)) or module.name == "local-gpu-cluster"


@pytest.mark.parametrize("module", CLOUD_MODULES, ids=lambda m: m.name)
def test_ssh_cannot_be_opened_to_the_world(module: Path) -> None:
    ssh = variables(module)["ssh_cidrs"]
    assert "default" not in ssh, "ssh_cidrs must be chosen by the caller"
    conditions = " ".join(rule["condition"] for rule in ssh["validation"])
    assert "> 0" in conditions, "a validation must refuse /0 blocks"


@pytest.mark.parametrize("module", CLOUD_MODULES, ids=lambda m: m.name)
def test_no_public_address_by_default(module: Path) -> None:
    flags = {"associate_public_ip", "public_ip"} & set(variables(module))
    for flag in flags:
        assert variables(module)[flag]["default"] is False
    assert flags or module.name == "vsphere-gpu-cluster"


def test_aws_launch_template_enforces_imdsv2_and_encryption() -> None:
    main = load(MODULES_DIR / "aws-gpu-cluster" / "main.tf")
    template = next(
        entry['"aws_launch_template"']['"node"']
        for entry in main["resource"]
        if '"aws_launch_template"' in entry
    )
    (metadata,) = template["metadata_options"]
    assert unquote(metadata["http_tokens"]) == "required"
    assert metadata["http_put_response_hop_limit"] == 1
    text = (MODULES_DIR / "aws-gpu-cluster" / "main.tf").read_text()
    assert text.count("encrypted             = true") == 2  # root and scratch volumes


def test_aws_efa_interface_counts_match_the_reference() -> None:
    main = load(MODULES_DIR / "aws-gpu-cluster" / "main.tf")
    counts = {unquote(k): v for k, v in main["locals"][0]["efa_interface_counts"].items()}
    # ../shared/reference/gpu-stack-facts.md section 7.
    reference = {
        "p4d.24xlarge": 4,
        "p4de.24xlarge": 4,
        "p5.48xlarge": 32,
        "p5e.48xlarge": 32,
        "p5en.48xlarge": 16,
        "p6-b200.48xlarge": 8,
        "g6e.48xlarge": 4,
    }
    assert {name: counts.get(name) for name in reference} == reference


@pytest.mark.parametrize("module", MODULES, ids=MODULE_IDS)
def test_readme_documents_every_input_and_output(module: Path) -> None:
    section = documented_section((module / "README.md").read_text(encoding="utf-8"))
    assert section == render_tables(module), (
        f"{module.name}/README.md is stale: regenerate it with "
        ".venv/bin/python tests/unit/terraform/readme_table.py"
    )


@pytest.mark.parametrize("module", MODULES, ids=MODULE_IDS)
def test_no_secret_material_in_modules(module: Path) -> None:
    for path in module.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert "PRIVATE KEY" not in text and not re.search(r"AKIA[0-9A-Z]{16}", text), path
