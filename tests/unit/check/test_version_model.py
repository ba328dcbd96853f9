"""The version model: versions are judged by their branch or series, not looked up in a list.

Each case comes from a published fact (shared/reference/gpu-stack-facts.md, sources in
catalog/data/sources.yaml): CUDA-RN Table 3 for the GA floors, the cuDNN 9.5.1 support matrix
(CUDNN) for the CUDA 11 build, mig-parted's configs (MIGP) for GH200, ARCH for Volta.
"""

from __future__ import annotations

from datetime import date

import pytest

from gpuforge.catalog import Version, judge_cuda, judge_driver, load_catalog
from gpuforge.check import Finding, make_context, run_checks
from gpuforge.spec import load_spec_text

AS_OF = date(2026, 11, 28)


def _check(pool: str, software: str) -> list[Finding]:
    text = (
        "apiVersion: gpuforge/v1\nkind: Cluster\nname: vm\ntarget: local\n"
        f"pools:\n  train:\n    gpu: {pool}\n    count: 1\nsoftware: {software}\n"
    )
    findings = run_checks(make_context(load_spec_text(text, "vm.yaml"), AS_OF))
    # The local target only carries the pool here: which OS its nodes run is GF-POOL-005's.
    return [f for f in findings if f.code not in ("GF-LOCK-001", "GF-POOL-005")]


def _solved(pool: str, software: str) -> dict[str, str]:
    text = (
        "apiVersion: gpuforge/v1\nkind: Cluster\nname: vm\ntarget: local\n"
        f"pools:\n  train:\n    gpu: {pool}\n    count: 1\nsoftware: {software}\n"
    )
    ctx = make_context(load_spec_text(text, "vm.yaml"), AS_OF)
    result = ctx.stack("train")
    assert result is not None and result.stack is not None, result
    stack = result.stack
    return {"driver": stack.driver, "cuda": stack.cuda, "cudnn": str(stack.cudnn)}


def test_cuda_13_ga_floor_580_65_06_passes_though_not_catalogued() -> None:
    # CUDA-RN Table 3: CUDA 13.0 GA needs 580.65.06; the catalog lists only 580.95.05 of R580.
    findings = _check("H100:8", '{driver: "580.65.06", cuda: "13.0"}')

    assert [(f.code, f.severity) for f in findings] == [("GF-STACK-014", "info")]
    assert "580.65.06" in findings[0].message
    assert _solved("H100:8", '{driver: "580.65.06", cuda: "13.0"}')["cuda"] == "13.0.0"


def test_cuda_12_0_ga_floor_passes_without_a_compatibility_warning() -> None:
    # CUDA-RN Table 3: 12.0 GA needs 525.60.13 (12.0 Update 1 needs 525.85.12).
    findings = _check("A100-80GB:8", '{driver: "525.60.13", cuda: "12.0"}')

    assert {f.code for f in findings if f.severity != "info"} == {"GF-STACK-004"}  # R525 is EOL
    assert _solved("A100-80GB:8", '{driver: "525.60.13", cuda: "12.0"}')["cuda"] == "12.0.0"


def test_cuda_12_2_ga_floor_is_kept() -> None:
    catalog = load_catalog()
    release = judge_cuda(catalog, Version.parse("12.2.0"))

    assert release is not None and release.catalogued
    assert str(release.min_driver) == "535.54.03"


def test_cuda_11_4_with_cudnn_9_cuda_11_build_on_r580_passes() -> None:
    # CUDNN 9.5.1: the CUDA 11 build serves 11.8 and (without static linking) 11.0-11.7.
    software = '{os: rhel-8, driver: "580", cuda: "11.4", cudnn: "9"}'

    assert [f for f in _check("A100-80GB:8", software) if f.severity == "error"] == []
    assert _solved("A100-80GB:8", software)["cudnn"] == "9.5.1.17"


def test_gh200_mig_1g_12gb_x7_passes() -> None:
    findings = _check('{model: GH200, count: 1, mig: {"1g.12gb": 7}}', '{driver: "auto"}')

    assert [f for f in findings if f.severity != "info"] == []


def test_gh200_mig_7g_96gb_is_known() -> None:
    gh200 = load_catalog().gpus["GH200"]

    assert gh200.mig is not None
    assert {"1g.12gb", "1g.24gb", "2g.24gb", "3g.48gb", "4g.48gb", "7g.96gb"} <= set(
        gh200.mig.profiles
    )


def test_v100_with_cuda_13_reports_the_dropped_architecture() -> None:
    # ARCH: CUDA 13 dropped Volta; the uncatalogued GA driver must not hide that finding.
    findings = _check("V100:8", '{driver: "580.65.06", cuda: "13.0"}')

    assert "GF-STACK-002" in {f.code for f in findings if f.severity == "error"}
    assert "GF-STACK-010" not in {f.code for f in findings}


@pytest.mark.parametrize("driver", ["600.1.2", "999.10"])
def test_driver_outside_every_known_branch_is_an_error(driver: str) -> None:
    findings = _check("H100:8", f'{{driver: "{driver}"}}')

    assert [f.code for f in findings if f.severity == "error"] == ["GF-STACK-010"]


def test_version_shapes_outside_the_model_are_refused() -> None:
    catalog = load_catalog()

    assert judge_driver(catalog, Version.parse("580")) is None  # a branch, not a version
    assert judge_driver(catalog, Version.parse("580.65.06.1")) is None
    assert judge_cuda(catalog, Version.parse("12.7.0")) is None  # there is no CUDA 12.7


def test_uncatalogued_cuda_update_takes_the_next_listed_floor() -> None:
    release = judge_cuda(load_catalog(), Version.parse("12.6.4"))

    assert release is not None and not release.catalogued
    assert str(release.min_driver) == "560.35.05"


def test_a_known_branch_without_a_catalogued_version_says_so() -> None:
    # R620 is a known branch (DCDRV) but the catalog lists no 620.x.y release yet.
    findings = _check("H100:8", '{driver: "620"}')

    [finding] = [f for f in findings if f.severity == "error"]
    assert finding.code == "GF-STACK-010" and "known branch" in finding.message
    assert "--repo" in finding.fix
