"""More nvidia-smi commands: --version, nvlink -s, dmon and pmon (driver R550+ layouts).

Source of the layouts: NVIDIA's nvidia-smi manual page (R565) and public captures of the same
commands; NVLink per-link speeds: 26.562 GB/s (H100, NVLink4), 25 GB/s (A100, NVLink3).
"""

from __future__ import annotations

import sys
import time

# Imported by the type checkers only: `typing` alone costs a tool ~11 ms on every call.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Ctx = dict[str, Any]
    Json = dict[str, Any]

if TYPE_CHECKING:
    from gpuforge.fleet.sim.tools import smi_fields
else:
    import smi_fields

LINK_SPEED = {"Hopper": "26.562 GB/s", "Ampere": "25 GB/s", "Blackwell": "50 GB/s"}


def version(head: Json) -> str:
    """`nvidia-smi --version`."""
    driver = head["driver"]
    nvml = ".".join(driver.split(".")[:2])
    return (
        f"NVIDIA-SMI version  : {driver}\nNVML version        : {nvml}\n"
        f"DRIVER version      : {driver}\nCUDA Version        : {head['cuda']}\n"
    )


def nvlink_status(hw: Json, ctxs: list[Ctx], down: set[int]) -> str:
    """`nvidia-smi nvlink -s`: every link's speed, `<inactive>` on a GPU whose links are down."""
    link = hw.get("nvlink") or {}
    out = []
    for ctx in ctxs:
        gpu = ctx["gpu"]
        out.append(f"GPU {gpu['index']}: {gpu['smi_name']} (UUID: {gpu['uuid']})")
        speed = LINK_SPEED.get(gpu["architecture"], "25 GB/s")
        for i in range(int(link.get("links", 0))):
            out.append(f"\t Link {i}: {'<inactive>' if gpu['phys'] in down else speed}")
    return "".join(f"{line}\n" for line in out)


def _samples(count: int, delay: float, emit: Any) -> None:
    n = 0
    while count <= 0 or n < count:
        if n:
            time.sleep(delay)
        emit()
        sys.stdout.flush()
        n += 1


def dmon(ctxs: list[Ctx], count: int, delay: float) -> None:
    """`nvidia-smi dmon [-c N] [-d S]`: one row per GPU and sample (forever without -c)."""
    head = (
        "# gpu    pwr  gtemp  mtemp     sm    mem    enc    dec    jpg    ofa   mclk   pclk \n"
        "# Idx      W      C      C      %      %      %      %      %      %    MHz    MHz \n"
    )

    def emit() -> None:
        rows = [head]
        for ctx in ctxs:
            gpu = ctx["gpu"]
            temp = smi_fields.temperature(ctx)
            pclk = str(smi_fields.value("clocks.current.graphics", ctx, True))
            rows.append(
                f"{gpu['index']:>5}{int(smi_fields.power_draw(ctx)):>7}{temp:>7}{temp + 6:>7}"
                + "      0" * 6
                + f"{gpu['clock_max_memory']:>7}{pclk:>7} \n"
            )
        sys.stdout.write("".join(rows))

    _samples(count, delay, emit)


def pmon(ctxs: list[Ctx], count: int, delay: float) -> None:
    """`nvidia-smi pmon [-c N] [-d S]`: no process runs on a simulated GPU, so `-` rows."""
    head = (
        "# gpu         pid   type     sm    mem    enc    dec    jpg    ofa    command \n"
        "# Idx           #    C/G      %      %      %      %      %      %    name \n"
    )

    def emit() -> None:
        rows = [head]
        for ctx in ctxs:
            rows.append(f"{ctx['gpu']['index']:>5}          -     -" + "      -" * 6 + "    -   \n")
        sys.stdout.write("".join(rows))

    _samples(count, delay, emit)
