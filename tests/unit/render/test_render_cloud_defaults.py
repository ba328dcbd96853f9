"""Cloud defaults closed: no ingress rule without explicit sources, SSH sources judged as a
union, and remote state that always locks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hcl2
import pytest

from .conftest import MODULES, SPECS, pool_inputs, render, roots

GCP_SPEC = (SPECS / "render-gcp.yaml").read_text(encoding="utf-8")
GCP_SSH = "security: {ssh_cidrs: [10.128.0.0/9], public_ip: false}"
AWS_SPEC = """\
apiVersion: gpuforge/v1
kind: Cluster
name: locks
target: aws/us-east-1
state: {state}
pools:
  train:
    instance_type: p5.48xlarge
    count: 2
security: {{ssh_cidrs: {cidrs}}}
"""


def _resources(module: Path, kind: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(module.glob("*.tf")):
        with path.open(encoding="utf-8") as handle:
            for block in hcl2.load(handle).get("resource", []):
                for rtype, named in block.items():
                    if rtype.strip('"') == kind:
                        for name, body in named.items():
                            found[name.strip('"')] = body
    return found


def _backend(root: Path) -> dict[str, Any]:
    with (root / "versions.tf").open(encoding="utf-8") as handle:
        terraform = hcl2.load(handle)["terraform"][0]
    (backend,) = terraform["backend"]
    ((kind, body),) = backend.items()
    return {"kind": kind.strip('"'), **{k: v for k, v in body.items() if k != "__is_block__"}}


def test_every_gcp_ingress_rule_has_explicit_sources_or_is_not_created() -> None:
    rules = _resources(MODULES / "gcp-gpu-cluster", "google_compute_firewall")
    ingress = {n: b for n, b in rules.items() if b["direction"].strip('"') == "INGRESS"}

    assert ingress, "the module has ingress rules"
    for name, body in ingress.items():
        if "source_tags" in body:
            continue
        ranges = body["source_ranges"].strip("${}")
        assert ranges.startswith("var."), name
        assert body.get("count", "").strip("${}") == f"length({ranges}) > 0 ? 1 : 0", name


def test_every_azure_inbound_allow_rule_has_literal_sources_or_is_not_created() -> None:
    (nsg,) = _resources(MODULES / "azure-gpu-cluster", "azurerm_network_security_group").values()
    allowed_in = [
        rule
        for rule in nsg.get("security_rule", [])
        if (rule["direction"], rule["access"]) == ('"Inbound"', '"Allow"')
    ]

    for rule in allowed_in:
        assert rule.get("source_address_prefix") == '"VirtualNetwork"', rule["name"]
    for dynamic in nsg.get("dynamic", []):
        for body in dynamic.values():
            (content,) = body["content"]
            if (content["direction"], content["access"]) == ('"Inbound"', '"Allow"'):
                assert body["for_each"].startswith("${length(var.ssh_cidrs) > 0 ?"), content
                assert content["source_address_prefixes"] == "${security_rule.value}"


def test_gcp_with_empty_ssh_cidrs_renders_an_empty_source_list(tmp_path: Path) -> None:
    deployment = tmp_path / "deploy"
    render(GCP_SPEC.replace(GCP_SSH, "security: {public_ip: true}"), deployment)

    (inputs,) = pool_inputs(roots(deployment)["gcp/us-central1"]).values()

    assert inputs["ssh_cidrs"] == []


@pytest.mark.parametrize(
    ("cidrs", "rendered"),
    [
        ("[0.0.0.0/1, 128.0.0.0/1]", ["0.0.0.0/0"]),
        ("[10.1.0.0/16, 10.0.0.0/16, 10.0.0.0/8]", ["10.0.0.0/8"]),
        ("[192.0.2.0/24, 10.0.0.0/8]", ["10.0.0.0/8", "192.0.2.0/24"]),
    ],
)
def test_ssh_sources_are_rendered_as_their_union(
    cidrs: str, rendered: list[str], tmp_path: Path
) -> None:
    deployment = tmp_path / "deploy"
    state = "{backend: s3, bucket: b, lock_table: t}"
    render(AWS_SPEC.format(state=state, cidrs=cidrs), deployment)

    (inputs,) = pool_inputs(roots(deployment)["aws/us-east-1"]).values()

    assert inputs["ssh_cidrs"] == rendered


def test_s3_state_without_a_lock_table_locks_with_the_s3_lock_file(tmp_path: Path) -> None:
    deployment = tmp_path / "deploy"
    render(AWS_SPEC.format(state="{backend: s3, bucket: b}", cidrs="[10.0.0.0/8]"), deployment)

    backend = _backend(roots(deployment)["aws/us-east-1"])

    assert backend["kind"] == "s3"
    assert backend["use_lockfile"] is True
    assert "dynamodb_table" not in backend


def test_s3_state_with_a_lock_table_locks_with_dynamodb(tmp_path: Path) -> None:
    deployment = tmp_path / "deploy"
    state = "{backend: s3, bucket: b, lock_table: tf-locks}"
    render(AWS_SPEC.format(state=state, cidrs="[10.0.0.0/8]"), deployment)

    backend = _backend(roots(deployment)["aws/us-east-1"])

    assert backend["dynamodb_table"] == '"tf-locks"'
    assert "use_lockfile" not in backend
