"""Version and requirement semantics: prefixes, partial bounds, and malformed input."""

from __future__ import annotations

import pytest

from gpuforge.catalog import Requirement, Version, parse_requirement


def v(text: str) -> Version:
    return Version.parse(text)


def test_version_keeps_spelling_and_compares_numerically() -> None:
    version = v("535.104.05")

    assert str(version) == "535.104.05"
    assert version.parts == (535, 104, 5)
    assert version.major == 535
    assert v("535.54.03") < v("535.104.05") < v("550.54.15")
    assert v("12.10") > v("12.9")
    assert sorted([v("13.0"), v("12.9.1"), v("12.10")]) == [v("12.9.1"), v("12.10"), v("13.0")]


@pytest.mark.parametrize("bad", ["", "abc", "12.", ".12", "12..2", "12.2-1", "v12", "1 2", "-1"])
def test_malformed_versions_raise(bad: str) -> None:
    with pytest.raises(ValueError, match="is not a version"):
        Version.parse(bad)


@pytest.mark.parametrize(
    ("requirement", "admitted", "refused"),
    [
        # a bare release matches by prefix: "535" is the branch 535.x.y
        ("535", ["535.54.03", "535.104.05", "535.183.01"], ["550.54.15", "53.5", "5350.1"]),
        ("12.2", ["12.2.0", "12.2.2"], ["12.20.1", "12.3.2", "12.1.1"]),
        ("535.104.05", ["535.104.05"], ["535.104.12", "535.129.03"]),
        # comparisons look only at as many components as the bound has
        ("<=12.2", ["12.2.2", "12.2.0", "11.8.0"], ["12.3.2"]),
        ("<13", ["12.9.1", "11.0.3"], ["13.0.2", "13.2.2"]),
        (">=12.2,<13", ["12.2.2", "12.9.1"], ["12.1.1", "13.0.2"]),
        (">12.2", ["12.3.2", "13.0.2"], ["12.2.2", "12.2.0"]),
        ("==12.8", ["12.8.1"], ["12.9.1"]),
        ("!=12.8", ["12.9.1"], ["12.8.1"]),
        (">=580", ["580.95.05", "595.71.05"], ["575.57.08"]),
    ],
)
def test_requirement_admits(requirement: str, admitted: list[str], refused: list[str]) -> None:
    parsed = parse_requirement(requirement)

    for text in admitted:
        assert parsed.admits(v(text)), f"{requirement} should admit {text}"
    for text in refused:
        assert not parsed.admits(v(text)), f"{requirement} should refuse {text}"


@pytest.mark.parametrize("spelling", [None, "auto", "AUTO", "latest", "", "  "])
def test_auto_admits_everything(spelling: str | None) -> None:
    parsed = parse_requirement(spelling)

    assert parsed.is_auto
    assert str(parsed) == "auto"
    assert parsed.admits(v("1.0")) and parsed.admits(v("999.9.9"))


@pytest.mark.parametrize(
    ("written", "text"),
    [(535, "535"), (12.2, "12.2"), (" 12.2 ", "12.2"), (">= 12.2 , < 13", ">=12.2,<13")],
)
def test_requirement_normalised_text(written: str | int | float, text: str) -> None:
    parsed = parse_requirement(written)

    assert str(parsed) == text
    assert not parsed.is_auto


def test_prefix_and_clauses_are_exclusive() -> None:
    exact = parse_requirement("12.2")
    ranged = parse_requirement(">=12.2")

    assert exact == Requirement("12.2", prefix=v("12.2"))
    assert ranged.prefix is None and [str(c) for c in ranged.clauses] == [">=12.2"]


@pytest.mark.parametrize(
    "bad", ["abc", "~12.2", "^12", ">=", ">=12.2,", "12.2,13", "=>12", ">=12.x", "12.2.*"]
)
def test_malformed_requirements_raise(bad: str) -> None:
    with pytest.raises(ValueError, match="is not a version requirement"):
        parse_requirement(bad)
