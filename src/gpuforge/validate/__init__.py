"""Readiness validation: node facts from tool output, health rules, and the readiness report.

    raw collector files --collect_from_dir--> NodeFacts --judge_node(NodeExpectation)--> Finding
    NodeFacts + NodeExpectation per node --build_report--> ReadinessReport (JSON, Rich, HTML)

Parsers are pure (text in, typed facts out) and never raise on odd input: each result carries
`warnings` for what it could not read and, for line-oriented outputs, `unplaced`: the lines it
could not place, quoted, which GF-HEALTH-033 turns into a warning.
"""

from gpuforge.validate._collect import collect_from_dir
from gpuforge.validate._dcgm import DcgmDiag, DcgmMessage, DcgmTest, parse_dcgmi_diag
from gpuforge.validate._dcgm_json import parse_dcgm_output
from gpuforge.validate._expect import NodeExpectation, version_matches
from gpuforge.validate._facts import CollectorRun, NodeFacts
from gpuforge.validate._findings import NODE_RULES, Finding, Rule, Severity
from gpuforge.validate._gpu import GpuFacts
from gpuforge.validate._ib import Hca, HcaPort, Hcas, parse_ibstat, parse_ibv_devinfo
from gpuforge.validate._judge import CLUSTER_NCCL_CODES, judge_cluster_nccl, judge_node
from gpuforge.validate._layout import COLLECTORS, MISSING_TOOL_RC, QUERY_GPU_FIELDS, Collector
from gpuforge.validate._mig import (
    MigInstance,
    MigInstances,
    MigProfile,
    MigProfiles,
    parse_mig_instances,
    parse_mig_profiles,
)
from gpuforge.validate._nccl import NcclRank, NcclResult, NcclRow, parse_nccl_tests
from gpuforge.validate._packages import Packages, parse_packages
from gpuforge.validate._report import NodeVerdict, ReadinessReport, build_report
from gpuforge.validate._smi_apps import ComputeApps, GpuApp, parse_compute_apps
from gpuforge.validate._smi_csv import QueryGpuCsv, gpus_from_csv, parse_query_gpu_csv
from gpuforge.validate._smi_q import SmiQuery, parse_smi_query
from gpuforge.validate._smi_table import GpuProcess, MigDevice, SmiTable, parse_smi_table
from gpuforge.validate._smi_xml import parse_smi_query_output, parse_smi_query_xml
from gpuforge.validate._topo import Topology, parse_topo
from gpuforge.validate._validate_dir import validate_collected
from gpuforge.validate._xid import XidEvent, XidEvents, parse_xids

__all__ = [
    "CLUSTER_NCCL_CODES",
    "COLLECTORS",
    "MISSING_TOOL_RC",
    "NODE_RULES",
    "QUERY_GPU_FIELDS",
    "Collector",
    "CollectorRun",
    "ComputeApps",
    "DcgmDiag",
    "DcgmMessage",
    "DcgmTest",
    "Finding",
    "GpuApp",
    "GpuFacts",
    "GpuProcess",
    "Hca",
    "HcaPort",
    "Hcas",
    "MigDevice",
    "MigInstance",
    "MigInstances",
    "MigProfile",
    "MigProfiles",
    "NcclRank",
    "NcclResult",
    "NcclRow",
    "NodeExpectation",
    "NodeFacts",
    "NodeVerdict",
    "Packages",
    "QueryGpuCsv",
    "ReadinessReport",
    "Rule",
    "Severity",
    "SmiQuery",
    "SmiTable",
    "Topology",
    "XidEvent",
    "XidEvents",
    "build_report",
    "collect_from_dir",
    "gpus_from_csv",
    "judge_cluster_nccl",
    "judge_node",
    "parse_compute_apps",
    "parse_dcgm_output",
    "parse_dcgmi_diag",
    "parse_ibstat",
    "parse_ibv_devinfo",
    "parse_mig_instances",
    "parse_mig_profiles",
    "parse_nccl_tests",
    "parse_packages",
    "parse_query_gpu_csv",
    "parse_smi_query",
    "parse_smi_query_output",
    "parse_smi_query_xml",
    "parse_smi_table",
    "parse_topo",
    "parse_xids",
    "validate_collected",
    "version_matches",
]
