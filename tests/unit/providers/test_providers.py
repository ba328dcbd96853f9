"""One class per target behind one interface; no `provider ==` branch is left elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gpuforge.catalog import load_catalog
from gpuforge.providers import PROVIDERS, clouds, provider_for
from gpuforge.spec import PROVIDERS as SPEC_PROVIDERS
from gpuforge.spec import parse_target

SRC = Path(__file__).parents[3] / "src" / "gpuforge"
MODULES = SRC / "terraform" / "modules"


def test_every_target_of_the_spec_has_a_class_and_a_module() -> None:
    assert set(PROVIDERS) == set(SPEC_PROVIDERS)
    for provider in PROVIDERS.values():
        assert (MODULES / provider.module / "main.tf").is_file(), provider.name


def test_cloud_knowledge_lives_only_in_providers() -> None:
    branch = re.compile(r"\bprovider\s*(==|!=)")
    found = [
        f"{path.relative_to(SRC)}:{number}"
        for path in sorted(SRC.rglob("*.py"))
        if "providers" not in path.parts and "ansible_collections" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if branch.search(line)
    ]
    assert found == []


def test_markets_are_the_clouds_of_the_catalog() -> None:
    catalog = load_catalog()
    with_instances = {cloud for cloud, _ in catalog.instances}

    assert set(clouds()) == with_instances
    for name in clouds():
        provider = PROVIDERS[name]
        assert provider.spot is not None and provider.spot.notice and provider.spot.fallback
        assert provider.regions(catalog)
    for name in set(PROVIDERS) - set(clouds()):
        assert PROVIDERS[name].instance(catalog, "p5.48xlarge") is None


@pytest.mark.parametrize(
    ("target", "fabric", "problem"),
    [
        ("aws/us-east-1", "infiniband", True),
        ("gcp/us-central1", "infiniband", True),
        ("azure/eastus", "infiniband", False),
        ("onprem", "infiniband", False),
        ("aws/us-east-1", "efa", False),
    ],
)
def test_fabric_problems_per_target(target: str, fabric: str, problem: bool) -> None:
    found = provider_for(parse_target(target)).fabric_problem(fabric, None)

    assert (found is not None) == problem


def test_only_aws_has_efa() -> None:
    catalog = load_catalog()
    p5 = catalog.instance("aws", "p5.48xlarge")
    g4 = catalog.instance("aws", "g4dn.12xlarge")
    aws = provider_for("aws")

    assert aws.efa_problem(parse_target("aws/us-east-1"), p5) is None
    assert aws.efa_problem(parse_target("aws/us-east-1"), g4) is not None
    assert provider_for("azure").efa_problem(parse_target("azure/eastus"), None) is not None
