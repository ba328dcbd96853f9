"""GF-STACK: driver, CUDA, cuDNN, NCCL, kernel modules and OS must fit the GPU and each other."""

from __future__ import annotations

from collections.abc import Iterator

from gpuforge.catalog import Version, judge_cuda
from gpuforge.check._context import CheckContext
from gpuforge.check._registry import Hit, rule
from gpuforge.check._stack import NOT_OFFERED, UNCATALOGUED, is_eol


def _conflicts(ctx: CheckContext, code: str) -> Iterator[Hit]:
    for name in ctx.pools:
        result = ctx.stack(name)
        if result is None:
            continue
        for conflict in (*result.conflicts, *result.notices):
            if conflict.code == code:
                field = conflict.field.split(".", 1)[1] if "." in conflict.field else ""
                path = (
                    ctx.software_path(name, field)
                    if conflict.field.startswith("software.")
                    else ("pools", name, "gpu")
                )
                yield Hit(f"pool {name}: {conflict.message}", conflict.fix, path, name)


@rule("GF-STACK-001", "driver below the CUDA toolkit's minimum", "error")
def driver_below_cuda_floor(ctx: CheckContext) -> Iterator[Hit]:
    """A CUDA toolkit needs a minimum driver (CUDA release notes, Table 3)."""
    yield from _conflicts(ctx, "GF-STACK-001")


@rule("GF-STACK-002", "CUDA release dropped the GPU's architecture", "error")
def cuda_drops_architecture(ctx: CheckContext) -> Iterator[Hit]:
    """CUDA 13 dropped Maxwell, Pascal and Volta: V100 + CUDA 13 cannot work."""
    yield from _conflicts(ctx, "GF-STACK-002")


@rule("GF-STACK-003", "GPU newer than the driver or CUDA", "error")
def gpu_newer_than_stack(ctx: CheckContext) -> Iterator[Hit]:
    """A GPU needs the driver and CUDA release that introduced it (B200: 570.26 / 12.8)."""
    yield from _conflicts(ctx, "GF-STACK-003")


@rule("GF-STACK-004", "driver branch past end of life", "warning")
def eol_branch(ctx: CheckContext) -> Iterator[Hit]:
    """An end-of-life branch still runs but gets no security or bug fixes."""
    for name in ctx.pools:
        result = ctx.stack(name)
        if result is None or result.stack is None:
            continue
        branch = result.stack.driver_branch
        if is_eol(ctx.catalog, branch, ctx.as_of):
            info = ctx.catalog.branches[branch]
            yield Hit(
                f"pool {name}: driver branch R{branch} ({info.type}) reached end of life on "
                f"{info.eol}; it gets no more fixes",
                "move to a supported branch, e.g. R580 (LTSB) or R595 (PB)",
                ctx.software_path(name, "driver"),
                name,
            )


@rule("GF-STACK-005", "kernel module flavour does not fit the GPU", "error")
def module_flavour(ctx: CheckContext) -> Iterator[Hit]:
    """Open modules need Turing+; Blackwell and Grace Hopper need them."""
    yield from _conflicts(ctx, "GF-STACK-005")


@rule("GF-STACK-006", "cuDNN built for another CUDA", "error")
def cudnn_mismatch(ctx: CheckContext) -> Iterator[Hit]:
    """Each cuDNN build serves one CUDA major and a range of minors and compute capabilities."""
    yield from _conflicts(ctx, "GF-STACK-006")


@rule("GF-STACK-007", "NCCL built for another CUDA", "error")
def nccl_mismatch(ctx: CheckContext) -> Iterator[Hit]:
    """libnccl2 ships per-CUDA builds (+cudaX.Y); one must match the toolkit's major."""
    yield from _conflicts(ctx, "GF-STACK-007")


@rule("GF-STACK-008", "CUDA runs only through minor-version compatibility", "warning")
def minor_version_compat(ctx: CheckContext) -> Iterator[Hit]:
    """Below the toolkit's own driver floor, apps run with a reduced feature set (no PTX JIT)."""
    for name in ctx.pools:
        result = ctx.stack(name)
        if result and result.stack and result.stack.minor_version_compat:
            release = judge_cuda(ctx.catalog, Version.parse(result.stack.cuda))
            floor = release.min_driver if release else "?"
            yield Hit(
                f"pool {name}: driver {result.stack.driver} is below CUDA {result.stack.cuda}'s "
                f"minimum {floor}; it runs through minor-version compatibility only "
                "(no PTX JIT of newer code)",
                f"use driver {floor} or newer for the full feature set",
                ctx.software_path(name, "driver"),
                name,
            )


@rule("GF-STACK-009", "OS not supported by the driver or CUDA", "error")
def os_support(ctx: CheckContext) -> Iterator[Hit]:
    """NVIDIA packages each driver branch and CUDA release for specific distributions."""
    yield from _conflicts(ctx, "GF-STACK-009")


@rule("GF-STACK-010", "version outside every known branch or series", "error")
def unknown_version(ctx: CheckContext) -> Iterator[Hit]:
    """A version gpuforge knows nothing of (no such branch or series) cannot be judged or pinned."""
    yield from _conflicts(ctx, "GF-STACK-010")


@rule("GF-STACK-011", "GPU past its last driver branch", "error")
def past_last_driver(ctx: CheckContext) -> Iterator[Hit]:
    """Volta's last driver branch is R580; newer branches do not support it."""
    yield from _conflicts(ctx, "GF-STACK-011")


@rule("GF-STACK-012", "GPU vendor not served by the NVIDIA stack", "error")
def non_nvidia(ctx: CheckContext) -> Iterator[Hit]:
    """AMD GPUs (MI300X) need ROCm, not the NVIDIA driver and CUDA."""
    yield from _conflicts(ctx, "GF-STACK-012")


@rule("GF-STACK-013", "NCCL predates the GPU architecture", "error")
def nccl_too_old(ctx: CheckContext) -> Iterator[Hit]:
    """NCCL gained Blackwell support in 2.25.1."""
    yield from _conflicts(ctx, "GF-STACK-013")


@rule(UNCATALOGUED, "version not in the catalog, judged by its branch or series", "info")
def uncatalogued_version(ctx: CheckContext) -> Iterator[Hit]:
    """A well-formed version of a known branch (580.65.06 of R580) is accepted by what is known
    of the branch or series; the catalog simply has not listed it."""
    yield from _conflicts(ctx, UNCATALOGUED)


@rule(NOT_OFFERED, "no matching version in the repository", "error")
def not_in_repository(ctx: CheckContext) -> Iterator[Hit]:
    """Locked against a repository index, only versions the repository offers can be pinned."""
    yield from _conflicts(ctx, NOT_OFFERED)
