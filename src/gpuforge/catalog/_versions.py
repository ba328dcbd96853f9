"""Version numbers and version requirements ("535", "12.2", ">=12.2,<13", "auto").

A requirement with fewer components than a version matches by prefix: driver "535" is the
branch 535.x.y, CUDA "12.2" is any 12.2.z. Comparison operators compare only as many components
as the bound has, so "<=12.2" admits 12.2.2 and "<13" admits 12.9.1.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import total_ordering

_VERSION_RE = re.compile(r"^\d+(\.\d+)*$")
_CLAUSE_RE = re.compile(r"^(>=|<=|==|!=|>|<)\s*(\d+(?:\.\d+)*)$")
_OPS: dict[str, Callable[[tuple[int, ...], tuple[int, ...]], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}


@total_ordering
@dataclass(frozen=True)
class Version:
    """A dotted numeric version that keeps its original spelling ("535.104.05")."""

    text: str
    parts: tuple[int, ...]

    @classmethod
    def parse(cls, text: str) -> Version:
        """Parse "535.104.05"; raises ValueError for anything but dot-separated numbers."""
        cleaned = str(text).strip()
        if not _VERSION_RE.match(cleaned):
            raise ValueError(f"{text!r} is not a version (expected numbers separated by dots)")
        return cls(cleaned, tuple(int(p) for p in cleaned.split(".")))

    @property
    def major(self) -> int:
        """The first component: the driver branch or the CUDA major release."""
        return self.parts[0]

    def prefix(self, length: int) -> tuple[int, ...]:
        """The first `length` components, used to compare against partial bounds."""
        return self.parts[:length]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.parts < other.parts

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Clause:
    """One comparison in a requirement, such as `>=12.2`."""

    op: str
    bound: Version

    def admits(self, version: Version) -> bool:
        """True when `version` satisfies this clause, comparing only the bound's components."""
        return _OPS[self.op](version.prefix(len(self.bound.parts)), self.bound.parts)

    def __str__(self) -> str:
        return f"{self.op}{self.bound}"


@dataclass(frozen=True)
class Requirement:
    """What the user asked for: `auto`, a prefix ("535", "12.2", "535.104.05"), or clauses."""

    text: str
    prefix: Version | None = None
    clauses: tuple[Clause, ...] = ()

    @property
    def is_auto(self) -> bool:
        """True when the solver may choose freely."""
        return self.prefix is None and not self.clauses

    def admits(self, version: Version) -> bool:
        """True when `version` satisfies the requirement."""
        if self.prefix is not None:
            return version.prefix(len(self.prefix.parts)) == self.prefix.parts
        return all(clause.admits(version) for clause in self.clauses)

    def __str__(self) -> str:
        return self.text


def parse_requirement(text: str | int | float | None) -> Requirement:
    """Parse a version requirement from the spec; raises ValueError with the accepted forms."""
    if text is None:
        return Requirement("auto")
    raw = str(text).strip()
    if raw.lower() in ("auto", "latest", ""):
        return Requirement("auto")
    if _VERSION_RE.match(raw):
        return Requirement(raw, prefix=Version.parse(raw))
    clauses: list[Clause] = []
    for piece in raw.split(","):
        match = _CLAUSE_RE.match(piece.strip())
        if not match:
            raise ValueError(
                f"{raw!r} is not a version requirement; use auto, an exact version "
                '("535.104.05"), a branch or release ("535", "12.2") or comparisons '
                '(">=12.2,<13")'
            )
        clauses.append(Clause(match.group(1), Version.parse(match.group(2))))
    return Requirement(",".join(str(c) for c in clauses), clauses=tuple(clauses))
