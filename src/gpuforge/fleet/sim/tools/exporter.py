#!/usr/bin/python3 -S
"""Simulated Prometheus exporters: `exporter.py dcgm` on :9400, `exporter.py node` on :9100.

Metrics are computed from the node's simulated state on every scrape of /metrics.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer

# Imported by the type checkers only: `typing` alone costs a tool ~11 ms on every call.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

sys.path[:0] = [
    os.path.join(os.environ.get("GPUFORGE_SIM_ROOT", "/"), "usr/lib/gpuforge-sim"),
    os.path.dirname(os.path.abspath(__file__)),
]

if TYPE_CHECKING:
    from gpuforge.fleet.sim.tools import simlib, smi_fields
else:
    import simlib
    import smi_fields

PORTS = {"dcgm": 9400, "node": 9100}


def dcgm_metrics() -> str:
    """DCGM exporter text format: one gauge line per GPU for the default counters."""
    hw, state = simlib.load_hardware(), simlib.load_state()
    if not state.get("driver"):
        return ""
    host = simlib.hostname()
    out = [
        "# HELP DCGM_FI_DEV_GPU_TEMP GPU temperature (in C).",
        "# TYPE DCGM_FI_DEV_GPU_TEMP gauge",
    ]
    rows = []
    for gpu in simlib.present_gpus(hw, state):
        if simlib.gpu_lost(state, gpu["phys"]):
            continue
        ctx = {"gpu": gpu, "gs": state["gpus"][gpu["phys"]], "state": state}
        labels = (
            f'gpu="{gpu["index"]}",UUID="{gpu["uuid"]}",device="nvidia{gpu["phys"]}",'
            f'modelName="{gpu["smi_name"]}",Hostname="{host}",DCGM_FI_DRIVER_VERSION='
            f'"{state["driver"]["version"]}"'
        )
        rows.append((labels, ctx))
    metrics: list[tuple[str, Callable[[dict[str, Any]], object]]] = [
        ("DCGM_FI_DEV_GPU_TEMP", lambda c: smi_fields.temperature(c)),
        ("DCGM_FI_DEV_POWER_USAGE", lambda c: smi_fields.power_draw(c)),
        ("DCGM_FI_DEV_GPU_UTIL", lambda c: 0),
        ("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", lambda c: smi_fields.ecc_uncorrected(c)),
        ("DCGM_FI_DEV_XID_ERRORS", lambda c: _xid(c)),
    ]
    for name, getter in metrics:
        if name != "DCGM_FI_DEV_GPU_TEMP":
            out += [f"# HELP {name} {name}.", f"# TYPE {name} gauge"]
        out += [f"{name}{{{labels}}} {getter(ctx)}" for labels, ctx in rows]
    return "\n".join(out) + "\n"


def _xid(ctx: dict[str, Any]) -> int:
    fault = simlib.gpu_fault(ctx["state"], "xid", int(ctx["gpu"]["phys"]))
    return int(fault.get("code", 79)) if fault else 0


def node_metrics() -> str:
    """A minimal node exporter: load average and boot time."""
    load = os.getloadavg()
    state = simlib.load_state()
    return (
        "# HELP node_load1 1m load average.\n# TYPE node_load1 gauge\n"
        f"node_load1 {load[0]}\n"
        "# HELP node_boot_time_seconds Node boot time, in unixtime.\n"
        "# TYPE node_boot_time_seconds gauge\n"
        f"node_boot_time_seconds {state['boot_time']}\n"
    )


class Handler(BaseHTTPRequestHandler):
    """Serves /metrics for the exporter kind given on the command line."""

    kind = "dcgm"

    def do_GET(self) -> None:
        """Answer /metrics with fresh values; 404 elsewhere."""
        if self.path.split("?")[0] != "/metrics":
            self.send_error(404)
            return
        body = (dcgm_metrics() if self.kind == "dcgm" else node_metrics()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet, as the real exporters do per request."""


def main(argv: list[str]) -> None:
    """Serve the exporter named in argv[0] until killed."""
    kind = argv[0] if argv and argv[0] in PORTS else "dcgm"
    Handler.kind = kind
    HTTPServer(("0.0.0.0", PORTS[kind]), Handler).serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
