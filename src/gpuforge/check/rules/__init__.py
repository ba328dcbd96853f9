"""Check rules, one module per area; importing this package registers them all."""

from gpuforge.check.rules import (
    cloud,
    cost,
    gpu,
    lock,
    mig,
    network,
    pools,
    security,
    stack,
    state,
)

__all__ = ["cloud", "cost", "gpu", "lock", "mig", "network", "pools", "security", "stack", "state"]
