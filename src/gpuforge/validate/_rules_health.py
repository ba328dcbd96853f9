"""Rules about faults and burn-in: XIDs, DCGM diagnostics, NCCL tests, unreadable output."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from gpuforge.validate._expect import NodeExpectation
from gpuforge.validate._facts import NodeFacts
from gpuforge.validate._findings import Hit, Severity, error, rule, warning
from gpuforge.validate._nccl import NcclResult
from gpuforge.validate._rules_security import gpu_allowed, name_allowed
from gpuforge.validate._text import bus_key

# XIDs the Kubernetes device plugin treats as application errors: the GPU stays healthy.
APPLICATION_XIDS = frozenset({13, 31, 43, 45, 68})
XID_MEANINGS: dict[int, str] = {
    13: "graphics engine exception",
    31: "GPU memory page fault",
    43: "GPU stopped processing",
    45: "preemptive cleanup after a previous error",
    48: "double-bit ECC error (DBE)",
    61: "internal micro-controller breakpoint/warning",
    62: "internal micro-controller halt",
    63: "ECC page retirement or row remapping event (reset needed)",
    64: "ECC page retirement or row remapping failure",
    74: "NVLink error",
    79: "GPU has fallen off the bus",
    92: "high single-bit ECC error rate",
    94: "contained ECC error",
    95: "uncontained ECC error",
    119: "GSP RPC timeout",
    120: "GSP error",
}
_SHOWN_TEXT = 160


def _gpu_by_bus(facts: NodeFacts) -> dict[str, int]:
    return {key: g.index for g in facts.gpus if (key := bus_key(g.bus_id))}


@rule("GF-HEALTH-012", "no fatal XIDs")
def fatal_xids(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """An XID outside the application set marks its GPU unhealthy; one finding per GPU and code."""
    del expect
    gpus = _gpu_by_bus(facts)
    seen: set[tuple[str, int]] = set()
    for event in facts.xids:
        if event.code in APPLICATION_XIDS or (event.bus_id, event.code) in seen:
            continue
        seen.add((event.bus_id, event.code))
        meaning = XID_MEANINGS.get(event.code, "see NVIDIA's XID catalog")
        yield error(
            f"XID {event.code} ({meaning}) on GPU at PCI {event.bus_id}: "
            f"{event.text[:_SHOWN_TEXT]}",
            "drain the node, reset the GPU or reboot, then run `dcgmi diag -r 3`; "
            "replace the GPU if the XID returns",
            gpus.get(bus_key(event.bus_id) or ""),
        )


@rule("GF-HEALTH-013", "application XIDs")
def application_xids(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """Application XIDs (13, 31, 43, 45, 68) are reported but leave the GPU usable."""
    del expect
    gpus = _gpu_by_bus(facts)
    seen: set[tuple[str, int]] = set()
    for event in facts.xids:
        if event.code not in APPLICATION_XIDS or (event.bus_id, event.code) in seen:
            continue
        seen.add((event.bus_id, event.code))
        process = f" (process {event.process}, pid {event.pid})" if event.pid else ""
        yield warning(
            f"XID {event.code} ({XID_MEANINGS[event.code]}) on GPU at PCI {event.bus_id}{process}",
            "usually a bug in the application that ran; check its logs",
            gpus.get(bus_key(event.bus_id) or ""),
        )


@rule("GF-HEALTH-021", "dcgmi diag: no failed test")
def dcgm_failed(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """Every DCGM diagnostic passed or was skipped; a failure names the test and the GPUs."""
    if expect.dcgm_level <= 0 or facts.dcgm is None:
        return
    for test in facts.dcgm.tests:
        if test.result != "Fail":
            continue
        gpus = test.gpus_with("Fail")
        where = f" on GPU {', '.join(map(str, gpus))}" if gpus else ""
        detail = f": {test.messages[0].text[:_SHOWN_TEXT]}" if test.messages else ""
        yield error(
            f"dcgmi diag test '{test.name}' ({test.category}) failed{where}{detail}",
            f"follow DCGM's advice above, then re-run `dcgmi diag -r {max(expect.dcgm_level, 2)}`",
            gpus[0] if len(gpus) == 1 else None,
        )


@rule("GF-HEALTH-022", "dcgmi diag: no warnings")
def dcgm_warned(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """A DCGM test that ended in Warn is reported as a warning naming the test."""
    if expect.dcgm_level <= 0 or facts.dcgm is None:
        return
    for test in facts.dcgm.tests:
        if test.result == "Warn":
            gpus = test.gpus_with("Warn")
            yield warning(
                f"dcgmi diag test '{test.name}' ({test.category}) warned"
                + (f" on GPU {', '.join(map(str, gpus))}" if gpus else ""),
                "read the test's message in the dcgmi output and re-run at a higher level",
                gpus[0] if len(gpus) == 1 else None,
            )


@rule("GF-HEALTH-023", "dcgmi diag produced results")
def dcgm_empty(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """An expected DCGM run that printed no test results is an error, not a pass."""
    if expect.dcgm_level <= 0 or facts.dcgm is None or facts.dcgm.tests:
        return
    run = facts.collectors.get("dcgm")
    status = f" (exit status {run.rc})" if run and run.rc else ""
    yield error(
        f"dcgmi diag printed no test results{status}",
        "check that nvidia-dcgm (nv-hostengine) is running: `systemctl status nvidia-dcgm`",
    )


def nccl_hits(result: NcclResult, minimum: float | None, scope: str) -> dict[str, list[Hit]]:
    """Judge one nccl-tests result; returns hits under "busbw", "data" and "empty" keys."""
    found: dict[str, list[Hit]] = {"busbw": [], "data": [], "empty": []}
    if not result.rows:
        found["empty"].append(
            error(
                f"all_reduce_perf on {scope} printed no result rows",
                "run all_reduce_perf by hand to see the NCCL error (NCCL_DEBUG=INFO)",
            )
        )
        return found
    avg = result.avg_busbw_gbps
    if minimum is not None and avg is not None and avg < minimum:
        found["busbw"].append(
            error(
                f"all_reduce_perf on {scope}: average bus bandwidth {avg:g} GB/s is below the "
                f"minimum {minimum:g} GB/s (peak {result.peak_busbw_gbps or 0:g})",
                "check NVLink/NVSwitch (`nvidia-smi topo -m`), PCIe ACS, HCA rates and the NCCL "
                "environment (NCCL_IB_HCA, NCCL_SOCKET_IFNAME)",
            )
        )
    problems = []
    if result.wrong:
        problems.append(f"{result.wrong} wrong element(s)")
    if result.out_of_bounds:
        problems.append(f"{result.out_of_bounds} out-of-bounds value(s)")
    problems.extend(result.failures[:2])
    if problems:
        found["data"].append(
            error(
                f"all_reduce_perf on {scope} returned bad data: {'; '.join(problems)}",
                "data corruption in the collective: check XIDs, ECC and the fabric, then re-run",
            )
        )
    return found


@rule("GF-HEALTH-024", "NCCL bus bandwidth at least the minimum")
def nccl_busbw(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """The node's all_reduce_perf average bus bandwidth meets validation.nccl_min_busbw_gbps."""
    if facts.nccl is not None:
        yield from nccl_hits(facts.nccl, expect.nccl_min_busbw_gbps, facts.host)["busbw"]


