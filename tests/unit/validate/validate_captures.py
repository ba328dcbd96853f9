"""Shared helpers for the validate tests: the real captures, and a healthy collected node."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from gpuforge.validate import NodeExpectation, NodeFacts, collect_from_dir

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "validate" / "real"


def real(name: str) -> str:
    """The text of one real capture, minus line 1 (the `# source:` note the tool never printed)."""
    return (REAL / name).read_text(encoding="utf-8").split("\n", 1)[1]


def captures(kind: str) -> list[str]:
    """Every capture of one kind (a folder under real/), as names relative to real/."""
    return sorted(f"{kind}/{p.name}" for p in (REAL / kind).iterdir())


# A healthy 8x H100 node and the expectation it meets; tests break one fact at a time.
HEALTHY = collect_from_dir(REAL.parent / "nodes" / "h100-healthy", "node-a")
EXPECT = NodeExpectation(
    pool="training",
    gpu_model_smi_names=("NVIDIA H100 80GB HBM3",),
    gpu_count=8,
    driver_version="550",
    cuda_version="12.4",
    nccl_version="2.21.5",
    persistence_mode=True,
    power_limit_w=700,
    compute_mode="EXCLUSIVE_PROCESS",
    nvlink="NV18",
    hca_count=8,
    hca_rate_gbps=200,
    hca_link_layer="InfiniBand",
    dcgm_level=1,
    nccl_min_busbw_gbps=80,
)


def with_gpu(index: int, **changes: object) -> NodeFacts:
    """The healthy node with one GPU's facts changed, to break one rule at a time."""
    gpus = list(HEALTHY.gpus)
    gpus[index] = replace(gpus[index], **changes)  # type: ignore[arg-type]
    return replace(HEALTHY, gpus=tuple(gpus))
