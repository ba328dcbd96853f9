# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The read-only fact collectors of gpu_validation: which command writes which raw file.

The file names follow gpuforge.validate._layout: per collector the raw stdout in its file,
`<stem>.rc` with the exit status (127 when the tool is missing) and `<stem>.err` with stderr.
"""

from __future__ import annotations

from dataclasses import dataclass

SMI_FIELDS = (
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


# The processes on each GPU (validation.allowed_processes lists the ones that may run there).
APPS_FIELDS = ("gpu_bus_id", "gpu_uuid", "pid", "process_name", "used_gpu_memory")


@dataclass(frozen=True)
class Collector:
    """One collector: its name, the file its stdout lands in, and its candidate command lines.

    The first candidate whose program exists runs; later ones are fallbacks (dmesg -> journalctl).
    With `structured` set, the first candidate asks for a structured form (`nvidia-smi -q -x`,
    `dcgmi diag -j`) and is kept when its stdout starts with that mark, whatever its exit status
    (a failed diagnostic is still a JSON document); a tool that rejects the option, or prints
    another form, falls back to the next candidate.
    """

    name: str
    filename: str
    commands: tuple[tuple[str, ...], ...]
    timeout_s: int = 120
    structured: str = ""

    def keeps(self, argv: tuple[str, ...], rc: int, stdout: str) -> bool:
        """Whether the run of candidate `argv` is the collector's result (else try the next)."""
        if argv == self.commands[-1]:
            return True
        if self.structured and argv == self.commands[0]:
            return stdout.lstrip().startswith(self.structured)
        return rc == 0

    @property
    def stem(self) -> str:
        """The file name without its extension; `<stem>.rc` and `<stem>.err` sit next to it."""
        return self.filename.rsplit(".", 1)[0]


def collectors(
    dcgm_level: int, mig: bool, nccl_gpus: int, fields: tuple[str, ...] = SMI_FIELDS
) -> list[Collector]:
    """Return the collectors to run on a node, in order; NCCL runs only when `nccl_gpus` > 0."""
    found = [
        Collector(
            "smi_query",
            "query-gpu.csv",
            (("nvidia-smi", "--query-gpu=" + ",".join(fields), "--format=csv"),),
        ),
        # The -q report, as XML where the driver prints it.
        Collector(
            "smi_q",
            "smi-q.txt",
            (("nvidia-smi", "-q", "-x"), ("nvidia-smi", "-q")),
            structured="<",
        ),
        Collector("smi_topo", "topo.txt", (("nvidia-smi", "topo", "-m"),)),
        Collector(
            "smi_apps",
            "compute-apps.csv",
            (("nvidia-smi", "--query-compute-apps=" + ",".join(APPS_FIELDS), "--format=csv"),),
        ),
        # The user of every process, so the compute processes' owners can be judged too.
        Collector("ps_owners", "process-owners.txt", (("ps", "-e", "-o", "pid=,user:32="),)),
        # The monitoring role's GPU watch: GPUs busy for its whole window outside jobs.
        Collector(
            "gpu_watch",
            "gpu-watch.txt",
            (("curl", "-sf", "--max-time", "10", "http://127.0.0.1:9410/metrics"),),
        ),
    ]
    if mig:
        found.append(Collector("mig_lgi", "mig-lgi.txt", (("nvidia-smi", "mig", "-lgi"),)))
    if dcgm_level > 0:
        found.append(
            Collector(
                "dcgmi_diag",
                "dcgmi-diag.txt",
                (
                    ("dcgmi", "diag", "-r", str(dcgm_level), "-j"),
                    ("dcgmi", "diag", "-r", str(dcgm_level)),
                ),
                timeout_s=3600,
                structured="{",
            )
        )
    found += [
        Collector("ibstat", "ibstat.txt", (("ibstat",),)),
        Collector(
            "kernel_log",
            "kernel.log",
            (
                ("dmesg", "--time-format=iso"),
                ("dmesg",),
                ("journalctl", "-k", "--no-pager", "-o", "short-iso"),
            ),
        ),
        Collector(
            "packages",
            "packages.txt",
            (("dpkg-query", "-W", "-f=${Package}\\t${Version}\\n"),),
        ),
    ]
    if nccl_gpus > 0:
        found.append(
            Collector(
                "nccl_all_reduce",
                "all_reduce_perf.txt",
                (("all_reduce_perf", "-b", "8M", "-e", "1G", "-f", "2", "-g", str(nccl_gpus)),),
                timeout_s=900,
            )
        )
    return found


def gpu_count(smi_csv: str) -> int:
    """Count GPU rows in `nvidia-smi --query-gpu=... --format=csv` output (0 when it is not CSV)."""
    lines = [line for line in smi_csv.splitlines() if line.strip()]
    return max(len(lines) - 1, 0) if lines and lines[0].startswith("index") else 0
