"""The one place that says which files the `gpu_validation` role leaves per host, and how.

Layout under the controller's collect folder, one folder per inventory host:

    <collect_dir>/<host>/<file>         raw stdout of the collector
    <collect_dir>/<host>/<stem>.rc      its exit status as text (127: the tool is not installed)
    <collect_dir>/<host>/<stem>.err     its stderr (optional; read when the status is not 0)

where <stem> is <file> without its extension (`query-gpu.csv` -> `query-gpu.rc`).
"""

from __future__ import annotations

from dataclasses import dataclass

QUERY_GPU_FIELDS: tuple[str, ...] = (
    "index",
    "name",
    "uuid",
    "pci.bus_id",
    "driver_version",
    "memory.total",
    "persistence_mode",
    "compute_mode",
    "power.limit",
    "power.default_limit",
    "power.min_limit",
    "power.max_limit",
    "ecc.errors.uncorrected.volatile.total",
    "ecc.errors.corrected.volatile.total",
    "clocks_throttle_reasons.active",
    "mig.mode.current",
    "temperature.gpu",
)

MISSING_TOOL_RC = 127


@dataclass(frozen=True)
class Collector:
    """One probe the role runs on a node: its output file, the tool it needs, and the command."""

    key: str
    file: str
    tool: str
    command: str

    @property
    def stem(self) -> str:
        """File name without extension; `<stem>.rc` and `<stem>.err` sit next to the output."""
        return self.file.rsplit(".", 1)[0]

    @property
    def rc_file(self) -> str:
        """Name of the file that holds the collector's exit status."""
        return f"{self.stem}.rc"

    @property
    def err_file(self) -> str:
        """Name of the file that holds the collector's stderr."""
        return f"{self.stem}.err"


COLLECTORS: tuple[Collector, ...] = (
    Collector(
        "query_gpu",
        "query-gpu.csv",
        "nvidia-smi",
        f"nvidia-smi --query-gpu={','.join(QUERY_GPU_FIELDS)} --format=csv",
    ),
    # The -q report: XML where the driver prints it (`-q -x`), else the text form.
    Collector("smi_q", "smi-q.txt", "nvidia-smi", "nvidia-smi -q -x || nvidia-smi -q"),
    Collector("topo", "topo.txt", "nvidia-smi", "nvidia-smi topo -m"),
    Collector(
        "compute_apps",
        "compute-apps.csv",
        "nvidia-smi",
        "nvidia-smi --query-compute-apps=gpu_bus_id,gpu_uuid,pid,process_name,used_gpu_memory "
        "--format=csv",
    ),
    Collector("owners", "process-owners.txt", "ps", "ps -e -o pid=,user:32="),
    Collector("gpu_watch", "gpu-watch.txt", "curl", "curl -sf http://127.0.0.1:9410/metrics"),
    Collector("mig", "mig-lgi.txt", "nvidia-smi", "nvidia-smi mig -lgi"),
    # JSON where DCGM prints it (`-j`), else the table.
    Collector(
        "dcgm",
        "dcgmi-diag.txt",
        "dcgmi",
        "dcgmi diag -r {dcgm_level} -j || dcgmi diag -r {dcgm_level}",
    ),
    Collector("ibstat", "ibstat.txt", "ibstat", "ibstat"),
    Collector("kernel_log", "kernel.log", "dmesg", "dmesg"),
    Collector(
        "packages", "packages.txt", "dpkg-query", "dpkg-query -W -f '${Package}\\t${Version}\\n'"
    ),
    Collector(
        "nccl",
        "all_reduce_perf.txt",
        "all_reduce_perf",
        "all_reduce_perf -b 1G -e 4G -f 2 -g {gpu_count}",
    ),
)
COLLECTOR_BY_KEY: dict[str, Collector] = {c.key: c for c in COLLECTORS}
