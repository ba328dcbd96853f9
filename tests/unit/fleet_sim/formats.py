"""Format rules of real GPU node tools, written against the captures in shared/reference.

Each checker raises AssertionError naming the first line that breaks the format. The same
checkers then run on the simulator's output, so the simulator is held to the real layouts.
"""

from __future__ import annotations

import re
from pathlib import Path

CAPTURES = Path(__file__).resolve().parents[4] / "shared" / "reference" / "real-outputs"


def capture(name: str) -> str:
    """A real capture without its first line (the source note)."""
    return (CAPTURES / name).read_text().split("\n", 1)[1]


def captures(folder: str) -> list[str]:
    """Names (folder/file) of every capture in a folder."""
    return sorted(f"{folder}/{p.name}" for p in (CAPTURES / folder).glob("*.txt"))


CSV_CELL = re.compile(r"^(\[N/A\]|\[[A-Za-z ]+\]|[^,]*)$")
UNITS = {"W", "MiB", "MHz", "%", "us"}


def check_csv(text: str, header: bool, units: bool) -> list[list[str]]:
    """`--query-gpu --format=csv[,noheader][,nounits]`: `, `-separated, units as the flags say."""
    lines = [line for line in text.splitlines() if line]
    rows = [line.split(", ") for line in lines]
    width = len(rows[0])
    unit_cols: dict[int, str] = {}
    if header:
        for i, cell in enumerate(rows[0]):
            m = re.fullmatch(r"[A-Za-z0-9_.]+( \[(\S+)\])?", cell)
            assert m, f"bad header cell {cell!r}"
            if m.group(2):
                unit_cols[i] = m.group(2)
        rows = rows[1:]
    for row in rows:
        assert len(row) == width, f"row has {len(row)} cells, header {width}: {row}"
        for i, cell in enumerate(row):
            assert CSV_CELL.match(cell), f"bad cell {cell!r}"
            if cell.startswith("[") or i not in unit_cols:
                continue
            has_unit = cell.endswith(" " + unit_cols[i])
            assert has_unit == units, f"cell {cell!r}: unit expected={units}"
    return rows


TABLE_HEAD = re.compile(r"^\| NVIDIA-SMI (\S+) +Driver Version: (\S+) +CUDA Version: (\S+) +\|$")
GPU_ROW1 = re.compile(
    r"^\| +(\d+)  (.+?) +(On|Off)  \|   ([0-9A-F]{8}:[0-9A-F]{2}:[0-9A-F]{2}\.\d) (On|Off) \|"
    r" +(\S+) \|$"
)
GPU_ROW2 = re.compile(
    r"^\| +(N/A|\d+%) +(\d+)C +P\d+ +(\d+)W / +(\d+)W \| +(\d+)MiB / +(\d+)MiB \|"
    r" +(N/A|\d+%) +(Default|E\. Process|Prohibited) \|$"
)


def check_smi_table(text: str) -> list[dict[str, str]]:
    """Default `nvidia-smi` (R550+ 89-column layout): header, then 3 lines per GPU."""
    lines = text.splitlines()
    heads = [m for m in map(TABLE_HEAD.match, lines) if m]
    assert heads, "no NVIDIA-SMI header line"
    gpus = []
    for i, line in enumerate(lines):
        m = GPU_ROW1.match(line)
        if not m:
            continue
        m2 = GPU_ROW2.match(lines[i + 1])
        assert m2, f"second GPU line breaks the format: {lines[i + 1]!r}"
        assert len(line) == len(lines[i + 1]) == 91, f"width {len(line)}: {line!r}"
        gpus.append(
            {
                "index": m.group(1),
                "name": m.group(2),
                "pm": m.group(3),
                "bus": m.group(4),
                "draw": m2.group(3),
                "cap": m2.group(4),
                "total": m2.group(6),
                "mode": m2.group(8),
            }
        )
    assert gpus, "no GPU rows"
    return gpus


Q_LINE = re.compile(r"^( {4})*(\S.*?) *: (.*)$")


