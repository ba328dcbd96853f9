"""One class per target (aws, azure, gcp, vsphere, onprem, local) behind one interface:
instance types, regions, prices, fabrics, spot semantics, module inputs, checks."""

from gpuforge.providers._base import (
    CloudProvider,
    PoolRender,
    Provider,
    ProviderConfig,
    Ref,
    Resource,
    RootRender,
    ScaleIn,
    ScaleInUnsupported,
    SharedInputs,
    Shortfall,
    SpotSemantics,
    Variable,
)
from gpuforge.providers._targets import (
    AZURE_DAYS,
    Aws,
    Azure,
    Gcp,
    Local,
    Onprem,
    ScheduleShapeError,
    Vsphere,
)
from gpuforge.spec import TargetRef

PROVIDERS: dict[str, Provider] = {
    p.name: p for p in (Aws(), Azure(), Gcp(), Vsphere(), Onprem(), Local())
}


def provider_for(target: TargetRef | str) -> Provider:
    """The provider of a target (`aws/us-east-1`) or a provider name (`aws`)."""
    name = target.provider if isinstance(target, TargetRef) else target
    return PROVIDERS[name]


def clouds() -> list[str]:
    """Names of the targets with a market (instance types, regions, prices, spot)."""
    return [name for name, p in PROVIDERS.items() if p.has_market]


__all__ = [
    "AZURE_DAYS",
    "PROVIDERS",
    "Aws",
    "Azure",
    "CloudProvider",
    "Gcp",
    "Local",
    "Onprem",
    "PoolRender",
    "Provider",
    "ProviderConfig",
    "Ref",
    "Resource",
    "RootRender",
    "ScaleIn",
    "ScaleInUnsupported",
    "ScheduleShapeError",
    "SharedInputs",
    "Shortfall",
    "SpotSemantics",
    "Variable",
    "Vsphere",
    "clouds",
    "provider_for",
]
