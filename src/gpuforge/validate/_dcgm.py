"""Parser for `dcgmi diag -r N` tables of DCGM 2.x, 3.x and 4.x.

2.x/3.x print one row per test (`GPU Memory | Fail - All`, `Pass - GPUs: 0, 1`); 4.x prints a
summary row (`memory | Pass`) followed by `GPU0: Pass` rows. `Info`/`Warning` rows and their
wrapped continuation lines are joined back into one message and kept with the test above them.
Lines outside the table other than dcgmi's own status line are returned quoted in `unplaced`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gpuforge.validate._text import lines_of, unplaced

_SECTION = re.compile(r"^[|+]-+\s+(?P<name>\S.*?)\s+-+\+")
_RESULT = re.compile(r"^(?P<result>Pass|Fail|Skip|Warn(?:ing)?)\b(?:\s*-\s*(?P<scope>.*))?$")
_GPU_RESULT = re.compile(r"^GPU\s?(?P<gpu>\d+):\s*(?P<result>Pass|Fail|Skip|Warn)")
_GPU_IN_TEXT = re.compile(r"\bGPU\s?(?P<gpu>\d+)\b")
_MESSAGE_ROWS = {"info", "warning", "error"}
_BORDER = re.compile(r"^[+|][-=+|\s]*$")
_STATUS = re.compile(r"^Successfully ran diagnostic for group\.?$")


@dataclass(frozen=True)
class DcgmMessage:
    """An Info or Warning row DCGM printed under a test, re-joined, with the GPU it names."""

    kind: str
    text: str
    gpu: int | None


@dataclass(frozen=True)
class DcgmTest:
    """One diagnostic: its category, overall result, per-GPU results and messages."""

    name: str
    category: str
    result: str
    scope: str | None = None
    gpu_results: dict[int, str] = field(default_factory=dict)
    messages: tuple[DcgmMessage, ...] = ()

    def gpus_with(self, result: str) -> tuple[int, ...]:
        """GPUs that had `result`, read from per-GPU rows, the scope (`GPUs: 0, 1`) or messages."""
        from_rows = sorted(g for g, r in self.gpu_results.items() if r == result)
        if from_rows or result != self.result:
            return tuple(from_rows)
        scope = self.scope or ""
        if scope.startswith("GPU"):
            return tuple(int(n) for n in re.findall(r"\d+", scope))
        return tuple(sorted({m.gpu for m in self.messages if m.gpu is not None}))


@dataclass(frozen=True)
class DcgmDiag:
    """All tests of one `dcgmi diag` run plus its metadata block (DCGM and driver versions)."""

    tests: tuple[DcgmTest, ...]
    metadata: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    unplaced: tuple[str, ...] = ()


@dataclass
class _Draft:
    name: str
    category: str
    result: str
    scope: str | None
    gpu_results: dict[int, str] = field(default_factory=dict)
    messages: list[tuple[str, list[str]]] = field(default_factory=list)
    open_message: bool = False
    width: int = 0

    def freeze(self) -> DcgmTest:
        messages = []
        for kind, pieces in self.messages:
            # DCGM cuts long text into fixed-width pieces; pad each back so cut spaces return.
            joined = "".join(p.ljust(self.width) for p in pieces[:-1]) + pieces[-1]
            text = " ".join(joined.split())
            gpu = _GPU_IN_TEXT.match(text)
            messages.append(DcgmMessage(kind, text, int(gpu.group("gpu")) if gpu else None))
        return DcgmTest(
            self.name, self.category, self.result, self.scope, self.gpu_results, tuple(messages)
        )


def _split_row(line: str) -> tuple[str, str, int] | None:
    """Split `| name | text |` into name, text and the width DCGM wraps that text at."""
    body = line.strip()
    if not (body.startswith("|") and body.endswith("|")) or body.count("|") < 3:
        return None
    name, _, rest = body[1:-1].partition("|")
    text = rest[1:] if rest.startswith(" ") else rest
    return name.strip(), text.rstrip(), max(len(rest) - 3, 1)


def _normal_result(result: str) -> str:
    return "Warn" if result.startswith("Warn") else result


def parse_dcgmi_diag(text: str) -> DcgmDiag:
    """Read a `dcgmi diag` table into tests with results; unknown rows become parse warnings."""
    category = ""
    drafts: list[_Draft] = []
    metadata: dict[str, str] = {}
    warnings: list[str] = []
    lost: list[str] = []
    for number_, line in enumerate(lines_of(text), start=1):
        section = _SECTION.match(line.strip())
        if section:
            category = section.group("name")
            continue
        row = _split_row(line)
        if row is None:
            stripped = line.strip()
            if stripped and not _BORDER.match(stripped) and not _STATUS.match(stripped):
                lost.append(unplaced(number_, line))
            continue
        name, cell, width = row
        current = drafts[-1] if drafts else None
        if name == "Diagnostic" and cell.strip() == "Result":
            continue
        if category == "Metadata" and name:
            metadata[name] = cell.strip()
            continue
        if name.lower() in _MESSAGE_ROWS and current is not None:
            current.messages.append((name, [cell]))
            current.open_message = True
            current.width = width
            continue
        if not name:
            per_gpu = _GPU_RESULT.match(cell.strip())
            if per_gpu and current is not None:
                current.gpu_results[int(per_gpu.group("gpu"))] = per_gpu.group("result")
                current.open_message = False
            elif current is not None and current.open_message:
                current.messages[-1][1].append(cell)
            elif cell.strip():
                warnings.append(f"line {number_}: continuation row with nothing above it")
            continue
        result = _RESULT.match(cell.strip())
        if result is None:
            warnings.append(f"line {number_}: test {name!r} has no Pass/Fail/Skip/Warn result")
            continue
        drafts.append(
            _Draft(name, category, _normal_result(result.group("result")), result.group("scope"))
        )
    if not drafts:
        warnings.append("no diagnostic results found")
    return DcgmDiag(tuple(d.freeze() for d in drafts), metadata, tuple(warnings), tuple(lost))
