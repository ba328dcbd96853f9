#!/usr/bin/python3 -S
"""Simulated nccl-tests `all_reduce_perf`: the real output layout, bandwidth from the hardware.

One invocation stands for the whole job. GPUs per node: `-g` (as in a single-process run).
With `NCCL_COMM_ID` set, one invocation per node (as mpirun starts them) really connects the
nodes over TCP first, as NCCL's bootstrap and socket transport do (tools/nccl_net.py); only
rank 0 prints the report.
Nodes: env GPUFORGE_SIM_HOSTS (comma-separated host names) or GPUFORGE_SIM_NODES (a count);
one node when neither is set. Bus bandwidth comes from the profile's NVLink/NVSwitch or PCIe
path inside a node and the active HCA/EFA rates between nodes, times any `nccl-slow` factor.
"""

from __future__ import annotations

import hashlib
import os
import sys

# Imported by the type checkers only: `typing` alone costs a tool ~11 ms on every call.
TYPE_CHECKING = False

sys.path[:0] = [
    os.path.join(os.environ.get("GPUFORGE_SIM_ROOT", "/"), "usr/lib/gpuforge-sim"),
    os.path.dirname(os.path.abspath(__file__)),
]

if TYPE_CHECKING:
    from gpuforge.fleet.sim.tools import nccl_net, rdma, simlib
else:
    import nccl_net
    import rdma
    import simlib

TYPES = {
    "int8": 1,
    "uint8": 1,
    "int32": 4,
    "uint32": 4,
    "int64": 8,
    "uint64": 8,
    "half": 2,
    "float": 4,
    "double": 8,
    "bfloat16": 2,
}
OPTS = {
    "-b": "b",
    "--minbytes": "b",
    "-e": "e",
    "--maxbytes": "e",
    "-f": "f",
    "--stepfactor": "f",
    "-i": "i",
    "--stepbytes": "i",
    "-g": "g",
    "--ngpus": "g",
    "-t": "t",
    "--nthreads": "t",
    "-n": "n",
    "--iters": "n",
    "-w": "w",
    "--warmup_iters": "w",
    "-c": "c",
    "--check": "c",
    "-d": "d",
    "--datatype": "d",
    "-o": "o",
    "--op": "o",
    "-a": "a",
    "-m": "m",
    "-p": "p",
    "-z": "z",
    "-G": "G",
    "-C": "C",
    "-r": "r",
    "--root": "r",
    "-N": "N",
    "--run_cycles": "N",
}
NO_NCCL = (
    "all_reduce_perf: error while loading shared libraries: libnccl.so.2: cannot open shared "
    "object file: No such file or directory"
)


def size(text: str) -> int:
    """Parse nccl-tests sizes: `8`, `128M`, `8G` (powers of 1024)."""
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper()
    if text and text[-1] in mult:
        return int(float(text[:-1]) * mult[text[-1]])
    return int(text)


def parse(argv: list[str]) -> dict[str, str]:
    """Parse nccl-tests options (`-b 8`, `--minbytes=8`); exit 1 on an unknown one."""
    opts: dict[str, str] = {}
    args = list(argv)
    while args:
        arg = args.pop(0)
        key, eq, val = arg.partition("=")
        if key not in OPTS:
            simlib.die(f"invalid option: {arg}", 1, sys.stderr)
        if not eq:
            val = args.pop(0) if args else ""
        opts[OPTS[key]] = val
    return opts


def peak_busbw(
    hw: dict[str, object], state: dict[str, object], gpus: list[dict[str, object]], nodes: int
) -> float:
    """Large-message bus bandwidth in GB/s for this topology, node count and fault set."""
    per_node = len(gpus)
    nccl = hw["nccl"]
    assert isinstance(nccl, dict)
    down = simlib.nvlink_down(state)
    nvlink_ok = bool(hw.get("nvlink")) and not any(g["phys"] in down for g in gpus)
    intra = float(nccl["intra_busbw"] if nvlink_ok else nccl["pcie_busbw"])
    best = intra if per_node > 1 else 1e9
    if nodes > 1:
        ports = rdma.ports(hw, state)
        total_gpus = len(hw["gpus"])  # type: ignore[arg-type]
        share = min(1.0, per_node / max(1, total_gpus))
        gbits = sum(p["live_rate"] for p in ports if p["up"]) * share
        inter = gbits / 8 * 0.92 * 1.1 if gbits else 1.1
        best = min(best, inter)
    for fault in simlib.faults(state, "nccl-slow"):
        best *= float(fault.get("factor", 0.5))
    return best


def fmt_time(us: float) -> str:
    """nccl-tests time column: 2 decimals under 100 us, 1 under 10 ms, none above."""
    if us >= 10000:
        return f"{us:7.0f}"
    if us >= 100:
        return f"{us:7.1f}"
    return f"{us:7.2f}"


