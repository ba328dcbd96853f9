"""Operating a cluster: the `up` pipeline (with journal and resume) and teardown."""

from gpuforge.ops._deploy import Deployment, gpuforge_command
from gpuforge.ops._expect import pool_expectation
from gpuforge.ops._reporter import Reporter, SilentReporter
from gpuforge.ops._up import (
    STEPS,
    Pipeline,
    UpResult,
    fleet_known_hosts,
    trusted_host_keys,
    up_exit_code,
)

__all__ = [
    "STEPS",
    "Deployment",
    "Pipeline",
    "Reporter",
    "SilentReporter",
    "UpResult",
    "fleet_known_hosts",
    "gpuforge_command",
    "pool_expectation",
    "trusted_host_keys",
    "up_exit_code",
]
