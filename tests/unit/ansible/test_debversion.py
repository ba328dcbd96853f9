"""Debian version order and pin patterns of pinned_packages, checked against dpkg itself."""

from __future__ import annotations

import importlib
import itertools
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "src" / "gpuforge"))
debversion = importlib.import_module(
    "ansible_collections.gpuforge.gpu.plugins.module_utils.debversion"
)

VERSIONS = [
    "1.0",
    "1.0-1",
    "1.0-2",
    "1.0~rc1-1",
    "1.0+b1",
    "1.0a",
    "1.00",
    "1.10",
    "1.9",
    "1:0.1",
    "2:0.1",
    "580.95.05-0ubuntu1",
    "580.95.05-1",
    "580.105.08-1",
    "2.18.3-1+cuda12.2",
    "2.18.5-1+cuda12.2",
    "2.18.5-1+cuda11.0",
    "9.10.2.21-1",
    "9.17.0.29-1",
    "1:3.3.8",
    "1:3.3.9",
    "3.3.8",
    "1.0-1~bpo12+1",
    "0.0~git20240101.abc-1",
]


def _dpkg_order(left: str, right: str) -> int:
    for op, value in (("lt", -1), ("eq", 0), ("gt", 1)):
        if (
            subprocess.run(["dpkg", "--compare-versions", left, op, right], check=False).returncode
            == 0
        ):
            return value
    raise AssertionError(f"dpkg cannot order {left} and {right}")


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="dpkg is not installed")
def test_order_matches_dpkg_for_every_pair() -> None:
    for left, right in itertools.combinations(VERSIONS, 2):
        assert debversion.compare_versions(left, right) == _dpkg_order(left, right), (left, right)


@pytest.mark.parametrize(
    ("version", "pattern", "expected"),
    [
        ("2.18.5-1+cuda12.2", "2.18.*+cuda12.2", True),
        ("2.18.5-1+cuda11.0", "2.18.*+cuda12.2", False),
        ("580.95.05-1", "580.95.05-*", True),
        ("580.95.050-1", "580.95.05-*", False),
        ("1:3.3.8", "3.3.8*", True),
        ("1:3.3.8", "1:3.3.8*", True),
        ("1:3.3.8", "2:3.3.8*", False),
        ("1.5.0-1", "", True),
    ],
)
def test_pin_patterns(version: str, pattern: str, expected: bool) -> None:
    assert debversion.matches(version, pattern) is expected


def test_best_match_is_the_highest_matching_whatever_the_order() -> None:
    offered = ["2.18.3-1+cuda12.2", "2.19.3-1+cuda12.2", "2.18.5-1+cuda12.2", "2.18.10-1+cuda12.2"]
    assert debversion.best_match(offered, "2.18.*+cuda12.2") == "2.18.10-1+cuda12.2"
    assert debversion.best_match(offered, "2.20.*") is None
