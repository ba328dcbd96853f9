# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Parse `nvidia-smi mig -lgip` / `-lgi` tables and plan the MIG changes that reach a desired
layout (profile name -> instance count per GPU), mig-parted style."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

_LGIP_ROW = re.compile(
    r"^\|\s*(?P<gpu>\d+)\s+MIG\s+(?P<name>\S+)\s+(?P<id>\d+)\s+(?P<free>\d+)/(?P<total>\d+)\s+(?P<mem>[\d.]+)\s"
)
_LGI_ROW = re.compile(
    r"^\|\s*(?P<gpu>\d+)\s+MIG\s+(?P<name>\S+)\s+(?P<profile>\d+)\s+(?P<instance>\d+)\s+(?P<start>\d+):(?P<size>\d+)\s*\|"
)
_NO_INSTANCES = re.compile(r"No GPU instances? (found|exist)", re.IGNORECASE)

# Named layouts: slice class -> count; resolved per GPU against the profiles it offers.
LAYOUTS = {
    "all-1g": {"1g": 7},
    "all-2g": {"2g": 3},
    "all-3g": {"3g": 2},
    "all-4g": {"4g": 1},
    "all-7g": {"7g": 1},
    "all-balanced": {"1g": 2, "2g": 1, "3g": 1},
}


@dataclass(frozen=True)
class Profile:
    """One GPU instance profile a GPU offers (from `nvidia-smi mig -lgip`)."""

    name: str
    profile_id: int
    free: int
    total: int
    memory_gib: float


@dataclass(frozen=True)
class Instance:
    """One existing GPU instance (from `nvidia-smi mig -lgi`)."""

    gpu: int
    name: str
    profile_id: int
    instance_id: int
    start: int
    size: int


@dataclass
class GpuAction:
    """What one GPU needs: drop all its instances, then create these profile ids in order."""

    gpu: int
    destroy: bool
    create: list[int] = field(default_factory=list)


def profile_name(text: str) -> str:
    """Normalise a profile name: `MIG 1g.10gb` and `1G.10GB` both become `1g.10gb`."""
    name = text.strip()
    if name.upper().startswith("MIG "):
        name = name[4:]
    return name.strip().lower()


def parse_lgip(text: str) -> dict[int, dict[str, Profile]]:
    """Parse `nvidia-smi mig -lgip` into GPU index -> profile name -> Profile."""
    table: dict[int, dict[str, Profile]] = {}
    for line in text.splitlines():
        match = _LGIP_ROW.match(line)
        if match:
            name = profile_name(match["name"])
            table.setdefault(int(match["gpu"]), {})[name] = Profile(
                name, int(match["id"]), int(match["free"]), int(match["total"]), float(match["mem"])
            )
    return table


def parse_lgi(text: str) -> list[Instance]:
    """Parse `nvidia-smi mig -lgi` into instances; "No GPU instances found" gives an empty list."""
    if _NO_INSTANCES.search(text):
        return []
    return [
        Instance(
            int(m["gpu"]),
            profile_name(m["name"]),
            int(m["profile"]),
            int(m["instance"]),
            int(m["start"]),
            int(m["size"]),
        )
        for m in (_LGI_ROW.match(line) for line in text.splitlines())
        if m
    ]


def resolve_layout(layout: str, profiles: dict[str, Profile]) -> dict[str, int]:
    """Turn a named layout (`all-1g`, `all-balanced`, ...) into profile names this GPU offers.

    Each slice class takes its plain profile with the least memory (`1g.10gb`, not `1g.10gb+me`
    nor `1g.20gb`).
    """
    if layout not in LAYOUTS:
        raise ValueError(
            "unknown MIG layout {!r}; known: {}".format(layout, ", ".join(sorted(LAYOUTS)))
        )
    config: dict[str, int] = {}
    for slice_class, count in LAYOUTS[layout].items():
        plain = [
            p
            for p in profiles.values()
            if p.name.startswith(slice_class + ".") and "+" not in p.name
        ]
        if not plain:
            raise ValueError(f"this GPU has no {slice_class} profile for layout {layout}")
        config[min(plain, key=lambda p: (p.memory_gib, p.profile_id)).name] = count
    return config


def creation_order(config: dict[str, int], profiles: dict[str, Profile]) -> list[int]:
    """Return the profile ids to create for `config`, largest first so placements fit."""
    wanted = {profile_name(name): count for name, count in config.items() if count}
    order = sorted(wanted, key=lambda name: (-profiles[name].memory_gib, profiles[name].profile_id))
    return [profiles[name].profile_id for name in order for _copy in range(wanted[name])]


def plan_gpu(
    gpu: int, config: dict[str, int], profiles: dict[str, Profile], existing: list[Instance]
) -> GpuAction:
    """Plan one GPU: leave it when its instances already match `config`, else destroy and recreate.

    Raises ValueError when `config` names a profile the GPU lacks or asks for more than it holds.
    """
    wanted = Counter({profile_name(name): count for name, count in config.items() if count})
    for name, count in wanted.items():
        if name not in profiles:
            raise ValueError(
                f"GPU {gpu:d} has no MIG profile {name} (it has: {', '.join(sorted(profiles))})"
            )
        if count > profiles[name].total:
            raise ValueError(
                f"GPU {gpu:d} holds at most {profiles[name].total:d} x {name}, {count:d} asked"
            )
    current = Counter(instance.name for instance in existing if instance.gpu == gpu)
    if current == wanted:
        return GpuAction(gpu, destroy=False)
    return GpuAction(gpu, destroy=bool(current), create=creation_order(config, profiles))


def create_command(action: GpuAction) -> list[str]:
    """The nvidia-smi arguments that create the GPU and default compute instances of `action`."""
    return ["mig", "-i", str(action.gpu), "-cgi", ",".join(str(pid) for pid in action.create), "-C"]
