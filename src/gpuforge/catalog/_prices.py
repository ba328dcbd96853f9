"""The price snapshot: which CSV files, taken when, from where; and loading a newer one.

The shipped snapshot lives in `data/prices/` (SOURCE.md). A newer snapshot in the same CSV
format replaces one cloud's file; its cloud is told by its header, its date by the caller.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path

from gpuforge.errors import InputError
from gpuforge.files import MIB, read_text

CLOUD_HEADERS: dict[str, tuple[str, ...]] = {
    "aws": (
        "InstanceType",
        "AcceleratorName",
        "AcceleratorCount",
        "vCPUs",
        "MemoryGiB",
        "Price",
        "SpotPrice",
        "Region",
        "AvailabilityZone",
    ),
    "azure": (
        "InstanceType",
        "AcceleratorName",
        "AcceleratorCount",
        "vCPUs",
        "MemoryGiB",
        "Price",
        "SpotPrice",
        "Region",
        "Generation",
    ),
    "gcp": (
        "InstanceType",
        "vCPUs",
        "MemoryGiB",
        "AcceleratorName",
        "AcceleratorCount",
        "Region",
        "AvailabilityZone",
        "Price",
        "SpotPrice",
    ),
}
_NUMERIC = ("AcceleratorCount", "vCPUs", "MemoryGiB", "Price", "SpotPrice")
_TAKEN = re.compile(r"Snapshot taken on (\d{4}-\d{2}-\d{2})")
MAX_PRICE_BYTES = 64 * MIB
ATTRIBUTION = "SkyPilot catalog (github.com/skypilot-org/skypilot-catalog), public list prices"


@dataclass(frozen=True)
class PriceSnapshot:
    """Where each cloud's prices come from: the snapshot date and attribution per cloud."""

    taken: dict[str, date]
    attribution: dict[str, str]
    rows: dict[str, list[dict[str, str]]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def date(self) -> date:
        """The oldest date among the clouds' files: what a report must admit to."""
        return min(self.taken.values())

    def describe(self) -> str:
        """One line for every report: date(s) and attribution."""
        dates = sorted({d.isoformat() for d in self.taken.values()})
        sources = sorted(set(self.attribution.values()))
        return f"prices: snapshot {', '.join(dates)}; source: {'; '.join(sources)}"

    def to_data(self) -> dict[str, object]:
        """Plain data for JSON reports and the lock."""
        return {
            cloud: {"date": self.taken[cloud].isoformat(), "source": self.attribution[cloud]}
            for cloud in sorted(self.taken)
        }

    def cloud_rows(self, cloud: str) -> list[dict[str, str]]:
        """The CSV rows of one cloud (the shipped file unless a newer one was loaded)."""
        if cloud not in self.rows:
            path = resources.files("gpuforge.catalog").joinpath(
                "data", "prices", f"{cloud}_gpu_vms.csv"
            )
            self.rows[cloud] = parse_price_csv(path.read_text("utf-8"), f"{cloud}_gpu_vms.csv")[1]
        return self.rows[cloud]


def shipped_snapshot() -> PriceSnapshot:
    """The snapshot shipped in the package, dated by its SOURCE.md."""
    text = resources.files("gpuforge.catalog").joinpath("data", "prices", "SOURCE.md")
    found = _TAKEN.search(text.read_text("utf-8"))
    taken = date.fromisoformat(found.group(1)) if found else date(1970, 1, 1)
    return PriceSnapshot(
        taken={cloud: taken for cloud in CLOUD_HEADERS},
        attribution={cloud: ATTRIBUTION for cloud in CLOUD_HEADERS},
    )


def parse_price_csv(text: str, name: str) -> tuple[str, list[dict[str, str]]]:
    """Parse one cloud's price CSV; returns (cloud, rows). InputError names file, line, column."""
    reader = csv.reader(io.StringIO(text))
    header = tuple(next(reader, ()))
    cloud = next((c for c, cols in CLOUD_HEADERS.items() if cols == header), None)
    if cloud is None:
        expected = "; ".join(f"{c}: {','.join(cols)}" for c, cols in CLOUD_HEADERS.items())
        raise InputError(
            f"{name}:1: header {','.join(header) or '(empty)'} is not a price snapshot header",
            f"use the SkyPilot catalog column order of one cloud ({expected})",
        )
    rows: list[dict[str, str]] = []
    for number, values in enumerate(reader, start=2):
        if not values:
            continue
        if len(values) != len(header):
            raise InputError(
                f"{name}:{number}: {len(values)} fields, the header has {len(header)}",
                "give every row one value per column (empty where unknown)",
            )
        row = dict(zip(header, values, strict=True))
        for column in _NUMERIC:
            value = row[column].strip()
            if value and not _is_number(value):
                raise InputError(
                    f"{name}:{number}: column {column} is {value!r}, not a number",
                    f"write {column} as a decimal number, or leave it empty",
                )
        rows.append(row)
    return cloud, rows


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def load_price_file(snapshot: PriceSnapshot, path: Path, taken: date | None) -> PriceSnapshot:
    """A snapshot with one cloud's prices replaced by a CSV file (cloud told by its header)."""
    text = read_text(path, max_bytes=MAX_PRICE_BYTES, fix="give one cloud's price snapshot CSV")
    cloud, rows = parse_price_csv(text, str(path))
    when = taken or date.fromtimestamp(path.stat().st_mtime)
    return PriceSnapshot(
        taken={**snapshot.taken, cloud: when},
        attribution={**snapshot.attribution, cloud: f"{path.name} (loaded from {path})"},
        rows={**snapshot.rows, cloud: rows},
    )
