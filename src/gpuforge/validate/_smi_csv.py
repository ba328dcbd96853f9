"""Parser for `nvidia-smi --query-gpu=... --format=csv[,noheader][,nounits]`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gpuforge.validate._gpu import GpuFacts, compute_mode_name, enabled, throttle_names
from gpuforge.validate._layout import QUERY_GPU_FIELDS
from gpuforge.validate._text import integer, lines_of, number, unplaced, value

_HEADER_CELL = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*( \[[^\]]*\])?$")
_UNIT_SUFFIX = re.compile(r"\s*\[[^\]]*\]$")
# Fields renamed across driver releases: the name to read -> the names it may be printed as.
_ALIASES: dict[str, tuple[str, ...]] = {
    "clocks_throttle_reasons.active": (
        "clocks_throttle_reasons.active",
        "clocks_event_reasons.active",
    ),
}
_WELL_KNOWN = {"index", "name", "uuid", "serial", "count", "pstate", "timestamp"}


@dataclass(frozen=True)
class QueryGpuCsv:
    """The rows of a query-gpu CSV as {field: cell or None}, with the fields in column order."""

    fields: tuple[str, ...]
    rows: tuple[dict[str, str | None], ...]
    warnings: tuple[str, ...] = ()
    unplaced: tuple[str, ...] = ()

    def cell(self, row: dict[str, str | None], name: str) -> str | None:
        """Return the cell of `name` in `row`, also under the names older or newer drivers use."""
        for candidate in _ALIASES.get(name, (name,)):
            if candidate in row:
                return row[candidate]
        return None


def _is_header(cells: list[str]) -> bool:
    names = [_UNIT_SUFFIX.sub("", c) for c in cells]
    if not all(_HEADER_CELL.match(c) for c in cells):
        return False
    return any("." in n or "_" in n or n in _WELL_KNOWN for n in names)


def parse_query_gpu_csv(text: str, fields: tuple[str, ...] = QUERY_GPU_FIELDS) -> QueryGpuCsv:
    """Read query-gpu CSV; a header row names the columns, otherwise `fields` (the query) does."""
    warnings: list[str] = []
    rows: list[dict[str, str | None]] = []
    lost: list[str] = []
    columns = fields
    header_seen = False
    for number_, line in enumerate(lines_of(text), start=1):
        if not line.strip():
            continue
        cells = [c.strip() for c in line.split(",")]
        # The header comes before any row; a lone cell heads only a one-field query of it.
        names = tuple(_UNIT_SUFFIX.sub("", c) for c in cells)
        lone_ok = len(cells) > 1 or names == fields
        if not rows and not header_seen and lone_ok and _is_header(cells):
            header_seen = True
            columns = names
            continue
        if len(cells) != len(columns):
            warnings.append(
                f"line {number_}: {len(cells)} cells where {len(columns)} columns were expected;"
                " row skipped"
            )
            lost.append(unplaced(number_, line))
            continue
        rows.append({name: value(cell) for name, cell in zip(columns, cells, strict=True)})
    return QueryGpuCsv(columns, tuple(rows), tuple(warnings), tuple(lost))


def _gpu_from_row(table: QueryGpuCsv, row: dict[str, str | None], position: int) -> GpuFacts:
    def get(name: str) -> str | None:
        return table.cell(row, name)

    index = integer(get("index"))
    memory = number(get("memory.total"))
    return GpuFacts(
        index=position if index is None else index,
        name=get("name"),
        uuid=get("uuid"),
        bus_id=get("pci.bus_id"),
        driver=get("driver_version"),
        memory_mib=None if memory is None else int(memory),
        persistence=enabled(get("persistence_mode")),
        compute_mode=compute_mode_name(get("compute_mode")),
        power_limit_w=number(get("power.limit")),
        power_default_w=number(get("power.default_limit")),
        power_min_w=number(get("power.min_limit")),
        power_max_w=number(get("power.max_limit")),
        ecc_uncorrected_volatile=integer(get("ecc.errors.uncorrected.volatile.total")),
        ecc_corrected_volatile=integer(get("ecc.errors.corrected.volatile.total")),
        remap_pending=enabled(get("remapped_rows.pending")),
        throttle_reasons=throttle_names(integer(get("clocks_throttle_reasons.active"))),
        mig_mode=enabled(get("mig.mode.current")),
        temperature_c=number(get("temperature.gpu")),
    )


def gpus_from_csv(table: QueryGpuCsv) -> list[GpuFacts]:
    """Turn query-gpu rows into `GpuFacts`; the row order stands in for a missing `index` column."""
    return [_gpu_from_row(table, row, position) for position, row in enumerate(table.rows)]
