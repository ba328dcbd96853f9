"""GF-STATE: Terraform state must be shared and locked for clouds, and its backend complete.

Remote state always locks: DynamoDB or S3's own lock file for s3; gcs and azurerm lock by
themselves.
"""

from __future__ import annotations

from collections.abc import Iterator

from gpuforge.check._context import CheckContext
from gpuforge.check._registry import Hit, rule


@rule("GF-STATE-001", "S3 state backend without a region", "error")
def s3_region(ctx: CheckContext) -> Iterator[Hit]:
    """The S3 backend needs a region; only AWS targets let gpuforge infer it."""
    state = ctx.doc.spec.state
    if state.backend != "s3" or state.region:
        return
    others = sorted(
        {str(f.target) for f in ctx.pools.values() if f.provider.backend_region(f.target) is None}
    )
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
    clouds = sorted({str(f.target) for f in ctx.pools.values() if f.provider.has_market})
    if clouds:
        yield Hit(
            f"Terraform state for {', '.join(clouds)} stays on this machine, unlocked",
            "use state: {backend: s3, bucket: ..., lock_table: ...} (or gcs, azurerm)",
            ("state",) if "state" in ctx.doc.spec.model_fields_set else (),
        )


@rule("GF-STATE-003", "S3 state locked with S3's own lock file", "info")
def s3_lockfile(ctx: CheckContext) -> Iterator[Hit]:
    """Remote state always locks: an S3 backend without lock_table renders `use_lockfile`."""
    state = ctx.doc.spec.state
    if state.backend != "s3" or state.lock_table:
        return
    yield Hit(
        "state backend s3 has no lock_table: the state is locked with S3's native lock file "
        "(use_lockfile = true), which needs Terraform >= 1.10 or OpenTofu >= 1.8",
        "run Terraform >= 1.10 or OpenTofu >= 1.8, or set state.lock_table to a DynamoDB table "
        "to lock with it instead",
        ("state", "backend"),
    )
