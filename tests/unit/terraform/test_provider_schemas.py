"""The cloud modules against their providers' real schemas, offline: every resource type, data
source, argument and nested block they use exists, and every required argument is set, in the
provider versions at both ends of each module's declared range that have prebuilt packages
(scripts/setup-provider-schemas.sh; the versions are listed in each module's README)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hcl import MODULES_DIR, load, unquote
from provider_schema import SETUP_HINT, check_module, installed_versions, load_schema

# module folder -> provider name, and the provider versions checked (setup-provider-schemas.sh)
MODULES = {
    "aws-gpu-cluster": ("aws", ["5.60.0", "6.25.0"]),
    "azure-gpu-cluster": ("azurerm", ["3.86.0", "4.55.0"]),
    "gcp-gpu-cluster": ("google", ["5.0.0", "6.50.0"]),
    "vsphere-gpu-cluster": ("vsphere", ["2.7.0", "2.15.0"]),
}
CASES = [(m, p, v) for m, (p, versions) in MODULES.items() for v in versions]


def _schema_folder(provider: str, version: str) -> Path:
    found = [f for f in installed_versions(provider) if f.name == f"{provider}-{version}"]
    if not found:
        pytest.fail(f"no schema of {provider} {version}: {SETUP_HINT}")
    return found[0]


def _floor(module: Path, provider: str) -> tuple[int, ...]:
    versions = load(module / "versions.tf")["terraform"][0]["required_providers"][0]
    constraint = unquote(versions[provider]["version"])
    match = re.fullmatch(r">=\s*([\d.]+)", constraint)
    assert match, f"{module.name}: expected a '>= X' constraint, found {constraint!r}"
    return tuple(int(x) for x in match.group(1).split("."))


@pytest.mark.parametrize(("module", "provider", "version"), CASES)
def test_module_matches_the_provider_schema(module: str, provider: str, version: str) -> None:
    schema = load_schema(_schema_folder(provider, version))

    assert check_module(MODULES_DIR / module, schema, load, unquote) == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_checked_versions_are_in_the_declared_range_and_named_in_the_readme(module: str) -> None:
    provider, versions = MODULES[module]
    floor = _floor(MODULES_DIR / module, provider)
    readme = (MODULES_DIR / module / "README.md").read_text(encoding="utf-8")

    for version in versions:
        assert tuple(int(x) for x in version.split(".")) >= floor
        assert f"{provider} {version}" in readme


def test_every_cloud_module_is_checked() -> None:
    clouds = {p.name for p in MODULES_DIR.iterdir() if p.name.endswith("-gpu-cluster")}
    assert clouds - {"local-gpu-cluster"} == set(MODULES)


@pytest.mark.parametrize(
    ("module", "provider", "edit", "expected"),
    [
        (
            "aws-gpu-cluster",
            "aws",
            ("instance_type", "instance_typ"),
            "'instance_typ' is no argument or block of aws",
        ),
        (
            "vsphere-gpu-cluster",
            "vsphere",
            ("resource_pool_id", "# resource_pool_id"),
            "required argument 'resource_pool_id' is not set",
        ),
        (
            "gcp-gpu-cluster",
            "google",
            ("machine_type", "machine_typo"),
            "'machine_typo' is no argument or block of google",
        ),
    ],
)
def test_a_broken_copy_fails(
    tmp_path: Path, module: str, provider: str, edit: tuple[str, str], expected: str
) -> None:
    copy = tmp_path / module
    shutil.copytree(MODULES_DIR / module, copy)
    main = copy / "main.tf"
    text = main.read_text(encoding="utf-8")
    assert re.search(rf"^\s*{edit[0]}\s*=", text, re.MULTILINE)
    main.write_text(
        re.sub(rf"^(\s*){edit[0]}(\s*=)", rf"\1{edit[1]}\2", text, count=1, flags=re.MULTILINE),
        encoding="utf-8",
    )
    schema = load_schema(installed_versions(provider)[-1])

    problems = check_module(copy, schema, load, unquote)

    assert any(expected in p for p in problems), problems
