"""Rules about the interconnect: NVLink topology and InfiniBand/RoCE HCAs."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations

from gpuforge.validate._expect import NodeExpectation
from gpuforge.validate._facts import NodeFacts
from gpuforge.validate._findings import Hit, error, rule, warning
from gpuforge.validate._ib import Hca

_SHOWN_PAIRS = 8


@rule("GF-HEALTH-015", "NVLink topology as the profile says")
def nvlink_topology(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """Every GPU pair in `topo -m` is joined by the expected NVLink bond (e.g. NV18)."""
    if expect.nvlink is None or facts.topology is None:
        return
    topo = facts.topology
    bad = [
        (a, b, topo.link(a, b) or "?")
        for a, b in combinations(topo.gpus, 2)
        if topo.link(a, b) != expect.nvlink
    ]
    if not bad:
        return
    shared = set.intersection(*({a, b} for a, b, _ in bad))
    gpu = int(min(shared)[3:]) if len(shared) == 1 and len(bad) > 1 else None
    shown = ", ".join(f"{a}-{b} {link}" for a, b, link in bad[:_SHOWN_PAIRS])
    more = f" and {len(bad) - _SHOWN_PAIRS} more" if len(bad) > _SHOWN_PAIRS else ""
    yield error(
        f"{len(bad)} GPU pair(s) not linked by {expect.nvlink}: {shown}{more}",
        "check `nvidia-smi nvlink -s` and that nvidia-fabricmanager runs (NVSwitch systems); "
        "a GPU missing all its links needs a reset or reseat",
        gpu,
    )


def _fabric(facts: NodeFacts, expect: NodeExpectation) -> tuple[list[Hca], list[Hca]]:
    """Split HCAs into those on the fabric's link layer and the rest."""
    wanted = (expect.hca_link_layer or "").lower()
    on = [
        h
        for h in facts.hcas
        if not wanted or all((p.link_layer or "").lower() == wanted for p in h.ports)
    ]
    return on, [h for h in facts.hcas if h not in on]


@rule("GF-HEALTH-016", "enough HCAs present")
def hca_count(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """The node has at least as many HCAs as the profile expects."""
    run = facts.collectors.get("ibstat")
    if expect.hca_count <= 0 or run is None or not run.collected or run.rc:
        return
    if len(facts.hcas) < expect.hca_count:
        yield error(
            f"{len(facts.hcas)} HCA(s) found, expected {expect.hca_count}",
            "check `lspci | grep Mellanox` and that the mlx5_core/mlx5_ib modules are loaded",
        )


@rule("GF-HEALTH-017", "every fabric HCA port Active/LinkUp")
def hca_state(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """Every port of a fabric HCA is Active with physical state LinkUp."""
    if expect.hca_count <= 0:
        return
    on, _ = _fabric(facts, expect)
    for hca in on:
        for port in hca.ports:
            if port.state != "Active" or port.physical_state not in (None, "LinkUp"):
                polling = port.physical_state == "Polling"
                yield error(
                    f"{hca.name} port {port.number} is {port.state or '?'}"
                    f" / {port.physical_state or '?'}",
                    "no subnet manager answers: start opensm or check the switch"
                    if polling
                    else "check the cable and switch port, then `ibstat` again",
                )


@rule("GF-HEALTH-018", "fabric HCA ports at the expected rate")
def hca_rate(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """Every active fabric port runs at the expected rate (a lower rate means a degraded link)."""
    if expect.hca_count <= 0 or expect.hca_rate_gbps is None:
        return
    on, _ = _fabric(facts, expect)
    for hca in on:
        for port in hca.ports:
            if port.state != "Active" or port.rate_gbps is None:
                continue
            if port.rate_gbps < expect.hca_rate_gbps:
                yield error(
                    f"{hca.name} port {port.number} runs at {port.rate_gbps:g} Gb/s, expected "
                    f"{expect.hca_rate_gbps:g}",
                    "check the cable and transceiver rating and the switch port speed",
                )
            elif port.rate_gbps > expect.hca_rate_gbps:
                yield warning(
                    f"{hca.name} port {port.number} runs at {port.rate_gbps:g} Gb/s, faster than "
                    f"the expected {expect.hca_rate_gbps:g}",
                    "update fabric.port_speed in the spec if the hardware was upgraded",
                )


@rule("GF-HEALTH-019", "fabric HCAs on the expected link layer")
def hca_link_layer(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """When too few HCAs use the fabric's link layer, the others are named as misconfigured."""
    if expect.hca_count <= 0 or expect.hca_link_layer is None:
        return
    on, off = _fabric(facts, expect)
    if len(on) >= expect.hca_count:
        return
    for hca in off:
        layers = "/".join(sorted({p.link_layer or "?" for p in hca.ports}))
        yield error(
            f"{hca.name} uses link layer {layers}, the fabric needs {expect.hca_link_layer}",
            "set the port type with `mlxconfig -d <dev> set LINK_TYPE_P1=1` (IB) or 2 (Ethernet) "
            "and reboot",
        )
