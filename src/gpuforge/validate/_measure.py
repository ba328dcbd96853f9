"""The measured values behind a node's verdict, as the readiness report shows them."""

from __future__ import annotations

from collections import Counter

from gpuforge.validate._expect import NodeExpectation
from gpuforge.validate._facts import NodeFacts
from gpuforge.validate._nccl import NcclResult

Measure = tuple[str, str, str]
"""One row: what was measured, the value found, and what the spec or lock expects."""


def _spread(values: list[str]) -> str:
    """`on x8`, or `on x7, off x1` when GPUs differ."""
    if not values:
        return "-"
    return ", ".join(f"{value} x{count}" for value, count in Counter(values).most_common())


def measures(facts: NodeFacts, expect: NodeExpectation) -> tuple[Measure, ...]:
    """Every value a node's verdict rests on, with its expectation ('-' where none)."""
    gpus = facts.gpus
    rows: list[Measure] = [
        ("GPUs", f"{len(gpus)}: {_spread([g.name or '?' for g in gpus])}", str(expect.gpu_count)),
        ("driver", _spread([g.driver or "?" for g in gpus]), expect.driver_version or "-"),
        (
            "persistence mode",
            _spread(["on" if g.persistence else "off" for g in gpus if g.persistence is not None]),
            "on" if expect.persistence_mode else "off",
        ),
        (
            "power limit W",
            _spread([f"{g.power_limit_w:g}" for g in gpus if g.power_limit_w is not None]),
            "-" if expect.power_limit_w is None else f"{expect.power_limit_w:g}",
        ),
        ("compute mode", _spread([g.compute_mode or "?" for g in gpus]), expect.compute_mode),
        (
            "uncorrectable ECC errors",
            str(sum(g.ecc_uncorrected_volatile or 0 for g in gpus)),
            "0",
        ),
        ("XIDs", ", ".join(str(e.code) for e in facts.xids) or "none", "none fatal"),
    ]
    ports = [port for hca in facts.hcas for port in hca.ports]
    if ports:
        active = sum(1 for p in ports if (p.state or "").lower() == "active")
        rates = _spread([f"{p.rate_gbps:g} Gb/s" for p in ports if p.rate_gbps is not None])
        rows.append(("HCA ports active", f"{active} of {len(ports)} ({rates})", "all"))
    if facts.dcgm is not None:
        results = Counter(t.result.lower() for t in facts.dcgm.tests)
        shown = ", ".join(f"{count} {result}" for result, count in sorted(results.items()))
        rows.append(("dcgmi diag", shown or "no tests", "no fail"))
    if facts.nccl is not None:
        average = facts.nccl.avg_busbw_gbps
        minimum = expect.nccl_min_busbw_gbps
        rows.append(
            (
                "NCCL avg bus bandwidth GB/s",
                "-" if average is None else f"{average:g}",
                "-" if minimum is None else f">= {minimum:g}",
            )
        )
    return tuple(rows)


def busbw_curve(result: NcclResult | None) -> tuple[tuple[int, float], ...]:
    """(message size in bytes, out-of-place bus bandwidth in GB/s) per row of an NCCL run."""
    if result is None:
        return ()
    return tuple((row.size_bytes, row.busbw_out) for row in result.rows)
