"""Health findings and the registry of rules that produce them, each under a stable code."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from gpuforge.validate._expect import NodeExpectation
from gpuforge.validate._facts import NodeFacts


class Severity(StrEnum):
    """How bad a finding is: an error makes its node not ready, a warning or info does not."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Hit:
    """What a rule found, before the registry stamps it with the rule's code and the node."""

    severity: Severity
    message: str
    fix: str
    gpu: int | None = None


@dataclass(frozen=True)
class Finding:
    """One health finding: stable code, severity, the node (and GPU) it concerns, and a fix."""

    code: str
    severity: Severity
    node: str
    message: str
    fix: str
    gpu: int | None = None
    gpus: tuple[int, ...] = ()
    consequences: tuple[Finding, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready view with the same keys the check layer's findings use; a folded finding
        lists its `gpus`, a cause its `consequences` (findings it explains)."""
        body: dict[str, object] = {
            "code": self.code,
            "severity": self.severity.value,
            "node": self.node,
            "gpu": self.gpu,
            "message": self.message,
            "fix": self.fix,
        }
        if self.gpus:
            body["gpus"] = list(self.gpus)
        if self.consequences:
            body["consequences"] = [c.to_dict() for c in self.consequences]
        return body


RuleCheck = Callable[[NodeFacts, NodeExpectation], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    """A registered node rule: its code, a one-line title, and the pure check function."""

    code: str
    title: str
    check: RuleCheck


NODE_RULES: dict[str, Rule] = {}


def rule(code: str, title: str) -> Callable[[RuleCheck], RuleCheck]:
    """Register a node rule under `code`; a code can be registered once only."""

    def register(check: RuleCheck) -> RuleCheck:
        if code in NODE_RULES:
            raise ValueError(f"rule code {code} registered twice")
        NODE_RULES[code] = Rule(code, title, check)
        return check

    return register


def error(message: str, fix: str, gpu: int | None = None) -> Hit:
    """Shorthand for an error hit."""
    return Hit(Severity.ERROR, message, fix, gpu)


def warning(message: str, fix: str, gpu: int | None = None) -> Hit:
    """Shorthand for a warning hit."""
    return Hit(Severity.WARNING, message, fix, gpu)
