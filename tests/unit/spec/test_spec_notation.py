"""Compact notations in a spec are accepted and normalised to one canonical form."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gpuforge.spec import SpecDocument, TargetRef, json_schema, parse_target

Load = Callable[[str], SpecDocument]


@pytest.mark.parametrize(
    ("written", "model", "count"),
    [
        ("H100:8", "H100", 8),
        ("H100x8", "H100", 8),
        ("H100*4", "H100", 4),
        ("H100", "H100", 1),
        ("h100-sxm:8", "H100", 8),  # alias, any case
        ("A100:4", "A100-40GB", 4),  # plain A100 is the 40 GB part
        ("a100 80gb:2", "A100-80GB", 2),  # spaces count as dashes
        ("Tesla-V100:8", "V100", 8),
        ("MI300:8", "MI300X", 8),
        ("{model: l40s, count: 2}", "L40S", 2),
    ],
)
def test_gpu_request(load: Load, minimal: str, written: str, model: str, count: int) -> None:
    pool = load(minimal.replace("H100:8", written)).spec.pools["train"]

    assert pool.gpu is not None
    assert (pool.gpu.model, pool.gpu.count) == (model, count)


@pytest.mark.parametrize(
    ("written", "batch"),
    [("25%", 0.25), ("100%", 1.0), ("4", 4), (4, 4), (0.5, 0.5), ("'7'", 7)],
)
def test_rollout_batch(load: Load, minimal: str, written: object, batch: float) -> None:
    spec = load(minimal + f"rollout: {{batch: {written}}}\n").spec

    assert spec.rollout.batch == batch
    assert type(spec.rollout.batch) is type(batch)


@pytest.mark.parametrize(
    ("written", "gbps"),
    [("400G", 400.0), ("200Gbps", 200.0), ("100Gb/s", 100.0), ("1.6T", 1600.0), (800, 800.0)],
)
def test_fabric_port_speed(load: Load, minimal: str, written: object, gbps: float) -> None:
    spec = load(minimal + f"fabric: {{type: infiniband, port_speed: {written}}}\n").spec

    assert spec.fabric.port_speed_gbps == gbps


@pytest.mark.parametrize(
    ("written", "target"),
    [
        ("local", TargetRef("local")),
        ("onprem", TargetRef("onprem")),
        ("aws/us-east-1", TargetRef("aws", "us-east-1")),
        ("AWS/us-east-1", TargetRef("aws", "us-east-1")),
        ("azure/eastus", TargetRef("azure", "eastus")),
        ("gcp/us-central1", TargetRef("gcp", "us-central1")),
        ("vsphere/dc1", TargetRef("vsphere", "dc1")),
    ],
)
def test_target(load: Load, minimal: str, written: str, target: TargetRef) -> None:
    spec = load(minimal.replace("target: local", f"target: {written}")).spec

    assert spec.target == [target]
    assert parse_target(written) == target


def test_target_list_for_multi_cloud(load: Load, minimal: str) -> None:
    spec = load(minimal.replace("target: local", "target: [aws/us-east-1, vsphere/dc1]")).spec

    assert [str(t) for t in spec.target] == ["aws/us-east-1", "vsphere/dc1"]
    assert [t.slug for t in spec.target] == ["aws-us-east-1", "vsphere-dc1"]
    assert spec.model_dump(mode="json")["target"] == ["aws/us-east-1", "vsphere/dc1"]


@pytest.mark.parametrize(
    ("written", "mode"),
    [
        ("DEFAULT", "DEFAULT"),
        ("exclusive-process", "EXCLUSIVE_PROCESS"),
        ("Exclusive_Process", "EXCLUSIVE_PROCESS"),
        ("0", "DEFAULT"),
        ("1", "EXCLUSIVE_PROCESS"),
        ("2", "PROHIBITED"),
        ("prohibited", "PROHIBITED"),
    ],
)
def test_compute_mode_aliases(load: Load, minimal: str, written: str, mode: str) -> None:
    spec = load(minimal + f"gpu: {{compute_mode: {written}}}\n").spec

    assert spec.gpu.compute_mode == mode


def test_mig_profile_map_and_layout_name(load: Load, minimal: str) -> None:
    as_map = load(minimal + 'gpu: {mig: {"3g.40gb": 2}}\n').spec.gpu.mig
    as_layout = load(minimal + "gpu: {mig: all-balanced}\n").spec.gpu.mig
    explicit = load(minimal + "gpu: {mig: {layout: all-1g}}\n").spec.gpu.mig

    assert as_map is not None and (as_map.layout, as_map.devices) == (None, {"3g.40gb": 2})
    assert as_layout is not None and (as_layout.layout, as_layout.devices) == ("all-balanced", {})
    assert explicit is not None and explicit.layout == "all-1g"


@pytest.mark.parametrize("off", ["false", "none", "disabled", "off", "null"])
def test_mig_switched_off(load: Load, minimal: str, off: str) -> None:
    assert load(minimal + f"gpu: {{mig: {off}}}\n").spec.gpu.mig is None


def test_mps_shorthand(load: Load, minimal: str) -> None:
    spec = load(minimal + "gpu: {mps: true}\n").spec

    assert spec.gpu.mps.enabled is True
    assert spec.gpu.mps.active_thread_percentage is None


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ('"535"', "535"),
        ("535", "535"),  # an unquoted number is still a branch
        ('"535.104.05"', "535.104.05"),
        ("12.2", "12.2"),
        ('">=12.2,<13"', ">=12.2,<13"),
        ('">= 12.2 , < 13"', ">=12.2,<13"),  # spaces dropped
        ("auto", "auto"),
        ("latest", "auto"),
        ('""', "auto"),
        ("null", "auto"),
    ],
)
def test_version_requirements(load: Load, minimal: str, written: str, normalised: str) -> None:
    spec = load(minimal + f"software: {{cuda: {written}}}\n").spec

    assert spec.software.cuda == normalised


def test_security_cidrs_normalised(load: Load, minimal: str) -> None:
    spec = load(minimal + "security: {ssh_cidrs: [10.1.2.3/8, '2001:db8::1/32']}\n").spec

    assert spec.security.ssh_cidrs == ["10.0.0.0/8", "2001:db8::/32"]


def test_json_schema_describes_the_spec() -> None:
    schema = json_schema()

    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["required"]) == {"apiVersion", "kind", "name", "target", "pools"}
    assert schema["additionalProperties"] is False
    assert "pools" in schema["properties"] and "software" in schema["properties"]
