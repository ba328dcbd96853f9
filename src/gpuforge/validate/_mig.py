"""Parsers for `nvidia-smi mig -lgi` (GPU instances) and `nvidia-smi mig -lgip` (profiles).

Lines outside the boxed table (other than "No MIG-enabled devices found") are returned quoted in
`unplaced`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gpuforge.validate._text import lines_of, unplaced

_INSTANCE_ROW = re.compile(
    r"^\|\s*(?P<gpu>\d+)\s+MIG\s+(?P<profile>\S+)\s+(?P<pid>\d+)\s+(?P<iid>\d+)\s+"
    r"(?P<start>\d+):(?P<size>\d+)\s*\|$"
)
_PROFILE_ROW = re.compile(
    r"^\|\s*(?P<gpu>\d+)\s+MIG\s+(?P<profile>\S+)\s+(?P<pid>\d+)\s+(?P<free>\d+)/(?P<total>\d+)\s+"
    r"(?P<mem>[\d.]+)\s+(?P<p2p>\S+)\s+(?P<sm>\d+)\s+(?P<dec>\d+)\s+(?P<enc>\d+)\s*\|$"
)
_NO_MIG = ("No MIG-enabled devices found", "No GPU instances found")


@dataclass(frozen=True)
class MigInstance:
    """One GPU instance: its GPU, profile (`1g.10gb`), profile id, instance id and placement."""

    gpu: int
    profile: str
    profile_id: int
    instance_id: int
    placement_start: int
    placement_size: int


@dataclass(frozen=True)
class MigInstances:
    """The GPU instances `mig -lgi` listed; empty when MIG is off or nothing was created."""

    instances: tuple[MigInstance, ...]
    warnings: tuple[str, ...] = ()
    unplaced: tuple[str, ...] = ()

    def layout(self, gpu: int) -> dict[str, int]:
        """Count of instances per profile on one GPU, e.g. {"3g.40gb": 2}."""
        counts: dict[str, int] = {}
        for instance in self.instances:
            if instance.gpu == gpu:
                counts[instance.profile] = counts.get(instance.profile, 0) + 1
        return counts


@dataclass(frozen=True)
class MigProfile:
    """One row of `mig -lgip`: a profile a GPU offers, how many are free, and its resources."""

    gpu: int
    profile: str
    profile_id: int
    free: int
    total: int
    memory_gib: float
    sm: int


@dataclass(frozen=True)
class MigProfiles:
    """The GPU instance profiles `mig -lgip` listed."""

    profiles: tuple[MigProfile, ...]
    warnings: tuple[str, ...] = ()
    unplaced: tuple[str, ...] = ()


def _rows(text: str) -> list[str]:
    return [line.strip() for line in lines_of(text) if line.strip().startswith("|")]


def _outside(text: str) -> tuple[str, ...]:
    """Lines that are neither part of the box nor nvidia-smi's "no MIG" notes."""
    return tuple(
        unplaced(number_, line)
        for number_, line in enumerate(lines_of(text), start=1)
        if line.strip()
        and not line.strip().startswith(("|", "+"))
        and not any(marker in line for marker in _NO_MIG)
    )


def _unread(text: str, rows: int, kind: str) -> tuple[str, ...]:
    if rows or any(marker in text for marker in _NO_MIG) or not text.strip():
        return ()
    return (f"no {kind} rows found",)


def parse_mig_instances(text: str) -> MigInstances:
    """Read `nvidia-smi mig -lgi`; 'No MIG-enabled devices found' reads as no instances."""
    found = [
        MigInstance(
            int(m.group("gpu")),
            m.group("profile"),
            int(m.group("pid")),
            int(m.group("iid")),
            int(m.group("start")),
            int(m.group("size")),
        )
        for line in _rows(text)
        if (m := _INSTANCE_ROW.match(line))
    ]
    return MigInstances(tuple(found), _unread(text, len(found), "GPU instance"), _outside(text))


def parse_mig_profiles(text: str) -> MigProfiles:
    """Read `nvidia-smi mig -lgip`, one entry per GPU and profile."""
    found = [
        MigProfile(
            int(m.group("gpu")),
            m.group("profile"),
            int(m.group("pid")),
            int(m.group("free")),
            int(m.group("total")),
            float(m.group("mem")),
            int(m.group("sm")),
        )
        for line in _rows(text)
        if (m := _PROFILE_ROW.match(line))
    ]
    return MigProfiles(
        tuple(found), _unread(text, len(found), "GPU instance profile"), _outside(text)
    )
