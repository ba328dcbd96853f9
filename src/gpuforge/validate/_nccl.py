"""Parser for nccl-tests output (`all_reduce_perf` and friends), old and new formats.

Copes with MPI `--tag-output` prefixes (`[1,0]<stdout>:`), NCCL INFO lines interleaved with the
table, rows clobbered by other ranks' output (skipped with a warning), the old table with a float
`error` column and no `root` column, and a missing `Avg bus bandwidth` line (recomputed). A failed
run keeps its cause (`Test CUDA failure ... 'CUDA-capable device(s) is/are busy or unavailable'`);
lines that are none of these are returned quoted in `unplaced`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gpuforge.validate._text import lines_of, unplaced

_TAG = re.compile(r"^\[\d+,\d+\]<std(?:out|err)>:")
_RANK = re.compile(
    r"^#\s+Rank\s+(?P<rank>\d+)\s+(?:Group\s+\d+\s+)?Pid\s+(?P<pid>\d+)\s+on\s+(?P<host>\S+)\s+"
    r"device\s+(?P<device>\d+)\s+\[(?P<bus>[^\]]+)\]\s+(?P<gpu>.+?)\s*$"
)
_OOB = re.compile(r"^#\s*Out of bounds values\s*:\s*(?P<count>\d+)\s*(?P<verdict>\S*)")
_AVG = re.compile(r"^#\s*Avg bus bandwidth\s*:\s*(?P<value>[\d.eE+-]+)")
_NCCL_VERSION = re.compile(r"NCCL version (?P<version>\S+)")
_TESTS_VERSION = re.compile(r"^#\s*nccl-tests version (?P<version>\S+)")
_HEADER = re.compile(r"^#\s+size\s+count\s+type\s+redop")
# nccl-tests' failure lines: `host pid N: Test [CUDA |NCCL ]failure file.cu:LINE 'cause'`.
_FAILURE = re.compile(r"Test (?:CUDA |NCCL |NVML )?failure")
# Lines a run prints that carry nothing the facts need: NCCL's own log and the launcher's noise.
_NOISE = re.compile(r"NCCL (?:INFO|WARN)|^\*\*\*|^-+$|^={3,}", re.IGNORECASE)


@dataclass(frozen=True)
class NcclRank:
    """One rank of the run: host, local device, PCI bus and GPU name."""

    rank: int
    host: str
    device: int
    bus: str
    gpu: str


@dataclass(frozen=True)
class NcclRow:
    """One message size: out-of-place and in-place bus bandwidth (GB/s) and wrong-element counts.

    `wrong_*` is None for the old format, which printed a max `error` instead of a count.
    """

    size_bytes: int
    dtype: str
    busbw_out: float
    busbw_in: float
    wrong_out: int | None
    wrong_in: int | None


@dataclass(frozen=True)
class NcclResult:
    """A whole nccl-tests run: ranks, rows, the summary lines and any failure lines."""

    rows: tuple[NcclRow, ...]
    ranks: tuple[NcclRank, ...] = ()
    avg_busbw_gbps: float | None = None
    out_of_bounds: int | None = None
    nccl_version: str | None = None
    tests_version: str | None = None
    failures: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    unplaced: tuple[str, ...] = ()

    @property
    def wrong(self) -> int:
        """Total of the `#wrong` columns over all rows (0 when the format has no such column)."""
        return sum((r.wrong_out or 0) + (r.wrong_in or 0) for r in self.rows)

    @property
    def peak_busbw_gbps(self) -> float | None:
        """The highest bus bandwidth any row reached."""
        return max((max(r.busbw_out, r.busbw_in) for r in self.rows), default=None)

    @property
    def hosts(self) -> tuple[str, ...]:
        """The hosts that took part, in rank order, each once."""
        return tuple(dict.fromkeys(r.host for r in sorted(self.ranks, key=lambda r: r.rank)))


def _columns(header: str) -> list[str]:
    return header.lstrip("#").split()


def _row(cells: list[str], columns: list[str]) -> NcclRow | None:
    if len(cells) != len(columns) or not cells[0].isdigit():
        return None
    try:
        busbw = [float(cells[i]) for i, c in enumerate(columns) if c == "busbw"]
        checks = [cells[i] for i, c in enumerate(columns) if c in {"#wrong", "error"}]
        counted = "#wrong" in columns
        wrong = [int(c) if counted else None for c in checks]
    except ValueError:
        return None
    if len(busbw) != 2 or len(wrong) != 2:
        return None
    return NcclRow(
        int(cells[0]), cells[columns.index("type")], busbw[0], busbw[1], wrong[0], wrong[1]
    )


def parse_nccl_tests(text: str) -> NcclResult:
    """Read an nccl-tests log into rows and summary; never raises, reports what it skipped."""
    rows: list[NcclRow] = []
    ranks: list[NcclRank] = []
    warnings: list[str] = []
    failures: list[str] = []
    columns: list[str] = []
    lost: list[str] = []
    avg = oob = nccl = tests = None
    for number_, raw in enumerate(lines_of(text), start=1):
        line = _TAG.sub("", raw).rstrip()
        stripped = line.strip()
        if not stripped:
            continue
        if (m := _RANK.match(stripped)) is not None:
            ranks.append(NcclRank(int(m["rank"]), m["host"], int(m["device"]), m["bus"], m["gpu"]))
        elif _HEADER.match(stripped):
            columns = _columns(stripped)
        elif (m := _OOB.match(stripped)) is not None:
            oob = int(m["count"])
        elif (m := _AVG.match(stripped)) is not None:
            avg = float(m["value"])
        elif (m := _TESTS_VERSION.match(stripped)) is not None:
            tests = m["version"]
        elif _FAILURE.search(stripped):
            failures.append(stripped.lstrip(". "))
        elif "NCCL INFO" in stripped or stripped.startswith("#"):
            continue
        elif (m := _NCCL_VERSION.search(stripped)) is not None:
            nccl = m["version"]
        elif columns and stripped[0].isdigit():
            row = _row(stripped.split(), columns)
            if row is None:
                warnings.append(
                    f"line {number_}: result row does not fit the table (clobbered?); skipped"
                )
            else:
                rows.append(row)
        elif not _NOISE.search(stripped):
            lost.append(unplaced(number_, raw))
    if avg is None and rows:
        values = [bw for r in rows for bw in (r.busbw_out, r.busbw_in)]
        avg = sum(values) / len(values)
        warnings.append("no 'Avg bus bandwidth' line; average recomputed from the rows")
    if not rows:
        warnings.append("no result rows found")
    return NcclResult(
        tuple(rows),
        tuple(ranks),
        avg,
        oob,
        nccl,
        tests,
        tuple(failures),
        tuple(warnings),
        tuple(lost),
    )
