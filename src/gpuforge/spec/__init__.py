"""The cluster spec: pydantic models, the position-keeping loader, and the JSON Schema."""

from typing import Any

from gpuforge.spec._cron import (
    MINUTES_PER_WEEK,
    Cron,
    ScheduledAction,
    nodes_by_minute,
    parse_cron,
    scaling_actions,
)
from gpuforge.spec._loader import SpecDocument, load_spec, load_spec_text
from gpuforge.spec._models import (
    Checks,
    ClusterSpec,
    Cost,
    Fabric,
    GpuSettings,
    Host,
    LockedClocks,
    MigConfig,
    Monitoring,
    MpsConfig,
    Optimize,
    OptimizePool,
    Pool,
    PoolGpu,
    PoolNetwork,
    RoceSettings,
    Rollout,
    Scheduler,
    ScheduleWindow,
    Security,
    SoftwareSpec,
    SpotHandling,
    StateConfig,
    Storage,
    Validation,
)
from gpuforge.spec._notation import PROVIDERS, TargetRef, parse_target


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a spec file, for editor completion and validation."""
    schema = ClusterSpec.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "gpuforge Cluster spec (gpuforge/v1)"
    return schema


__all__ = [
    "MINUTES_PER_WEEK",
    "PROVIDERS",
    "Checks",
    "ClusterSpec",
    "Cost",
    "Cron",
    "Fabric",
    "GpuSettings",
    "Host",
    "LockedClocks",
    "MigConfig",
    "Monitoring",
    "MpsConfig",
    "Optimize",
    "OptimizePool",
    "Pool",
    "PoolGpu",
    "PoolNetwork",
    "RoceSettings",
    "Rollout",
    "ScheduleWindow",
    "ScheduledAction",
    "Scheduler",
    "Security",
    "SoftwareSpec",
    "SpecDocument",
    "SpotHandling",
    "StateConfig",
    "Storage",
    "TargetRef",
    "Validation",
    "json_schema",
    "load_spec",
    "load_spec_text",
    "nodes_by_minute",
    "parse_cron",
    "parse_target",
    "scaling_actions",
]
