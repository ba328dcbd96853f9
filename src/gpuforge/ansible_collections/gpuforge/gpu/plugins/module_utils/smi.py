# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Parsers for nvidia-smi CSV output, shared by the gpuforge.gpu modules."""

from __future__ import annotations

import csv
import re

_UNIT = re.compile(r"\s*\[[^\]]*\]$")
_MISSING = ("[N/A]", "N/A", "[Not Supported]", "Not Supported", "")
_NUMBER = re.compile(r"^(-?[0-9]+(?:\.[0-9]+)?)(?:\s*[A-Za-z%]+)?$")


def field_name(header_cell: str) -> str:
    """Return a query field name without its unit suffix (`power.limit [W]` -> `power.limit`)."""
    return _UNIT.sub("", header_cell.strip())


def parse_csv(text: str) -> list[dict[str, str]]:
    """Parse `nvidia-smi --query-gpu=... --format=csv[,nounits]` output (with header) into rows.

    Keys are field names without units, values are stripped strings as printed.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    reader = csv.reader(lines, skipinitialspace=True)
    header = [field_name(cell) for cell in next(reader)]
    rows = []
    for cells in reader:
        if len(cells) != len(header):
            raise ValueError(
                f"nvidia-smi CSV row has {len(cells):d} cells, header has {len(header):d}: "
                f"{cells!r}"
            )
        rows.append({key: value.strip() for key, value in zip(header, cells)})
    return rows


def number(value: str) -> float | None:
    """The number in a CSV cell (`700.00 W`, `700.00`); None when it is N/A or not numeric."""
    cell = value.strip()
    if cell in _MISSING:
        return None
    match = _NUMBER.match(cell)
    return float(match.group(1)) if match else None


def gpu_selector(selected: list[int], every: list[int]) -> list[str]:
    """Return the `-i` arguments addressing `selected`, or none when it covers every GPU."""
    if sorted(selected) == sorted(every):
        return []
    return ["-i", ",".join(str(index) for index in sorted(selected))]