def main(argv: list[str]) -> None:
    """Run the simulated benchmark and print its report."""
    opts = parse(argv)
    hw, state = simlib.load_hardware(), simlib.load_state()
    if "nccl" not in state.get("software", {}):
        simlib.die(NO_NCCL, 127, sys.stderr)
    host = simlib.hostname()
    pid = os.getpid()
    present = simlib.present_gpus(hw, state) if state.get("driver") else []
    ngpus = int(opts.get("g", "1"))
    if ngpus > len(present) or any(simlib.gpu_lost(state, g["phys"]) for g in present[:ngpus]):
        reason = "unknown error" if ngpus <= len(present) else "invalid device ordinal"
        if not present:
            reason = "no CUDA-capable device is detected"
        simlib.die(
            f"{host}: Test CUDA failure common.cu:892 '{reason}'\n"
            f" .. {host} pid {pid}: Test failure common.cu:1003",
            2,
        )
    if hw.get("nvswitch") and ngpus > 1 and not simlib.daemon_alive("nv-fabricmanager"):
        simlib.die(
            f"{host}: Test CUDA failure common.cu:892 'system not yet initialized'\n"
            f" .. {host} pid {pid}: Test failure common.cu:1003",
            2,
        )
    hosts_env = os.environ.get("GPUFORGE_SIM_HOSTS", "")
    hosts = [h for h in hosts_env.split(",") if h] or [host]
    if not hosts_env and os.environ.get("GPUFORGE_SIM_NODES"):
        count = int(os.environ["GPUFORGE_SIM_NODES"])
        hosts = [host] + [f"{host}-peer{k}" for k in range(1, count)]
    gpus = present[:ngpus]
    comm_id = os.environ.get("NCCL_COMM_ID", "")
    rank = int(os.environ.get("GPUFORGE_SIM_RANK", os.environ.get("OMPI_COMM_WORLD_RANK", "0")))
    if comm_id:
        try:
            nccl_net.run_bootstrap(
                comm_id, rank, int(os.environ.get("GPUFORGE_SIM_RANKS", str(len(hosts))))
            )
        except nccl_net.NcclNetError as error:
            simlib.die(
                f"{host}: {error}\n{host}: Test NCCL failure common.cu:1005 'unhandled system "
                f"error'\n .. {host} pid {pid}: Test failure common.cu:1003",
                3,
            )
        if rank != 0:
            return
    ranks = len(hosts) * ngpus
    lo, hi = size(opts.get("b", "32M")), size(opts.get("e", "32M"))
    factor = int(opts.get("f", "2"))
    dtype = opts.get("d", "float")
    width = TYPES.get(dtype, 4)
    iters, warm = int(opts.get("n", "20")), int(opts.get("w", "5"))
    out = [
        f"# nThread {opts.get('t', '1')} nGpus {ngpus} minBytes {lo} maxBytes {hi} step: "
        f"{factor}(factor) warmup iters: {warm} iters: {iters} agg iters: 1 validation: "
        f"{opts.get('c', '1')} graph: 0",
        "#",
        "# Using devices",
    ]
    for r in range(ranks):
        g = gpus[r % ngpus]
        bus = str(g["bus_id"])[4:].lower()
        out.append(
            f"#  Rank {r:2d} Group  0 Pid {pid + r // ngpus:6d} on {hosts[r // ngpus]:>10} "
            f"device {r % ngpus:2d} [{bus[:-2]}] {g['smi_name']}"
        )
    out += [
        "#",
        "#                                                              out-of-place"
        "                       in-place          ",
        "#       size         count      type   redop    root     time   algbw   busbw #wrong"
        "     time   algbw   busbw #wrong",
        "#        (B)    (elements)                               (us)  (GB/s)  (GB/s)       "
        "     (us)  (GB/s)  (GB/s)       ",
    ]
    peak = peak_busbw(hw, state, gpus, len(hosts))
    lat = 120.0 if len(hosts) > 1 else (30.0 if ranks > 1 else 4.0)
    bus_factor = 2 * (ranks - 1) / ranks if ranks > 1 else 0.0
    total = 0.0
    rows = 0
    n = max(lo, width) // width * width
    while n <= max(hi, lo):
        cells = []
        for variant in ("oop", "ip"):
            seed = hashlib.sha256(f"{host}{n}{variant}".encode()).digest()[0]
            jitter = 1 + (seed - 128) / 128 * 0.01
            bytes_moved = n * (bus_factor or 1.0)
            us = (lat + bytes_moved / (peak * 1e3)) * jitter
            algbw = n / us / 1e3
            busbw = algbw * bus_factor
            total += busbw
            cells.append(f"  {fmt_time(us)}  {algbw:6.2f}  {busbw:6.2f}  {0:5d}")
        rows += 2
        out.append(f"{n:12d}  {n // width:12d}  {dtype:>8}  {'sum':>6}  {-1:6d}" + "".join(cells))
        if factor > 1:
            n *= factor
        else:
            n += max(width, size(opts.get("i", "1M")))
    out += [
        "# Out of bounds values : 0 OK",
        f"# Avg bus bandwidth    : {total / max(1, rows):g} ",
        "#",
    ]
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1:])
