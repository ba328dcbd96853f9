"""No parser raises on arbitrary text, nor on real captures cut and spliced at random points."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from validate_captures import REAL, real

from gpuforge.validate import (
    gpus_from_csv,
    parse_dcgmi_diag,
    parse_ibstat,
    parse_ibv_devinfo,
    parse_mig_instances,
    parse_mig_profiles,
    parse_nccl_tests,
    parse_packages,
    parse_query_gpu_csv,
    parse_smi_query,
    parse_smi_table,
    parse_topo,
    parse_xids,
)


def _csv(text: str) -> object:
    return gpus_from_csv(parse_query_gpu_csv(text))


PARSERS: dict[str, Callable[[str], object]] = {
    "csv": _csv,
    "smi_q": parse_smi_query,
    "smi_table": parse_smi_table,
    "topo": parse_topo,
    "mig_lgi": parse_mig_instances,
    "mig_lgip": parse_mig_profiles,
    "dcgm": parse_dcgmi_diag,
    "ibstat": parse_ibstat,
    "ibv_devinfo": parse_ibv_devinfo,
    "nccl": parse_nccl_tests,
    "xid": parse_xids,
    "packages": parse_packages,
}
ALL_CAPTURES = sorted(
    str(p.relative_to(REAL)) for p in REAL.rglob("*.txt") if p.name != "README.md"
)
# Pieces of the formats, so random text often looks almost like real output.
TOKENS = st.sampled_from(
    [
        "|",
        "+",
        "-",
        "=",
        ":",
        ",",
        "\t",
        " ",
        "\n",
        "#",
        "GPU0",
        "NV18",
        "X",
        "[N/A]",
        "N/A",
        "Pass",
        "Fail - GPUs: 0, 1",
        "GPU0: Fail",
        "Warning",
        "CA 'mlx5_0'",
        "Port 1:",
        "Rate: 400",
        "hca_id:",
        "port:",
        "NVRM: Xid (PCI:0000:19:00): ",
        "79",
        "MIG 1g.10gb",
        "0:1",
        "0/7",
        "size count type redop root time algbw busbw #wrong",
        "1024",
        "0x1F",
        "W",
        "MiB",
        "Driver Version",
        "GPU 00000000:07:00.0",
        "    ",
        "index, name",
        "NVIDIA-SMI 550.1",
        "-----  Hardware  ----",
        "Out of bounds values : 3 FAILED",
        "Avg bus bandwidth : x",
    ]
)
FORMAT_LIKE = st.lists(TOKENS, max_size=80).map("".join)


@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=150, deadline=None)
@given(text=st.one_of(st.text(max_size=400), FORMAT_LIKE))
def test_random_text_never_raises(name: str, text: str) -> None:
    PARSERS[name](text)


@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=60, deadline=None)
@given(
    capture=st.sampled_from(ALL_CAPTURES),
    cut=st.tuples(st.integers(0, 10_000), st.integers(0, 10_000)),
    insert=st.text(max_size=30),
)
def test_spliced_captures_never_raise(
    name: str, capture: str, cut: tuple[int, int], insert: str
) -> None:
    text = real(capture)
    start, end = sorted(c % (len(text) + 1) for c in cut)
    PARSERS[name](text[:start] + insert + text[end:])