@rule("GF-HEALTH-025", "NCCL results are correct")
def nccl_data(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """all_reduce_perf reported no wrong elements, no out-of-bounds values, no test failure."""
    del expect
    if facts.nccl is not None:
        yield from nccl_hits(facts.nccl, None, facts.host)["data"]


@rule("GF-HEALTH-026", "NCCL test produced results")
def nccl_empty(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """An all_reduce_perf run that printed no rows is an error."""
    del expect
    if facts.nccl is not None:
        yield from nccl_hits(facts.nccl, None, facts.host)["empty"]


def _sample(lines: Sequence[str], limit: int) -> str:
    """The first `limit` lines joined by "; ", and how many more there are."""
    more = f" (+{len(lines) - limit} more)" if len(lines) > limit else ""
    return "; ".join(lines[:limit]) + more


@rule("GF-HEALTH-027", "collector output fully understood")
def parse_warnings(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """Lines the parsers could not read are reported, so a format change does not pass silently."""
    del expect
    if facts.parse_warnings:
        yield Hit(
            Severity.INFO,
            f"{len(facts.parse_warnings)} unread line(s) in collector output: "
            f"{_sample(facts.parse_warnings, 3)}",
            "if a tool's output format changed, report it to the gpuforge maintainers",
        )


@rule("GF-HEALTH-033", "every collector line placed")
def unplaced_lines(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """A line no parser could place may hide a fault (an `ibpanic:` line): quote it as a warning."""
    del expect
    if facts.unplaced:
        yield warning(
            f"{len(facts.unplaced)} collector line(s) not understood: {_sample(facts.unplaced, 5)}",
            "read those lines on the node; if the tool's format changed, report it to the "
            "gpuforge maintainers",
        )


@rule("GF-HEALTH-034", "no unexpected processes on idle GPUs")
def stray_processes(facts: NodeFacts, expect: NodeExpectation) -> Iterator[Hit]:
    """A GPU being validated should run nothing but validation.allowed_processes: an allowed
    user's job still skews every measurement (unknown ones are GF-SEC-101's)."""
    gpus = _gpu_by_bus(facts)
    for app in facts.processes or ():
        if name_allowed(app.name, expect.allowed_processes) or not gpu_allowed(app, expect):
            continue
        memory = f", {app.used_mib:.0f} MiB" if app.used_mib is not None else ""
        yield error(
            f"process {app.name} (pid {app.pid}{memory}) runs on GPU at PCI {app.gpu_bus or '?'} "
            "during validation",
            "validate when the GPUs are idle, or add its name to validation.allowed_processes",
            gpus.get(app.gpu_bus or ""),
        )
