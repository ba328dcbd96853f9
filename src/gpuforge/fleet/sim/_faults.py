"""Fault injection: record a fault in the node's state and log what the real kernel would."""

from __future__ import annotations

import fcntl
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gpuforge.errors import FleetError, InputError
from gpuforge.fleet.sim._seed import STATE_DIR

FAULTS: Mapping[str, str] = {
    "xid": "an NVRM Xid on GPU `gpu` (code 79 fallen off the bus, 48 DBE, 63 row remap, ...)",
    "ecc-uncorrectable": "`count` uncorrectable ECC errors on GPU `gpu`; row remap pending",
    "gpu-missing": "GPU `gpu` is absent from the bus: the driver enumerates one GPU fewer",
    "ib-port-down": "the port of HCA `hca` (default mlx5_0; `all` for every one) is down",
    "ib-degraded": "the port of HCA `hca` trained at a lower `rate` (Gb/s, default half)",
    "nvlink-down": "the NVLinks of GPU `gpu` are down: traffic falls back to PCIe",
    "nccl-slow": "NCCL bus bandwidth multiplied by `factor` (default 0.5)",
    "package-fail": "the postinst of package `name` fails, as a broken DKMS build does",
    "thermal-throttle": "GPU `gpu` runs hot and its clocks are thermally throttled",
    "spot-interruption": "the metadata service (169.254.169.254) gives a spot interruption "
    "notice; `notice_s` seconds later (default 120) the node powers off, as a cloud reclaims it",
}
SPOT_NOTICE_S = 120

# Xid code -> the text after "pid=..., name=..., " as NVIDIA's driver logs it (XIDCAT and the
# captures in shared/reference/real-outputs/xid/).
_XID_TEXT = {
    79: "GPU has fallen off the bus.",
    48: "An uncorrectable double bit error (DBE) has been detected on GPU in the framebuffer "
    "at physAddr 0x12bac1c3e0 partition 2, subpartition 1.",
    63: "Row Remapper: New row (0x00000012bac1c3e0) marked for remapping, reset gpu to activate.",
    64: "Row Remapper: Failed to remap a row, reset gpu to activate.",
    74: "NVLink: fatal error detected on link 0(0x0, 0x0, 0x10000, 0x0, 0x0, 0x0, 0x0)",
    92: "High single-bit ECC error rate detected.",
    94: "Contained: SM (0x1). RST: No, D-RST: No",
    95: "Uncontained: LTC TAG (0x2,0x0). RST: Yes, D-RST: No",
    119: "Timeout after 6s of waiting for RPC response from GPU0 GSP! Expected function 76.",
    120: "GSP task exception: load access page fault (cause:0xd) @ pc:0x13636b2, partition:2#0",
    13: "Graphics SM Warp Exception on (GPC 0, TPC 0, SM 0): Out Of Range Address",
    31: "Ch 00000008, intr 10000000. MMU Fault: ENGINE GRAPHICS GPCCLIENT_T1_0 faulted @ "
    "0x7f02_3a000000. Fault is of type FAULT_PDE ACCESS_TYPE_VIRT_READ",
    43: "Ch 00000008",
    45: "Ch 00000008",
    68: "NVDEC0: exception",
}


def _state_path(root: Path) -> Path:
    path = root / STATE_DIR / "state.json"
    if not path.is_file():
        raise FleetError(
            f"no simulated hardware state at {path}",
            fix="start the node with `gpuforge fleet up` (it seeds the state) before injecting",
        )
    return path


def _edit(root: Path, change: Any) -> None:
    path = _state_path(root)
    with (path.parent / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = json.loads(path.read_text())
        change(state)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
        tmp.replace(path)


def _klog(root: Path, lines: list[str]) -> None:
    now = time.time()
    with (root / STATE_DIR / "kmsg.log").open("a") as f:
        for line in lines:
            f.write(f"{now:.6f}\t{line}\n")


def _gpu_index(root: Path, params: dict[str, Any]) -> tuple[int, str]:
    hardware = json.loads((root / STATE_DIR / "hardware.json").read_text())
    gpus = hardware["gpus"]
    index = int(params.get("gpu", 0))
    if not 0 <= index < len(gpus):
        raise InputError(
            f"GPU {index} does not exist on this node (it has {len(gpus)})",
            fix=f"pass gpu=0..{len(gpus) - 1}",
        )
    return index, str(gpus[index]["bus_id"])


def _kernel_lines(root: Path, fault: str, params: dict[str, Any]) -> list[str]:
    if fault not in ("xid", "ecc-uncorrectable", "gpu-missing", "nvlink-down"):
        return []
    index, bus = _gpu_index(root, params)
    short = bus[4:].lower().rsplit(".", 1)[0]
    if fault == "gpu-missing":
        return ["NVRM: The NVIDIA probe routine failed for 1 device(s)."]
    if fault == "nvlink-down":
        return [f"NVRM: Xid (PCI:{short}): 74, pid='<unknown>', name=<unknown>, {_XID_TEXT[74]}"]
    code = int(params.get("code", 79)) if fault == "xid" else 48
    text = _XID_TEXT.get(code, "Unknown error")
    lines = [f"NVRM: Xid (PCI:{short}): {code}, pid='<unknown>', name=<unknown>, {text}"]
    if code == 48:
        lines.append(
            f"NVRM: Xid (PCI:{short}): 63, pid='<unknown>', name=<unknown>, {_XID_TEXT[63]}"
        )
    if code == 79:
        lines += [
            f"NVRM: GPU at PCI:{bus[4:]}: GPU-{index}",
            f"NVRM: GPU Board Serial Number: {index:013d}",
        ]
    return lines


def _spot_params(params: dict[str, Any]) -> dict[str, Any]:
    """A spot interruption's notice period (checked) and the moment it was given."""
    notice = params.get("notice_s", SPOT_NOTICE_S)
    if not isinstance(notice, int) or isinstance(notice, bool) or not 1 <= notice <= 3600:
        raise InputError(
            f"spot-interruption: notice period {notice!r} is not 1-3600 seconds",
            fix="pass notice_s=120 (AWS gives two minutes, Azure and GCP 30 seconds)",
        )
    return {"action": "terminate", "notice_s": notice, "at": time.time()}


def inject_fault(root: Path, fault: str, **params: Any) -> None:
    """Make the node at `root` fail like real hardware: state for the tools, lines for dmesg."""
    if fault not in FAULTS:
        raise InputError(
            f"unknown fault {fault!r}",
            fix=f"use one of: {', '.join(sorted(FAULTS))}",
        )
    if fault == "package-fail" and not params.get("name"):
        raise InputError("fault package-fail needs the package name", fix="pass name=PACKAGE")
    if fault == "spot-interruption":
        params = _spot_params(params)
    _state_path(root)
    lines = _kernel_lines(root, fault, params)
    record = {"name": fault, "params": {k: v for k, v in sorted(params.items())}}
    _edit(root, lambda state: state.setdefault("faults", []).append(record))
    if lines:
        _klog(root, lines)


def active_faults(root: Path) -> list[str]:
    """Names of the faults now injected into the node at `root` (for `fleet status`)."""
    state = json.loads(_state_path(root).read_text())
    return [str(f["name"]) for f in state.get("faults", [])]


def heal(root: Path) -> None:
    """Clear every injected fault of the node at `root` (its kernel log keeps the history)."""
    _edit(root, lambda state: state.update(faults=[]))
