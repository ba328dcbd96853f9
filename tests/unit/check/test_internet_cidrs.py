"""SSH sources are judged as a union: blocks that together cover the whole IPv4 or IPv6 space
are the internet, exactly as 0.0.0.0/0 or ::/0 is."""

from __future__ import annotations

from datetime import date

import pytest

from gpuforge.check import Finding, make_context, run_checks
from gpuforge.spec import load_spec_text

AS_OF = date(2026, 11, 28)
SPEC = """\
apiVersion: gpuforge/v1
kind: Cluster
name: unions
target: local
pools:
  train:
    gpu: H100:8
    count: 2
security: {{public_ip: {public}, ssh_cidrs: {cidrs}}}
"""
UNIONS = [
    "[0.0.0.0/1, 128.0.0.0/1]",
    "[10.0.0.0/8, 0.0.0.0/2, 64.0.0.0/2, 128.0.0.0/2, 192.0.0.0/2]",
    '["::/1", "8000::/1"]',
    "[0.0.0.0/0]",
]
NEAR_MISSES = [
    "[0.0.0.0/1, 128.0.0.0/2]",
    '[0.0.0.0/1, "8000::/1"]',
    '["::/1", 10.0.0.0/8]',
]


def _findings(cidrs: str, public: bool) -> list[Finding]:
    doc = load_spec_text(SPEC.format(cidrs=cidrs, public=str(public).lower()))
    return [f for f in run_checks(make_context(doc, AS_OF)) if f.code.startswith("GF-SEC")]


@pytest.mark.parametrize("cidrs", UNIONS)
def test_a_union_covering_the_internet_with_public_ips_is_an_error(cidrs: str) -> None:
    findings = _findings(cidrs, public=True)

    assert [(f.code, f.severity) for f in findings] == [("GF-SEC-001", "error")]
    assert "/0" in findings[0].message
    assert findings[0].location.path.startswith("security.ssh_cidrs")


@pytest.mark.parametrize("cidrs", UNIONS)
def test_a_union_covering_the_internet_is_a_warning_without_public_ips(cidrs: str) -> None:
    findings = _findings(cidrs, public=False)

    assert [(f.code, f.severity) for f in findings] == [("GF-SEC-002", "warning")]


def test_the_message_names_the_blocks_that_cover_the_internet() -> None:
    (finding,) = _findings(UNIONS[0], public=True)

    assert "0.0.0.0/0" in finding.message
    assert "0.0.0.0/1, 128.0.0.0/1" in finding.message


@pytest.mark.parametrize("cidrs", NEAR_MISSES)
@pytest.mark.parametrize("public", [True, False])
def test_blocks_short_of_a_whole_space_are_not_the_internet(cidrs: str, public: bool) -> None:
    assert _findings(cidrs, public) == []
