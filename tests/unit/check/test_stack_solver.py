"""The stack solver on combinations whose verdicts were derived by hand from NVIDIA's tables in
shared/reference/gpu-stack-facts.md (sections 1-4), restricted to the releases the catalog holds.

Dates: solved as of 2026-11-28. R535 (EOL 2026-06-30) and R610 (NFB, EOL 2026-08-31) are then past
end of life, so an unconstrained driver comes from the newest supported LTSB/PB release: 595.71.05
(R595 PB), or 580.95.05 for Volta (last driver R580). An unconstrained CUDA is the newest the
driver fully supports for which a cuDNN build exists: cuDNN 9.17's CUDA 13 build serves 13.0-13.1
only (section 4), so 13.2.2 is passed over for 13.1.1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from gpuforge.catalog import load_catalog
from gpuforge.check import StackSolver
from gpuforge.spec import SoftwareSpec

AS_OF = date(2026, 11, 28)


@dataclass(frozen=True)
class Stack:
    """Expected exact versions; `minor` = runs only through minor-version compatibility."""

    driver: str
    cuda: str
    cudnn: str | None
    nccl: str
    modules: str
    minor: bool = False


@dataclass(frozen=True)
class Case:
    """One combination: the GPU, what the spec asks for, and the expected outcome."""

    gpu: str
    want: dict[str, str]
    expect: Stack | str


NEWEST = Stack("595.71.05", "13.1.1", "9.17.0.29", "2.30.3+cuda13.0", "open")

CASES: dict[str, Case] = {
    # -- auto everything: the newest proven combination --------------------------------------
    # H100 Hopper CC 9.0 (sec 2): R595 PB; 13.2 needs 595.71.05 (sec 1) but has no cuDNN build,
    # 13.1 U1 needs 590.48.01; cuDNN 9.17 CUDA 13 build (sec 4); NCCL 2.30 ships +cuda13 (sec 4);
    # open modules are the default from R560 on Turing+ (sec 3).
    "auto-H100": Case("H100", {}, NEWEST),
    # A100 Ampere CC 8.0, L4 Ada CC 8.9, T4 Turing CC 7.5: all >= 7.5, so CUDA 13 and the cuDNN
    # 9.17 CUDA 13 build (CC 7.5-12.0) apply exactly as for H100 (sec 2, sec 4).
    "auto-A100": Case("A100-40GB", {}, NEWEST),
    "auto-L4": Case("L4", {}, NEWEST),
    "auto-T4": Case("T4", {}, NEWEST),
    # GH200 and B200 need the open modules, which R595 has (sec 3); B200 CC 10.0 is within 9.17's
    # 7.5-12.0, NCCL 2.30 >= 2.25.1 for Blackwell (sec 4).
    "auto-GH200": Case("GH200", {}, NEWEST),
    "auto-B200": Case("B200", {}, NEWEST),
    # V100 Volta CC 7.0: last driver R580, last toolkit 12.x (sec 2); 12.9 U1 needs 575.57.08
    # (sec 1); cuDNN 9.17 needs CC 7.5 so 9.10.2 (CC 5.0-9.0 on 12.0-12.9) serves it (sec 4);
    # NCCL 2.30 ships +cuda12.9; Volta cannot run open modules (sec 3).
    "auto-V100": Case(
        "V100", {}, Stack("580.95.05", "12.9.1", "9.10.2.21", "2.30.3+cuda12.9", "proprietary")
    ),
    # -- pinned versions that work -----------------------------------------------------------
    # 12.9 U1 needs 575.57.08 <= 580.95.05 (sec 1); NCCL 2.30 has +cuda12.9 (sec 4).
    "580+12.9-H100": Case(
        "H100",
        {"driver": "580", "cuda": "12.9"},
        Stack("580.95.05", "12.9.1", "9.17.0.29", "2.30.3+cuda12.9", "open"),
    ),
    # 12.2 U2 needs 535.104.05; newest R535 release 535.183.01 fully supports it (sec 1); NCCL
    # 2.26.2 has a +cuda12.2 build; R535 < R560 keeps proprietary modules by default (sec 3).
    "535-T4": Case(
        "T4",
        {"driver": "535"},
        Stack("535.183.01", "12.2.2", "9.17.0.29", "2.26.2+cuda12.2", "proprietary"),
    ),
    "535.104.05+12.2.2-H100": Case(
        "H100",
        {"driver": "535.104.05", "cuda": "12.2.2"},
        Stack("535.104.05", "12.2.2", "9.17.0.29", "2.26.2+cuda12.2", "proprietary"),
    ),
    # 12.2 U2's own floor is 535.104.05 (sec 1): 535.54.03 runs it only through minor-version
    # compatibility (12.x: >= 525, < 580; Table 2).
    "535.54.03+12.2.2-H100": Case(
        "H100",
        {"driver": "535.54.03", "cuda": "12.2.2"},
        Stack("535.54.03", "12.2.2", "9.17.0.29", "2.26.2+cuda12.2", "proprietary", minor=True),
    ),
    # 12.4 U1 needs 550.54.15 > 535.183.01; both pinned, so minor-version compatibility (Table 2).
    "535+12.4-H100": Case(
        "H100",
        {"driver": "535", "cuda": "12.4"},
        Stack("535.183.01", "12.4.1", "9.17.0.29", "2.26.2+cuda12.4", "proprietary", minor=True),
    ),
    # a CUDA range with a pinned branch: the newest 12.x reachable by minor-version compatibility
    # is 12.9.1 (13.x needs >= 580, Table 2).
    "535+>=12.4-H100": Case(
        "H100",
        {"driver": "535", "cuda": ">=12.4"},
        Stack("535.183.01", "12.9.1", "9.17.0.29", "2.30.3+cuda12.9", "proprietary", minor=True),
    ),
    # 12.8 U1 needs 570.124.06 > 550.90.07: minor-version compatibility; R550 < R560 proprietary.
    "550+12.8-H100": Case(
        "H100",
        {"driver": "550", "cuda": "12.8"},
        Stack("550.90.07", "12.8.1", "9.17.0.29", "2.26.2+cuda12.8", "proprietary", minor=True),
    ),
    # Hopper from CUDA 11.8 (sec 2); cuDNN 9.x for CUDA 11 serves 11.8 up to CC 9.0 (sec 4);
    # NCCL's newest CUDA 11 build is 2.19.3 +cuda11.0 (sec 4).
    "11.8-H100": Case(
        "H100",
        {"cuda": "11.8"},
        Stack("595.71.05", "11.8.0", "9.5.1.17", "2.19.3+cuda11.0", "open"),
    ),
    # R525: 12.0 U1 needs 525.85.12 <= 525.125.06 (sec 1); NCCL 2.19.3 has +cuda12.0 (sec 4).
    "525-H100": Case(
        "H100",
        {"driver": "525"},
        Stack("525.125.06", "12.0.1", "9.17.0.29", "2.19.3+cuda12.0", "proprietary"),
    ),
    # B200 from CUDA 12.8 (sec 2); the cuDNN 12.x build needs 12.8+ for Blackwell and NCCL 2.26.2
    # has +cuda12.8 and Blackwell support (sec 4).
    "12.8-B200": Case(
        "B200",
        {"cuda": "12.8"},
        Stack("595.71.05", "12.8.1", "9.17.0.29", "2.26.2+cuda12.8", "open"),
    ),
    # NCCL 2.18.5 ships +cuda12.2 but no +cuda12.4 build (sec 4): the 12.2 build runs on 12.4.
    "nccl-2.18.5+12.4-H100": Case(
        "H100",
        {"cuda": "12.4", "nccl": "2.18.5"},
        Stack("595.71.05", "12.4.1", "9.17.0.29", "2.18.5+cuda12.2", "open"),
    ),
    # -- conflicts ---------------------------------------------------------------------------
    # CUDA 13.0 removed Volta (sec 1, sec 2).
    "V100+13": Case("V100", {"cuda": "13.0"}, "GF-STACK-002"),
    "V100+13-range": Case("V100", {"cuda": ">=13"}, "GF-STACK-002"),
    # B200 needs 12.8 -> 570.26 at least (sec 2); R550 predates it.
    "B200+550": Case("B200", {"driver": "550"}, "GF-STACK-003"),
    # Hopper needs 11.8 -> 520.61.05 (sec 2); R470 predates it.
    "H100+470": Case("H100", {"driver": "470"}, "GF-STACK-003"),
    # B200's first toolkit is 12.8 (sec 2).
    "B200+12.4": Case("B200", {"cuda": "12.4"}, "GF-STACK-003"),
    # Blackwell needs the open modules (sec 3).
    "B200-proprietary": Case("B200", {"driver_modules": "proprietary"}, "GF-STACK-005"),
    # open modules are Turing and newer only (sec 3).
    "V100-open": Case("V100", {"driver_modules": "open"}, "GF-STACK-005"),
    # 13.0 needs >= 580.65.06 even through minor-version compatibility (sec 1, Table 2).
    "535+13": Case("H100", {"driver": "535", "cuda": "13.0"}, "GF-STACK-001"),
    "570+13": Case("H100", {"driver": "570", "cuda": "13"}, "GF-STACK-001"),
    # Volta's last driver branch is R580 (sec 2).
    "V100+590": Case("V100", {"driver": "590"}, "GF-STACK-011"),
    # Ubuntu 24.04 (kernel 6.8) drivers start at R550 (sec 3).
    "ubuntu-24.04+535": Case("H100", {"os": "ubuntu-24.04", "driver": "535"}, "GF-STACK-009"),
    # MI300X is AMD: ROCm, not the NVIDIA stack (sec 2).
    "MI300X": Case("MI300X", {}, "GF-STACK-012"),
    # NCCL gained Blackwell in 2.25.1 (sec 4).
    "nccl-2.18.5-B200": Case("B200", {"nccl": "2.18.5"}, "GF-STACK-013"),
    # NCCL 2.27.5 is built for 12.9 only: nothing runs on 12.4.
    "nccl-2.27.5+12.4": Case("H100", {"cuda": "12.4", "nccl": "2.27.5"}, "GF-STACK-007"),
    # cuDNN 9.5.1 here is the CUDA 11 build only (sec 4).
    "cudnn-9.5+12.8": Case("H100", {"cuda": "12.8", "cudnn": "9.5"}, "GF-STACK-006"),
    # there is no CUDA 12.7 (sec 1), and no R999.
    "cuda-12.7": Case("H100", {"cuda": "12.7"}, "GF-STACK-010"),
    "driver-999": Case("H100", {"driver": "999"}, "GF-STACK-010"),
}


def _solve(case: Case, as_of: date = AS_OF) -> Stack | list[str]:
    catalog = load_catalog()
    software = SoftwareSpec.model_validate(case.want)
    result = StackSolver(catalog, as_of).solve(software, catalog.gpus[case.gpu])
    if result.stack is None:
        return [c.code for c in result.conflicts]
    s = result.stack
    return Stack(s.driver, s.cuda, s.cudnn, s.nccl, s.driver_modules, s.minor_version_compat)


def test_enough_combinations() -> None:
    assert len(CASES) >= 20
    assert sum(isinstance(c.expect, str) for c in CASES.values()) >= 10


@pytest.mark.parametrize("name", list(CASES))
def test_solver_verdict(name: str) -> None:
    case = CASES[name]
    got = _solve(case)

    if isinstance(case.expect, str):
        assert got == [case.expect]
    else:
        assert got == case.expect


def test_every_choice_has_a_reason() -> None:
    catalog = load_catalog()
    software = SoftwareSpec.model_validate({"driver": "535", "cuda": "12.4"})
    stack = StackSolver(catalog, AS_OF).solve(software, catalog.gpus["H100"]).stack

    assert stack is not None
    assert set(stack.reasons) == {
        "driver",
        "driver_modules",
        "cuda",
        "nccl",
        "cudnn",
        "container_toolkit",
        "dcgm",
    }
    assert "R535 (LTSB, end of life 2026-06-30)" in stack.reasons["driver"]
    assert "minor-version compatibility" in stack.reasons["cuda"]
    assert stack.reasons["cuda"].endswith("matches the requirement 12.4")
    assert stack.reasons["driver_modules"] == "proprietary: default before R560"
    assert (stack.container_toolkit, stack.dcgm) == ("1.17.8", "3.3.9")


def test_conflicts_name_the_spec_field_and_a_fix() -> None:
    catalog = load_catalog()
    software = SoftwareSpec.model_validate({"cuda": "13.0"})
    result = StackSolver(catalog, AS_OF).solve(software, catalog.gpus["V100"])

    assert [(c.code, c.field) for c in result.conflicts] == [("GF-STACK-002", "software.cuda")]
    assert (
        result.conflicts[0].fix
        == 'pin cuda to a 12.x release (e.g. ">=12.0,<13") or use newer GPUs'
    )


def test_end_of_life_branches_are_chosen_last() -> None:
    # End of life demotes a branch: once R595 PB ends (2027-03-31) the newest supported branch
    # is R580 LTSB, whose 580.95.05 fully supports CUDA 13.0 U2 (sec 1).
    before = _solve(CASES["auto-H100"], date(2026, 6, 30))
    after = _solve(CASES["auto-H100"], date(2027, 4, 1))  # R595 PB ended 2027-03-31

    assert before == NEWEST
    assert isinstance(after, Stack)
    assert (after.driver, after.cuda) == ("580.95.05", "13.0.2")
