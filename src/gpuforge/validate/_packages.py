"""Parser for `dpkg-query -W -f '${Package}\\t${Version}\\n'`: installed packages and versions."""

from __future__ import annotations

from dataclasses import dataclass, field

from gpuforge.validate._text import lines_of, unplaced


@dataclass(frozen=True)
class Packages:
    """Installed packages as {name: version}; one listed without a version is not installed."""

    versions: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    unplaced: tuple[str, ...] = ()


def parse_packages(text: str) -> Packages:
    """Read one `name<TAB>version` pair per line; lines of another shape become warnings."""
    versions: dict[str, str] = {}
    warnings: list[str] = []
    lost: list[str] = []
    for number_, line in enumerate(lines_of(text), start=1):
        if not line.strip():
            continue
        name, tab, version = line.partition("\t")
        if not tab or not name.strip() or " " in name.strip():
            warnings.append(f"line {number_}: expected 'name<TAB>version'")
            lost.append(unplaced(number_, line))
            continue
        if version.strip():
            versions[name.strip().split(":")[0]] = version.strip()
    return Packages(versions, tuple(warnings), tuple(lost))
