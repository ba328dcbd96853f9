"""GF-LOCK: the lock next to the spec must exist, match it, and pin what the repository offers."""

from __future__ import annotations

from collections.abc import Iterator

from gpuforge.check._context import CheckContext
from gpuforge.check._lock import inputs_digest, parse_lock
from gpuforge.check._registry import Hit, rule
from gpuforge.errors import FileError
from gpuforge.files import load_yaml


@rule("GF-LOCK-001", "no lock file yet", "info")
def lock_missing(ctx: CheckContext) -> Iterator[Hit]:
    """Without a lock, each run may resolve `auto` versions differently."""
    if ctx.lock_text is None:
        yield Hit(
            "no lock file next to the spec: versions are resolved afresh on every run",
            "run `gpuforge lock` and commit the lock file",
            (),
        )


@rule("GF-LOCK-002", "lock does not match the spec", "error")
def lock_stale(ctx: CheckContext) -> Iterator[Hit]:
    """A spec edited after `gpuforge lock` would deploy versions nobody reviewed."""
    if ctx.lock_text is None:
        return
    try:
        data = load_yaml(ctx.lock_text, "lock")
    except FileError:
        data = None
    if not isinstance(data, dict) or "inputs_digest" not in data:
        yield Hit("the lock file is unreadable", "delete it and run `gpuforge lock`", ())
        return
    if data["inputs_digest"] != inputs_digest(ctx.doc.spec):
        yield Hit(
            "the spec changed since the lock was written (software, GPUs or targets differ)",
            "run `gpuforge lock` to re-pin the stack, then review the diff",
            (),
        )


@rule("GF-LOCK-003", "pinned package missing from the repository", "error")
def lock_not_offered(ctx: CheckContext) -> Iterator[Hit]:
    """A pin the nodes' repository does not offer fails at install time; say so before."""
    if ctx.lock_text is None or ctx.repo is None:
        return
    try:
        lock = parse_lock(ctx.lock_text, "lock")
    except FileError:
        return  # GF-LOCK-002 reports an unreadable lock
    for pool, entry in lock.pools.items():
        missing = [str(p) for p in entry.packages if not ctx.repo.offers(p)]
        if missing:
            path = ("pools", pool) if pool in ctx.doc.spec.pools else ()
            yield Hit(
                f"pool {pool}: the lock pins {', '.join(missing)}, which the repository "
                f"{ctx.repo.source} does not offer",
                "run `gpuforge lock --repo` against the nodes' repository to re-pin, or add "
                "those versions to the repository",
                path,
                pool if pool in ctx.doc.spec.pools else None,
            )
