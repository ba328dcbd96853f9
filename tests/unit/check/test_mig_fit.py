"""MIG layouts against one GPU's slices and placements (facts section 5, mig-parted rules)."""

from __future__ import annotations

import pytest

from gpuforge.catalog import Catalog, load_catalog
from gpuforge.check import placement_problem, resolve_layout


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.mark.parametrize(
    "counts",
    [
        {"7g.80gb": 1},
        {"1g.10gb": 7},
        {"1g.20gb": 4},
        {"2g.20gb": 3, "1g.10gb": 1},  # 2g at 0, 2, 4; 1g at 6
        {"4g.40gb": 1, "3g.40gb": 1},  # 4g at 0, 3g at 4
        {"3g.40gb": 1, "2g.20gb": 2},
        {"1g.10gb": 2, "2g.20gb": 1, "3g.40gb": 1},  # all-balanced
        {"1g.10gb+me": 1, "1g.10gb": 6},
    ],
)
def test_layouts_that_fit_an_h100(catalog: Catalog, counts: dict[str, int]) -> None:
    family = catalog.gpus["H100"].mig
    assert family is not None

    assert placement_problem(family, counts) is None


@pytest.mark.parametrize(
    ("counts", "why"),
    [
        ({"1g.10gb": 8}, "1g.10gb allows at most 7 instance(s) per GPU, 8 asked"),
        ({"3g.40gb": 3}, "3g.40gb allows at most 2 instance(s) per GPU, 3 asked"),
        ({"4g.40gb": 1, "3g.40gb": 1, "1g.10gb": 1}, "the instances need 8 compute slices"),
        # 7 compute slices, but two 3g take all 8 memory slices and leave none for the 1g
        ({"3g.40gb": 2, "1g.10gb": 1}, "no placement of these instances fits"),
        ({"1g.20gb": 4, "1g.10gb": 3}, "no placement of these instances fits"),
    ],
)
def test_layouts_that_do_not_fit(catalog: Catalog, counts: dict[str, int], why: str) -> None:
    family = catalog.gpus["H100"].mig
    assert family is not None

    problem = placement_problem(family, counts)

    assert problem is not None and problem.startswith(why)


def test_a30_has_four_slices(catalog: Catalog) -> None:
    family = catalog.gpus["A30"].mig
    assert family is not None

    assert placement_problem(family, {"2g.12gb": 2}) is None
    assert placement_problem(family, {"1g.6gb": 4}) is None
    assert placement_problem(family, {"2g.12gb": 1, "1g.6gb": 3}) is not None


@pytest.mark.parametrize(
    ("gpu", "layout", "expected"),
    [
        ("H100", "all-balanced", {"1g.10gb": 2, "2g.20gb": 1, "3g.40gb": 1}),
        ("A100-40GB", "all-3g", {"3g.20gb": 2}),
        ("H200", "all-7g", {"7g.141gb": 1}),
        ("A30", "all-7g", {"4g.24gb": 1}),
        ("A30", "all-3g", "layout 'all-3g' is not defined for A30"),
        ("H100", "all-9g", "unknown MIG layout 'all-9g'"),
        ("L4", "all-1g", "L4 does not support MIG"),
    ],
)
def test_resolve_layout(
    catalog: Catalog, gpu: str, layout: str, expected: dict[str, int] | str
) -> None:
    resolved = resolve_layout(catalog, catalog.gpus[gpu], layout, {})

    if isinstance(expected, str):
        assert isinstance(resolved, str) and resolved.startswith(expected)
    else:
        assert resolved == expected


def test_every_named_layout_fits_every_family_it_defines(catalog: Catalog) -> None:
    families = {g.mig.name: g.mig for g in catalog.gpus.values() if g.mig is not None}

    for layout, per_family in catalog.mig_layouts.items():
        for family_name, counts in per_family.items():
            assert placement_problem(families[family_name], counts) is None, (layout, family_name)