def check_q(text: str) -> dict[str, str]:
    """`nvidia-smi -q`: banner, `key : value` with the colon at column 42, 4-space nesting."""
    lines = text.strip("\n").splitlines()
    assert lines[0].strip() == "==============NVSMI LOG==============", lines[0]
    column = next(line.index(": ") for line in lines if line.startswith("Timestamp"))
    values: dict[str, str] = {}
    for line in lines[1:]:
        if not line.strip() or line.startswith("GPU ") or ":" not in line:
            continue
        if line.strip().startswith(("Atomic Caps", "Driver Model")):
            continue
        m = Q_LINE.match(line)
        assert m, f"bad -q line {line!r}"
        assert line.index(": ") == column, f"colon not at column {column}: {line!r}"
        values.setdefault(m.group(2).strip(), m.group(3))
    return values


def check_topo(text: str) -> list[list[str]]:
    """`nvidia-smi topo -m`: tab-separated matrix, ` X ` diagonal, the legend."""
    lines = text.replace("\x1b[4m", "").replace("\x1b[0m", "").splitlines()
    tabs = "\t" in lines[0]

    def split(line: str) -> list[str]:
        if tabs:
            return line.split("\t")
        return (
            ["", *re.split(r" {2,}", line.strip())]
            if line.startswith(" ")
            else re.split(r" {2,}", line.replace(" X ", "  X  "))
        )

    head = split(lines[0])
    assert head[0] == "", "header must start with an empty cell"
    assert "CPU Affinity" in head, head
    devices = [h for h in head[1:] if re.fullmatch(r"GPU\d+|NIC\d+|mlx\S+", h)]
    rows = []
    for i, dev in enumerate(devices):
        cells = [c if tabs else c.strip() or c for c in split(lines[1 + i])]
        cells = [(" X " if c.strip() == "X" else c) for c in cells]
        assert cells[0] == dev, f"row {i} is {cells[0]!r}, expected {dev}"
        for j, cell in enumerate(cells[1 : 1 + len(devices)]):
            allowed = r" X |NV\d+|PIX|PXB|PHB|NODE|SYS|SOC"
            assert re.fullmatch(allowed, cell), f"bad cell {cell!r} in {dev}"
            assert (cell == " X ") == (i == j), f"diagonal broken at {dev}"
        rows.append(cells)
    if "Legend:" in lines:
        assert any(line.startswith("  NV#  = Connection traversing a bonded set") for line in lines)
    return rows


def check_boxed(text: str) -> list[str]:
    """A `+---+` boxed table (mig -lgip/-lgi, dcgmi diag): every line as wide as the border."""
    lines = [line for line in text.splitlines() if line.strip()]
    border = next(line for line in lines if line.startswith("+-"))
    rows = []
    for line in lines:
        if not line.startswith(("+", "|")):
            continue
        assert len(line) == len(border), f"width {len(line)} != {len(border)}: {line!r}"
        assert line[-1] in "|+", line
        rows.append(line)
    return rows


LGIP_ROW = re.compile(
    r"^\| +(\d+)  MIG (\S+) +(\d+) +(\d+)/(\d+) +([\d.]+) +(No|Yes) +(\d+) +(\d+) +(\d+) +\|$"
)
LGI_ROW = re.compile(r"^\| +(\d+)  MIG (\S+) +(\d+) +(\d+) +(\d+):(\d+) +\|$")


def check_lgip(text: str) -> list[tuple[str, ...]]:
    """`nvidia-smi mig -lgip`: one two-line block per profile."""
    rows = [m.groups() for m in map(LGIP_ROW.match, check_boxed(text)) if m]
    assert rows, "no profile rows"
    return rows


def check_lgi(text: str) -> list[tuple[str, ...]]:
    """`nvidia-smi mig -lgi`: one row per GPU instance with its placement."""
    rows = [m.groups() for m in map(LGI_ROW.match, check_boxed(text)) if m]
    assert rows, "no GPU instance rows"
    return rows


DCGM_ROW = re.compile(r"^\| (.{25}) \| (.{46}) \|$")
DCGM_CAT = re.compile(r"^[|+]-----  [A-Za-z]+  -*\+-{48}[|+]$")


def check_dcgm(text: str) -> dict[str, list[str]]:
    """`dcgmi diag`: `Successfully ran diagnostic`, 27/48-column rows, category separators."""
    lines = text.strip("\n").splitlines()
    banner = [i for i, line in enumerate(lines) if line.startswith("Successfully ran")]
    assert banner in ([], [0]), "the 'Successfully ran diagnostic' line must come first"
    results: dict[str, list[str]] = {}
    last = ""
    for line in check_boxed(text):
        if (line.startswith("+-") and set(line) <= {"+", "-"}) or line.startswith("+="):
            continue
        if DCGM_CAT.match(line):
            continue
        m = DCGM_ROW.match(line)
        assert m, f"bad dcgmi row {line!r}"
        name, value = m.group(1).strip(), m.group(2).strip()
        if name:
            last = name
        results.setdefault(last, []).append(value)
    return results


