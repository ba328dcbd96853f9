"""Run the health rules: every registered node rule on one node, and the cluster NCCL rules."""

from __future__ import annotations

from gpuforge.validate import (
    _rules_fabric,
    _rules_gpu,
    _rules_health,
    _rules_security,
    _rules_stack,
)
from gpuforge.validate._expect import NodeExpectation
from gpuforge.validate._facts import NodeFacts
from gpuforge.validate._findings import NODE_RULES, Finding
from gpuforge.validate._nccl import NcclResult

# The rule modules register themselves on import; naming them keeps that import explicit.
RULE_MODULES = (_rules_fabric, _rules_gpu, _rules_health, _rules_security, _rules_stack)
CLUSTER_NCCL_CODES = {
    "busbw": "GF-HEALTH-030",
    "data": "GF-HEALTH-031",
    "empty": "GF-HEALTH-032",
}


def judge_node(facts: NodeFacts, expect: NodeExpectation) -> list[Finding]:
    """Apply every node rule, in code order, and return their findings."""
    findings = []
    for code in sorted(NODE_RULES):
        for hit in NODE_RULES[code].check(facts, expect):
            findings.append(Finding(code, hit.severity, facts.host, hit.message, hit.fix, hit.gpu))
    return findings


def judge_cluster_nccl(pool: str, result: NcclResult, minimum: float | None) -> list[Finding]:
    """Judge a multi-node all_reduce_perf run across one pool against the spec's minimum."""
    scope = f"pool {pool} ({len(result.hosts)} nodes)"
    found = _rules_health.nccl_hits(result, minimum, scope)
    return [
        Finding(CLUSTER_NCCL_CODES[kind], hit.severity, f"pool/{pool}", hit.message, hit.fix)
        for kind in ("empty", "busbw", "data")
        for hit in found[kind]
    ]
