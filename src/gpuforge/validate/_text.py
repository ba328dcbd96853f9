"""Text helpers shared by the fact parsers: "not available" cells, numbers with units, PCI ids."""

from __future__ import annotations

import re

_NOT_AVAILABLE = {
    "",
    "n/a",
    "[n/a]",
    "na",
    "[not supported]",
    "not supported",
    "[unknown error]",
    "unknown error",
    "[requested functionality has been deprecated]",
    "requested functionality has been deprecated",
    "[insufficient permissions]",
    "[gpu is lost]",
}
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_BUS_ID = re.compile(
    r"^(?:(?P<domain>[0-9a-fA-F]{1,8}):)?(?P<bus>[0-9a-fA-F]{1,2}):(?P<dev>[0-9a-fA-F]{1,2})"
    r"(?:\.(?P<fn>[0-7]))?$"
)


def value(cell: str | None) -> str | None:
    """Return a cell stripped of blanks, or None when the tool printed N/A or an error marker."""
    if cell is None:
        return None
    text = cell.strip()
    return None if text.lower() in _NOT_AVAILABLE else text


def number(cell: str | None) -> float | None:
    """Read the first number of a cell such as `700.00 W` or `81559 MiB`; None if there is none."""
    text = value(cell)
    if text is None:
        return None
    match = _NUMBER.search(text)
    return float(match.group()) if match else None


def integer(cell: str | None) -> int | None:
    """Read a whole number (`0`, `81920 MiB`, `0x1F` in hex); None when the cell holds none."""
    text = value(cell)
    if text is None:
        return None
    if text.lower().startswith("0x"):
        try:
            return int(text, 16)
        except ValueError:
            return None
    found = number(text)
    return int(found) if found is not None and found == int(found) else None


def version_of(cell: str | None) -> str | None:
    """The version at the start of a cell: `610.57.04 [Deprecated; ...]` (R610) -> `610.57.04`."""
    return cell.split()[0] if cell else None


def strip_ansi(text: str) -> str:
    """Drop terminal escape sequences (nvidia-smi underlines some headers when it sees a TTY)."""
    return _ANSI.sub("", text)


def bus_key(bus_id: str | None) -> str | None:
    """Normalise a PCI id to `dddd:bb:dd`: `00000000:19:00.0` (nvidia-smi) = `0000:19:00` (XID)."""
    text = value(bus_id)
    if text is None:
        return None
    match = _BUS_ID.match(text.strip())
    if match is None:
        return None
    domain = (match.group("domain") or "0").lower()[-4:].rjust(4, "0")
    bus = match.group("bus").lower().rjust(2, "0")
    device = match.group("dev").lower().rjust(2, "0")
    return f"{domain}:{bus}:{device}"


def unplaced(number_: int, line: str) -> str:
    """How a parser reports a line it could not place: its number and its text, quoted."""
    return f"line {number_}: {line.strip()[:200]!r}"


def lines_of(text: str) -> list[str]:
    """Split output into lines without their line endings, tolerating CR/LF from any platform."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
