"""GF-STATE: Terraform state must be shared and locked for clouds, and its backend complete."""

from __future__ import annotations

from collections.abc import Iterator

from gpuforge.check._context import CLOUDS, CheckContext
from gpuforge.check._registry import Hit, rule


@rule("GF-STATE-001", "S3 state backend without a region", "error")
def s3_region(ctx: CheckContext) -> Iterator[Hit]:
    """The S3 backend needs a region; only AWS targets let gpuforge infer it."""
    state = ctx.doc.spec.state
    if state.backend != "s3" or state.region:
        return
    others = sorted({str(f.target) for f in ctx.pools.values() if f.target.provider != "aws"})
    if others:
        yield Hit(
            f"state backend s3 has no region, and targets {', '.join(others)} are not on AWS",
            "set state.region to the bucket's region",
            ("state", "backend"),
        )


@rule("GF-STATE-002", "cloud cluster with local state", "warning")
def local_state_for_cloud(ctx: CheckContext) -> Iterator[Hit]:
    """Local state is neither shared nor locked: two operators can corrupt it."""
    if ctx.doc.spec.state.backend != "local":
        return
    clouds = sorted({str(f.target) for f in ctx.pools.values() if f.target.provider in CLOUDS})
    if clouds:
        yield Hit(
            f"Terraform state for {', '.join(clouds)} stays on this machine, unlocked",
            "use state: {backend: s3, bucket: ..., lock_table: ...} (or gcs, azurerm)",
            ("state",) if "state" in ctx.doc.spec.model_fields_set else (),
        )
