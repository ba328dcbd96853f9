"""The rule registry: each rule is a small pure function registered under a stable code."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gpuforge.check._findings import Finding, Severity

if TYPE_CHECKING:
    from gpuforge.check._context import CheckContext


@dataclass(frozen=True)
class Hit:
    """What a rule found: message, fix and the spec path; the registry adds code and severity."""

    message: str
    fix: str
    path: tuple[str | int, ...]
    pool: str | None = None
    severity: Severity | None = None


RuleFunc = Callable[["CheckContext"], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    """A registered rule: code GF-<AREA>-NNN, a title, its default severity and function."""

    code: str
    title: str
    severity: Severity
    func: RuleFunc

    def run(self, ctx: CheckContext) -> Iterator[Finding]:
        """Run the rule and turn its hits into located findings."""
        for hit in self.func(ctx):
            yield Finding(
                code=self.code,
                severity=hit.severity or self.severity,
                message=hit.message,
                fix=hit.fix,
                location=ctx.doc.locate(*hit.path),
                pool=hit.pool,
            )


RULES: dict[str, Rule] = {}


def rule(code: str, title: str, severity: Severity) -> Callable[[RuleFunc], RuleFunc]:
    """Register `func` as the rule `code`; codes are unique and never reused."""

    def register(func: RuleFunc) -> RuleFunc:
        if code in RULES:
            raise ValueError(f"rule code {code} registered twice")
        RULES[code] = Rule(code, title, severity, func)
        return func

    return register