def check_ibstat(text: str) -> list[dict[str, str]]:
    """`ibstat`: `CA 'name'` blocks, tab-indented attributes and one port block."""
    cas: list[dict[str, str]] = []
    for line in text.splitlines():
        if line.startswith("CA '"):
            cas.append({"name": line[4:-1]})
            continue
        m = re.fullmatch(r"\t{1,2}([A-Za-z ]+[A-Za-z0-9]*): ?(.*)", line)
        assert m and cas, f"bad ibstat line {line!r}"
        cas[-1].setdefault(m.group(1), m.group(2))
    for ca in cas:
        for key in ("CA type", "Firmware version", "State", "Physical state", "Rate", "Link layer"):
            assert key in ca, f"{ca['name']} lacks {key}"
        assert ca["State"] in ("Active", "Down", "Initializing", "Armed"), ca["State"]
    return cas


def check_ibv_devinfo(text: str) -> list[dict[str, str]]:
    """`ibv_devinfo`: `hca_id:\\tname` blocks of `key:\\t+value` lines."""
    devs: list[dict[str, str]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line == "\tDevice ports:":
            continue
        if line.startswith("hca_id:\t"):
            devs.append({"hca_id": line.split("\t", 1)[1]})
            continue
        m = re.fullmatch(r"\t{1,3}([a-z_]+):\t+(.*)", line)
        assert m and devs, f"bad ibv_devinfo line {line!r}"
        devs[-1].setdefault(m.group(1), m.group(2))
    for dev in devs:
        assert re.fullmatch(r"PORT_[A-Z]+ \(\d\)", dev["state"]), dev["state"]
        assert dev["link_layer"] in ("InfiniBand", "Ethernet", "Unspecified")
    return devs


NCCL_ROW = re.compile(
    r"^ {0,11}\d+ +\d+ +\w+ +\w+(?: +-?\d+)?"
    r"(?: +[\d.]+ +[\d.]+ +[\d.]+ +(?:\d+|N/A|[\d.]+e[+-]\d+)){2}\s*$"
)


def check_nccl(text: str) -> dict[str, float]:
    """nccl-tests `all_reduce_perf`: header, rank lines, fixed-column rows, the summary."""
    tag = re.compile(r"^\[\d+,\d+\]<std(out|err)>:")
    lines = [tag.sub("", line).rstrip() for line in text.splitlines()]
    assert any(line.startswith("# nThread ") for line in lines), "no '# nThread' header"
    ranks = [line for line in lines if re.match(r"^# +Rank ", line)]
    assert ranks, "no rank lines"
    for line in ranks:
        assert re.match(
            r"^# +Rank +\d+ (?:Group +\d+ )?Pid +\d+ on +\S+ device +\d+ \[\S+\] ", line
        ), f"bad rank line {line!r}"
    rows = [line for line in lines if NCCL_ROW.match(line)]
    assert rows, "no size rows"
    busbw = {}
    for line in rows:
        cells = line.split()
        busbw[cells[0]] = float(cells[7] if len(cells) == 13 else cells[6])
        assert len(line.split("  ")[0]) <= 12
    avg = [line for line in lines if line.startswith("# Avg bus bandwidth    : ")]
    assert avg, "no Avg bus bandwidth line"
    assert any(line.startswith("# Out of bounds values : ") for line in lines)
    busbw["avg"] = float(avg[0].split(":")[1])
    return busbw


XID = re.compile(r"NVRM: Xid \(PCI:([0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2})\): (\d+), (.*)$")
DMESG_PREFIX = re.compile(r"^\[ *\d+\.\d{6}\] ")


def xids(text: str) -> list[tuple[str, int, str]]:
    """Every `NVRM: Xid (PCI:...): code, ...` line of a kernel log, whatever its prefix."""
    return [
        (m.group(1), int(m.group(2)), m.group(3)) for m in map(XID.search, text.splitlines()) if m
    ]
