"""`nvidia-smi -q -x` read into the facts the text parser reads from `-q`, and read safely.

There is no real XML capture in shared/reference/real-outputs/, so the documents are the
simulator's: its XML of each real text capture (element names of nvsmi_device_v12.dtd) and of a
simulated node's own report.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from validate_captures import REAL, captures, real

from gpuforge.fleet.sim.tools import smi_xml
from gpuforge.validate import collect_from_dir, parse_smi_query, parse_smi_query_output
from gpuforge.validate._smi_xml import (
    MAX_DEPTH,
    MAX_ELEMENTS,
    RefusedXml,
    parse_smi_query_xml,
    read_xml,
)

HEALTHY = REAL.parent / "nodes" / "h100-healthy"


@pytest.mark.parametrize("name", captures("smi-q"))
def test_xml_of_a_real_capture_gives_the_text_parser_s_facts(name: str) -> None:
    text = real(name)
    from_text = parse_smi_query(text)
    from_xml = parse_smi_query_xml(smi_xml.document(text))
    assert from_xml.warnings == from_text.warnings
    assert (from_xml.driver_version, from_xml.cuda_version, from_xml.attached_gpus) == (
        from_text.driver_version,
        from_text.cuda_version,
        from_text.attached_gpus,
    )
    assert from_xml.gpus == from_text.gpus
    assert from_xml.gpus and all(g.uuid and g.memory_mib for g in from_xml.gpus)


def test_the_output_form_is_recognised() -> None:
    text = real("smi-q/h100sxm-8gpu-a-drv565.txt")
    assert parse_smi_query_output(smi_xml.document(text)) == parse_smi_query_xml(
        smi_xml.document(text)
    )
    assert parse_smi_query_output(text) == parse_smi_query(text)


LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE nvidia_smi_log [
 <!ENTITY a "aaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
]>
<nvidia_smi_log><driver_version>&c;</driver_version></nvidia_smi_log>
"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE nvidia_smi_log [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<nvidia_smi_log><driver_version>&x;</driver_version></nvidia_smi_log>
"""
SUBSET = """<?xml version="1.0"?>
<!DOCTYPE nvidia_smi_log [<!ELEMENT nvidia_smi_log ANY>]>
<nvidia_smi_log/>
"""


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (LAUGHS, "internal DTD subset"),
        (EXTERNAL, "internal DTD subset"),
        (SUBSET, "internal DTD subset"),
        ("<nvidia_smi_log><gpu>&x;</gpu></nvidia_smi_log>", "not well-formed XML"),
        ("<nvidia_smi_log><gpu></nvidia_smi_log>", "not well-formed XML"),
        ("<a/>" * 2, "not well-formed XML"),
    ],
)
def test_entities_dtd_subsets_and_broken_documents_are_refused(document: str, reason: str) -> None:
    parsed = parse_smi_query_xml(document)
    assert parsed.gpus == () and parsed.driver_version is None
    assert len(parsed.warnings) == 1 and reason in parsed.warnings[0]
    assert parsed.warnings[0].startswith("not an `nvidia-smi -q -x` document: ")


def test_a_huge_document_is_refused_before_it_is_held() -> None:
    with pytest.raises(RefusedXml, match="more than"):
        read_xml("<nvidia_smi_log>" + "<gpu/>" * (MAX_ELEMENTS + 1) + "</nvidia_smi_log>")


def test_a_deeply_nested_document_is_a_warning_not_a_crash() -> None:
    """Nested 5,000 deep inside a section the reader walks (ECC counts): refused while parsing,
    before any walk over it could run out of stack."""
    deep = "<a>" * 5000 + "</a>" * 5000
    doc = (
        "<nvidia_smi_log><attached_gpus>1</attached_gpus><gpu id='0'><ecc_errors><volatile>"
        f"{deep}</volatile></ecc_errors></gpu></nvidia_smi_log>"
    )
    parsed = parse_smi_query_xml(doc)
    assert parsed.gpus == ()
    assert parsed.warnings == (
        f"not an `nvidia-smi -q -x` document: elements nested deeper than {MAX_DEPTH}",
    )


def test_the_dtd_line_nvidia_smi_prints_is_accepted_and_another_root_is_a_warning() -> None:
    doc = smi_xml.document(real("smi-q/a100sxm80-8gpu-full-q-drv525.60-raw-file.txt"))
    assert '<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v12.dtd">' in doc
    assert len(parse_smi_query_xml(doc).gpus) == 8
    other = parse_smi_query_xml('<?xml version="1.0"?>\n<html><body/></html>\n')
    assert other.warnings == ("root element is <html>, not <nvidia_smi_log>",)


@pytest.mark.parametrize("form", ["xml", "text"])
def test_collect_reads_the_q_report_when_the_query_csv_gave_nothing(
    tmp_path: Path, form: str
) -> None:
    node = tmp_path / "node"
    shutil.copytree(HEALTHY, node)
    (node / "query-gpu.csv").write_text('Field "clocks_throttle_reasons.active" is not valid.\n')
    (node / "query-gpu.rc").write_text("2\n")
    text = (HEALTHY / "smi-q.txt").read_text()
    (node / "smi-q.txt").write_text(smi_xml.document(text) if form == "xml" else text)
    facts = collect_from_dir(node)
    assert len(facts.gpus) == 8
    assert {g.driver for g in facts.gpus} == {"565.57.01"}
    assert facts.gpus == parse_smi_query(text).gpus


def test_collect_keeps_the_query_csv_s_gpus_when_it_has_them() -> None:
    facts = collect_from_dir(HEALTHY)
    assert {g.driver for g in facts.gpus} == {"550.90.07"}
    assert facts.collectors["smi_q"].rc == 0
