"""Spec + catalog -> findings (stable GF-<AREA>-NNN codes), and the stack solver -> lock."""

from __future__ import annotations

from datetime import date

from gpuforge.catalog import load_catalog
from gpuforge.check import rules as _rules
from gpuforge.check._cidrs import collapse_cidrs, internet_spaces
from gpuforge.check._context import CheckContext, PoolFacts
from gpuforge.check._findings import Finding, Severity, sort_findings
from gpuforge.check._lock import (
    Lock,
    LockConflicts,
    PoolLock,
    current_lock,
    inputs_digest,
    lock_path,
    parse_lock,
    pool_packages,
    read_lock,
    read_lock_text,
    solve_lock,
    write_lock,
)
from gpuforge.check._mig import placement_problem, resolve_layout
from gpuforge.check._pricing import HOURS_PER_MONTH, PoolPrice, pool_price, pool_prices
from gpuforge.check._registry import RULES, Hit, Rule
from gpuforge.check._repo import RepoIndex, read_repo_index, repo_for
from gpuforge.check._stack import Conflict, ResolvedStack, StackResult, StackSolver
from gpuforge.check.rules.pools import node_names
from gpuforge.spec import SpecDocument

del _rules


def make_context(
    doc: SpecDocument,
    as_of: date,
    lock_text: str | None = None,
    repo: RepoIndex | None = None,
) -> CheckContext:
    """Build the shared context rules and the solver work from (`repo`: the nodes' index)."""
    return CheckContext(
        doc=doc, catalog=load_catalog(), as_of=as_of, lock_text=lock_text, repo=repo
    )


def run_checks(ctx: CheckContext, skip: set[str] | None = None) -> list[Finding]:
    """Run every registered rule not skipped by `--skip` or the spec's `checks.skip`."""
    skipped = set(skip or ()) | set(ctx.doc.spec.checks.skip)
    findings: list[Finding] = []
    for code, registered in RULES.items():
        if code in skipped:
            continue
        findings.extend(registered.run(ctx))
    return sort_findings(findings)


__all__ = [
    "HOURS_PER_MONTH",
    "RULES",
    "CheckContext",
    "Conflict",
    "Finding",
    "Hit",
    "Lock",
    "LockConflicts",
    "PoolFacts",
    "PoolLock",
    "PoolPrice",
    "RepoIndex",
    "ResolvedStack",
    "Rule",
    "Severity",
    "StackResult",
    "StackSolver",
    "collapse_cidrs",
    "current_lock",
    "inputs_digest",
    "internet_spaces",
    "lock_path",
    "make_context",
    "node_names",
    "parse_lock",
    "placement_problem",
    "pool_packages",
    "pool_price",
    "pool_prices",
    "read_lock",
    "read_lock_text",
    "read_repo_index",
    "repo_for",
    "resolve_layout",
    "run_checks",
    "solve_lock",
    "write_lock",
]
