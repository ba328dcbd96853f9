"""Compact notations accepted in a spec and their normalised forms.

`H100:8` -> model H100, 8 GPUs; `25%` -> a fraction of a pool; `400G` -> 400 Gb/s;
`aws/us-east-1` -> provider and location. Each parser raises ValueError with the accepted forms.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any, Literal

Provider = Literal["aws", "azure", "gcp", "vsphere", "onprem", "local"]
PROVIDERS: tuple[Provider, ...] = ("aws", "azure", "gcp", "vsphere", "onprem", "local")
_LOCATIONLESS = ("onprem", "local")
_LOCATION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_GPU_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9 ._-]*?)\s*(?:[:x*]\s*(\d+))?\s*$")
_SPEED_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([GgTt])?(?:b(?:ps|/s)?|B)?\s*$")
_NAME_RE = re.compile(r"^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$")


@dataclass(frozen=True)
class TargetRef:
    """Where a cluster (or one pool of it) runs: a provider and a region/datacenter."""

    provider: Provider
    location: str = ""

    def __str__(self) -> str:
        return f"{self.provider}/{self.location}" if self.location else self.provider

    @property
    def slug(self) -> str:
        """A filesystem- and identifier-safe name, used for one render root per target."""
        return str(self).replace("/", "-")


def parse_target(text: str) -> TargetRef:
    """Parse `aws/us-east-1`, `vsphere/dc1`, `onprem` or `local`."""
    raw = str(text).strip()
    provider, _, location = raw.partition("/")
    provider = provider.lower()
    if provider not in PROVIDERS:
        raise ValueError(
            f"unknown target {raw!r}; use one of aws/<region>, azure/<region>, gcp/<region>, "
            "vsphere/<datacenter>, onprem, local"
        )
    if provider in _LOCATIONLESS and location:
        raise ValueError(f"target {provider!r} takes no location (got {raw!r})")
    if provider not in _LOCATIONLESS and not location:
        raise ValueError(f"target {provider!r} needs a location, e.g. {provider}/<region>")
    if location and not _LOCATION_RE.match(location):
        raise ValueError(
            f"target location {location!r} is not a region or datacenter name; "
            f"use letters, digits, _ . and - only, e.g. {provider}/us-east-1"
        )
    return TargetRef(provider, location)


def parse_gpu(text: str) -> tuple[str, int]:
    """Parse `H100:8` (also `H100x8`, `H100*8`, `H100`) into a model and a GPU count (1)."""
    match = _GPU_RE.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a GPU request; write MODEL:COUNT, e.g. H100:8")
    count = int(match.group(2)) if match.group(2) else 1
    return match.group(1).strip(), count


def parse_speed_gbps(text: str | int | float) -> float:
    """Parse a link speed (`400G`, `400Gbps`, `1.6T`, `200`) into Gb/s."""
    if isinstance(text, int | float):
        return float(text)
    match = _SPEED_RE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a link speed; write e.g. 400G, 200Gbps or 1.6T")
    value = float(match.group(1))
    return value * 1000 if (match.group(2) or "").upper() == "T" else value


def parse_batch(text: str | int | float) -> int | float:
    """Parse a batch size: a node count (`4`) or a fraction of the pool (`25%`, `0.25`)."""
    if isinstance(text, bool):
        raise ValueError("a batch is a node count (4) or a percentage (25%)")
    if isinstance(text, int):
        if text < 1:
            raise ValueError("a batch must hold at least one node")
        return text
    if isinstance(text, float):
        if not 0 < text <= 1:
            raise ValueError("a fractional batch must be above 0 and at most 1")
        return text
    raw = str(text).strip()
    if raw.endswith("%"):
        percent = float(raw[:-1])
        if not 0 < percent <= 100:
            raise ValueError(f"{raw!r}: a percentage must be above 0 and at most 100")
        return percent / 100
    if raw.isdigit() and int(raw) >= 1:
        return int(raw)
    raise ValueError(f"{raw!r} is not a batch size; write a node count (4) or a percentage (25%)")


def command_argv(value: Any) -> Any:
    """Split a command written as one string into its arguments the way a POSIX shell would.

    Only the splitting: the command later runs without a shell, so quotes group words and
    `$`, `;` or backticks stay plain characters of an argument.
    """
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as error:
            raise ValueError(f"{value!r} cannot be split into arguments: {error}") from None
    return value


def check_name(text: str) -> str:
    """Validate a cluster or pool name: lowercase DNS label, because it becomes hostnames."""
    if not _NAME_RE.match(text):
        raise ValueError(
            f"{text!r} is not a valid name; use 1-40 lowercase letters, digits and '-', "
            "starting with a letter and not ending with '-'"
        )
    return text
