"""Parsers for `ibstat` and `ibv_devinfo [-v|-vv]`: host channel adapters (HCAs) and their ports.

`ibv_devinfo -v` gives the rate as active_width x active_speed and the physical state, written
here in ibstat's words; `ibpanic:`/`ibwarn:` lines and any other line neither parser can place
are returned quoted in `unplaced`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gpuforge.validate._text import integer, lines_of, number, unplaced

_CA = re.compile(r"^CA '(?P<name>[^']+)'")
_PORT = re.compile(r"^Port (?P<port>\d+):")
_FIELD = re.compile(r"^(?P<key>[^:]+):\s*(?P<value>.*)$")
_HCA_ID = re.compile(r"^hca_id:\s*(?P<name>\S+)")
_DEV_PORT = re.compile(r"^port:\s*(?P<port>\d+)")
_TOOL_MESSAGE = re.compile(r"^ib(?:panic|warn|error):", re.IGNORECASE)
# `ibv_devinfo -v` lists capability flags one per line under their hex field.
_FLAG = re.compile(r"^[A-Z][A-Z0-9_]*(?:\s*\(\d+\))?$")
_NOT_SUPPORTED = re.compile(r"\bnot supported$")
_WIDTH = re.compile(r"^(?P<lanes>\d+)X\b")
# ibv_devinfo's physical states (IB spec PortPhysicalState) in ibstat's spelling.
_PHYS_STATE = {
    "SLEEP": "Sleep",
    "POLLING": "Polling",
    "DISABLED": "Disabled",
    "PORT_CONFIGURATION_TRAINING": "PortConfigurationTraining",
    "LINK_UP": "LinkUp",
    "LINK_ERROR_RECOVERY": "LinkErrorRecovery",
    "PHY_TEST": "PhyTest",
}
_PORT_STATE = {
    "PORT_ACTIVE": "Active",
    "PORT_DOWN": "Down",
    "PORT_INIT": "Initializing",
    "PORT_ARMED": "Armed",
    "PORT_ACTIVE_DEFER": "Active",
}


@dataclass(frozen=True)
class HcaPort:
    """One HCA port: logical state, physical state, rate in Gb/s and link layer."""

    number: int
    state: str | None = None
    physical_state: str | None = None
    rate_gbps: float | None = None
    link_layer: str | None = None


@dataclass(frozen=True)
class Hca:
    """One host channel adapter (`mlx5_0`) with its type, firmware and ports."""

    name: str
    ca_type: str | None = None
    firmware: str | None = None
    ports: tuple[HcaPort, ...] = ()


@dataclass(frozen=True)
class Hcas:
    """Every HCA a tool listed."""

    hcas: tuple[Hca, ...]
    warnings: tuple[str, ...] = ()
    unplaced: tuple[str, ...] = ()


def _port(number_: int, fields: dict[str, str]) -> HcaPort:
    return HcaPort(
        number_,
        fields.get("state"),
        fields.get("physical state"),
        number(fields.get("rate")),
        fields.get("link layer"),
    )


def parse_ibstat(text: str) -> Hcas:
    """Read `ibstat` output (one `CA '<name>'` block per adapter, tab-indented ports)."""
    hcas: list[Hca] = []
    current: dict[str, str] = {}
    name: str | None = None
    ports: list[HcaPort] = []
    port_no: int | None = None
    port_fields: dict[str, str] = {}
    lost: list[str] = []

    def close_port() -> None:
        if port_no is not None:
            ports.append(_port(port_no, port_fields))

    def close_ca() -> None:
        close_port()
        if name is not None:
            hcas.append(
                Hca(name, current.get("ca type"), current.get("firmware version"), tuple(ports))
            )

    for number_, line in enumerate(lines_of(text), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        ca = _CA.match(stripped)
        if ca:
            close_ca()
            name, current, ports, port_no, port_fields = ca.group("name"), {}, [], None, {}
            continue
        port = _PORT.match(stripped)
        if port and name is not None:
            close_port()
            port_no, port_fields = int(port.group("port")), {}
            continue
        field = _FIELD.match(stripped)
        if field and name is not None and not _TOOL_MESSAGE.match(stripped):
            target = port_fields if port_no is not None else current
            target[field.group("key").strip().lower()] = field.group("value").strip()
            continue
        lost.append(unplaced(number_, line))
    close_ca()
    return Hcas(tuple(hcas), () if hcas else ("no CA '<name>' block found",), tuple(lost))


def _rate(fields: dict[str, str]) -> float | None:
    """active_width x active_speed (`4X (2)` x `25.0 Gbps (32)` = 100), when -v printed them."""
    width = _WIDTH.match(fields.get("active_width", ""))
    speed = number(fields.get("active_speed"))
    return int(width.group("lanes")) * speed if width and speed is not None else None


def parse_ibv_devinfo(text: str) -> Hcas:
    """Read `ibv_devinfo` output; with `-v`/`-vv` also the rate and the physical state."""
    hcas: list[Hca] = []
    name: str | None = None
    current: dict[str, str] = {}
    ports: list[HcaPort] = []
    port_no: int | None = None
    port_fields: dict[str, str] = {}
    lost: list[str] = []

    def close_port() -> None:
        if port_no is not None:
            state = port_fields.get("state", "").split(" ")[0]
            physical = port_fields.get("phys_state", "").split(" ")[0]
            ports.append(
                HcaPort(
                    port_no,
                    _PORT_STATE.get(state, state or None),
                    _PHYS_STATE.get(physical, physical or None),
                    _rate(port_fields),
                    port_fields.get("link_layer"),
                )
            )

    def close_hca() -> None:
        close_port()
        if name is not None:
            hcas.append(
                Hca(name, current.get("vendor_part_id"), current.get("fw_ver"), tuple(ports))
            )

    for number_, line in enumerate(lines_of(text), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        hca = _HCA_ID.match(stripped)
        if hca:
            close_hca()
            name, current, ports, port_no, port_fields = hca.group("name"), {}, [], None, {}
            continue
        port = _DEV_PORT.match(stripped)
        if port and name is not None:
            close_port()
            port_no, port_fields = integer(port.group("port")), {}
            continue
        field = _FIELD.match(stripped)
        if field and name is not None:
            target = port_fields if port_no is not None else current
            target[field.group("key").strip()] = field.group("value").strip()
            continue
        if name is None or not (_FLAG.match(stripped) or _NOT_SUPPORTED.search(stripped)):
            lost.append(unplaced(number_, line))
    close_hca()
    return Hcas(tuple(hcas), () if hcas else ("no 'hca_id:' block found",), tuple(lost))
