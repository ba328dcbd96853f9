"""Build `NodeFacts` from the raw files the `gpu_validation` role fetched for one host."""

from __future__ import annotations

from pathlib import Path

from gpuforge.errors import InputError
from gpuforge.validate._dcgm_json import parse_dcgm_output
from gpuforge.validate._facts import CollectorRun, NodeFacts
from gpuforge.validate._gpu import GpuFacts
from gpuforge.validate._ib import parse_ibstat
from gpuforge.validate._layout import COLLECTOR_BY_KEY, COLLECTORS, Collector
from gpuforge.validate._mig import parse_mig_instances
from gpuforge.validate._nccl import parse_nccl_tests
from gpuforge.validate._packages import parse_packages
from gpuforge.validate._smi_apps import (
    busy_outside_jobs,
    parse_compute_apps,
    parse_owners,
    with_owners,
)
from gpuforge.validate._smi_csv import gpus_from_csv, parse_query_gpu_csv
from gpuforge.validate._smi_xml import parse_smi_query_output
from gpuforge.validate._text import integer
from gpuforge.validate._topo import parse_topo
from gpuforge.validate._xid import parse_xids


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None


def _run(folder: Path, collector: Collector) -> tuple[CollectorRun, str | None]:
    output = _read(folder / collector.file)
    rc_text = _read(folder / collector.rc_file)
    stderr = _read(folder / collector.err_file) or ""
    collected = output is not None or rc_text is not None
    rc = integer(rc_text) if rc_text is not None else (0 if output is not None else None)
    run = CollectorRun(collector.key, collector.tool, collected, rc, stderr.strip())
    return run, output


def collect_from_dir(path: Path, host: str | None = None) -> NodeFacts:
    """Parse every collector file in `<collect_dir>/<host>/`; host defaults to the folder name."""
    if not path.is_dir():
        raise InputError(
            f"no collected facts at {path}",
            fix="run the validate playbook first, or point at <collect_dir>/<host>/",
        )
    runs: dict[str, CollectorRun] = {}
    outputs: dict[str, str] = {}
    for collector in COLLECTORS:
        run, output = _run(path, collector)
        runs[collector.key] = run
        if output is not None and not run.tool_missing:
            outputs[collector.key] = output
    warnings: list[str] = []

    def note(key: str, found: tuple[str, ...]) -> None:
        warnings.extend(f"{COLLECTOR_BY_KEY[key].file}: {w}" for w in found)

    gpus: tuple[GpuFacts, ...] = ()
    table = None
    if "query_gpu" in outputs:
        table = parse_query_gpu_csv(outputs["query_gpu"])
        note("query_gpu", table.warnings)
        gpus = tuple(gpus_from_csv(table))
    report = None
    if "smi_q" in outputs and not gpus:
        # The query CSV gave nothing (a driver that rejects one of its fields): the -q report's.
        report = parse_smi_query_output(outputs["smi_q"])
        gpus = report.gpus
        note("smi_q", report.warnings)
    topology = parse_topo(outputs["topo"]) if "topo" in outputs else None
    mig = parse_mig_instances(outputs["mig"]) if "mig" in outputs else None
    dcgm = parse_dcgm_output(outputs["dcgm"]) if "dcgm" in outputs else None
    hcas = parse_ibstat(outputs["ibstat"]) if "ibstat" in outputs else None
    xids = parse_xids(outputs.get("kernel_log", ""))
    packages = parse_packages(outputs.get("packages", ""))
    nccl = parse_nccl_tests(outputs["nccl"]) if "nccl" in outputs else None
    note("topo", topology.warnings if topology else ())
    note("mig", mig.warnings if mig else ())
    note("dcgm", dcgm.warnings if dcgm else ())
    note("ibstat", hcas.warnings if hcas else ())
    note("kernel_log", xids.warnings)
    note("packages", packages.warnings)
    note("nccl", nccl.warnings if nccl else ())
    apps = parse_compute_apps(outputs["compute_apps"]) if "compute_apps" in outputs else None
    owners = parse_owners(outputs.get("owners", ""))
    lost = [
        f"{file}: {line}"
        for file, parsed in (
            (COLLECTOR_BY_KEY["query_gpu"].file, table),
            (COLLECTOR_BY_KEY["smi_q"].file, report),
            (COLLECTOR_BY_KEY["topo"].file, topology),
            (COLLECTOR_BY_KEY["mig"].file, mig),
            (COLLECTOR_BY_KEY["dcgm"].file, dcgm),
            (COLLECTOR_BY_KEY["ibstat"].file, hcas),
            (COLLECTOR_BY_KEY["kernel_log"].file, xids),
            (COLLECTOR_BY_KEY["packages"].file, packages),
            (COLLECTOR_BY_KEY["nccl"].file, nccl),
            (COLLECTOR_BY_KEY["compute_apps"].file, apps),
        )
        if parsed is not None
        for line in parsed.unplaced
    ]
    return NodeFacts(
        host=host or path.name,
        gpus=gpus,
        topology=topology,
        mig_instances=mig.instances if mig else (),
        dcgm=dcgm,
        hcas=hcas.hcas if hcas else (),
        xids=xids.events,
        packages=packages.versions,
        nccl=nccl,
        collectors=runs,
        parse_warnings=tuple(warnings),
        processes=with_owners(apps.apps, owners) if apps is not None else None,
        gpus_busy_outside_jobs=busy_outside_jobs(outputs.get("gpu_watch", "")),
        unplaced=tuple(lost),
    )
