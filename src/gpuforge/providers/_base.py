"""The interface every target implements: what it offers (instance types, regions, prices,
fabrics, spot), what its Terraform module takes, and the checks only it can judge.

Knowledge about one cloud or site lives in its class, never in `if provider == ...` branches
elsewhere; a new target is one class here plus one Terraform module. Rendering needs values
the layers above compute (HCL expressions, the local fleet's hardware profiles): the classes
return plain data with `Ref` for expressions, and take those values as arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from gpuforge.catalog import Catalog, InstanceType
from gpuforge.spec import ClusterSpec, Pool, ScheduledAction, TargetRef


@dataclass(frozen=True)
class Ref:
    """An HCL expression (a variable or resource attribute), not a string."""

    expr: str


@dataclass(frozen=True)
class Variable:
    """A root-module variable: name, description, HCL type, default (`...`: required)."""

    name: str
    description: str
    type: str
    default: Any = ...


@dataclass(frozen=True)
class Resource:
    """A root-module resource block with plain attributes."""

    type: str
    name: str
    attrs: dict[str, Any]


@dataclass(frozen=True)
class ProviderConfig:
    """The `provider` block of a root: attributes, nested blocks, and a header note."""

    name: str
    attrs: dict[str, Any] = field(default_factory=dict)
    blocks: dict[str, dict[str, Any]] = field(default_factory=dict)
    note: str = ""


@dataclass
class SharedInputs:
    """What every pool of a target shares: root variables, their values, extra resources."""

    variables: list[Variable] = field(default_factory=list)
    tfvars: dict[str, Any] = field(default_factory=dict)
    resources: list[Resource] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Shortfall:
    """Something a target cannot do for a pool: what, how to fix it, and whether the instance
    type (rather than the target) is the cause."""

    message: str
    fix: str
    instance: bool = False


@dataclass(frozen=True)
class SpotSemantics:
    """How a target's spot capacity is reclaimed and what stands in when it is.

    `metadata` names the instance metadata contract a node reads its notice from (aws: IMDSv2
    spot/instance-action, azure: Scheduled Events, gcp: instance/preempted): the spot watcher's
    dialect.
    """

    notice: str
    notice_source: str
    fallback: str
    metadata: str


@dataclass(frozen=True)
class RootRender:
    """What the renderer knows of one target's root when it asks for the shared inputs."""

    spec: ClusterSpec
    target: TargetRef
    ssh_cidrs: list[str]
    local_subnet: Callable[[], str]


@dataclass(frozen=True)
class ScaleIn:
    """One documented cloud request of a scale-in: its API operation, and the same request
    through the cloud's own CLI (an argument list, never a shell line)."""

    operation: str
    argv: tuple[str, ...]


class ScaleInUnsupported(ValueError):
    """The target cannot remove chosen nodes (the message says why and what happens instead)."""


@dataclass(frozen=True)
class PoolRender:
    """What the renderer knows of one pool when it asks a provider for the module inputs."""

    spec: ClusterSpec
    name: str
    pool: Pool
    target: TargetRef
    gpu: str
    gpus_per_node: int
    first_host: int
    # Node index -> host number within the target's subnet, where the target names nodes
    members: dict[int, int]
    public_ip: bool
    labels: dict[str, str]
    actions: list[ScheduledAction]
    instance_type: Callable[[], str]
    hardware_profile: Callable[[], str]


class Provider:
    """A target: a cloud, a vSphere datacenter, on-premises machines, or the local fleet."""

    name: ClassVar[str]
    module: ClassVar[str]
    # (local name, source, version constraint) of its Terraform provider, or None
    terraform_provider: ClassVar[tuple[str, str, str] | None] = None
    # Instance types with regions, prices and a spot market (the three public clouds)
    has_market: ClassVar[bool] = False
    # Fabric types it can deliver between nodes
    fabrics: ClassVar[frozenset[str]] = frozenset({"ethernet", "roce", "infiniband"})
    spot: ClassVar[SpotSemantics | None] = None
    # How `cost.schedule` is rendered, or None; `schedule_gap` says why not
    schedules: ClassVar[str | None] = None
    schedule_gap: ClassVar[str] = "a timer would run `gpuforge scale`, which does not exist yet"
    # Pools list their machines (`hosts`) instead of creating them
    needs_hosts: ClassVar[bool] = False
    # A pool size above which the target gets slow (the local fleet), or None
    node_warn_limit: ClassVar[int | None] = None
    # The values of software.os the target's nodes can run, or None for any the catalog knows
    presented_os: ClassVar[tuple[str, ...] | None] = None
    # The state backend native to the target, which gpuforge can default settings for
    state_backend: ClassVar[str | None] = None
    # Nodes are simulated on this machine (the local fleet): SSH, hardware profiles, keys
    simulated: ClassVar[bool] = False
    # Nodes' SSH daemon is the OS's ssh.service, which the hardening role configures (the local
    # fleet runs its own, keys-only sshd outside any service manager)
    os_sshd: ClassVar[bool] = True
    # The software repository `auto` means: NVIDIA's CUDA repository, or the fleet's own
    local_repository: ClassVar[bool] = False
    # Nodes have their own cgroup file system, where Slurm tracks jobs (the fleet's have none)
    cgroups: ClassVar[bool] = True
    # The module keys nodes by a stable name and takes each pool's members (index -> host
    # number), so any node can be removed and no pool's change moves another's nodes
    names_nodes: ClassVar[bool] = False
    # Which nodes a pool that shrinks loses, in words
    shrinks: ClassVar[str] = "its highest-numbered nodes (the module counts them)"

    #### Nodes ####

    def node_name(self, cluster: str, pool: str, index: int) -> str:
        """The name (and inventory host) of a pool's node `index`, where `names_nodes`."""
        del cluster  # names are unique within the cluster
        return f"{pool}-{index}"

    def scale_in(
        self, target: TargetRef, group: str, instances: Sequence[str], keep: int
    ) -> list[ScaleIn]:
        """The requests that remove the chosen `instances` from a pool's scale-set `group`
        and leave it `keep` nodes, before Terraform applies the smaller count. ScaleInUnsupported
        where the target has no such group (`names_nodes` targets drop members instead)."""
        del target, group, instances, keep  # no scale-set group
        raise ScaleInUnsupported(
            f"{self.name} pools have no scale-set group: a pool that shrinks loses {self.shrinks}"
        )

    #### Instance types, regions, prices ####

    def instance(self, catalog: Catalog, name: str) -> InstanceType | None:
        """An instance type by name (None where the target has no instance types)."""
        del catalog, name  # no instance types
        return None

    def instances_for(
        self, catalog: Catalog, gpu: str, count: int, region: str
    ) -> list[InstanceType]:
        """Instance types with `count` x `gpu` in `region`, cheapest first."""
        del catalog, gpu, count, region  # no instance types
        return []

    def regions(self, catalog: Catalog) -> list[str]:
        """Regions where any of its GPU instance types is offered."""
        del catalog  # no regions
        return []

    #### Checks ####

    def fabric_problem(self, fabric: str, instance: InstanceType | None) -> Shortfall | None:
        """What keeps the target (or the instance type) from delivering `fabric`, or None."""
        del instance  # the same for every machine of a site
        if fabric in self.fabrics:
            return None
        return Shortfall(f"{self.name} offers no {fabric}", f"use fabric type {min(self.fabrics)}")

    def efa_problem(self, target: TargetRef, instance: InstanceType | None) -> Shortfall | None:
        """What keeps `network.efa` from working on this target and instance type, or None."""
        del instance  # EFA is AWS's
        return Shortfall(
            f"EFA exists only on AWS; the pool runs on {target}",
            "remove network.efa, or use fabric infiniband/roce on this target",
        )

    def schedule_problem(self, actions: list[ScheduledAction]) -> str | None:
        """Why the target's scaling mechanism cannot express `actions`, or None."""
        del actions  # anything a weekly cron says is rendered or only estimated
        return None

    #### Terraform ####

    def backend_region(self, target: TargetRef) -> str | None:
        """The S3 state region gpuforge can infer from the target (AWS: its region)."""
        del target  # not an AWS region
        return None

    def instance_type(self, catalog: Catalog, target: TargetRef, gpu: str, count: int) -> str:
        """The machine kind a pool of `count` x `gpu` gets when it names none."""
        options = self.instances_for(catalog, gpu, count, target.location)
        return options[0].name if options else f"{count}x{gpu}"

    def provider_config(self, spec: ClusterSpec, target: TargetRef) -> ProviderConfig | None:
        """The root's `provider` block, or None when the module needs none."""
        del spec, target  # no provider block
        return None

    def shared_inputs(self, ctx: RootRender) -> SharedInputs:
        """Root variables and module inputs every pool of the target shares."""
        del ctx  # nothing shared
        return SharedInputs()

    def pool_inputs(self, ctx: PoolRender) -> dict[str, Any]:
        """The module inputs of one pool beyond name, count, GPU model/count and market."""
        raise NotImplementedError

    def machine_inputs(self, ctx: PoolRender) -> dict[str, Any]:
        """Instance type, placement and disks: the inputs every machine-creating module takes."""
        pool = ctx.pool
        return {
            "instance_type": pool.instance_type or ctx.instance_type(),
            "placement_group": pool.placement_group if pool.placement_group is not None else True,
            "root_gb": pool.storage.root_gb,
            "scratch_gb": pool.storage.scratch_gb,
            "scratch_iops": pool.storage.iops,
            "scratch_throughput_mbps": pool.storage.throughput_mbps,
        }


class CloudProvider(Provider):
    """A public cloud: instance types from the catalog, regions, prices, a spot market."""

    has_market = True

    def instance(self, catalog: Catalog, name: str) -> InstanceType | None:
        """An instance type of this cloud by name."""
        return catalog.instance(self.name, name)

    def instances_for(
        self, catalog: Catalog, gpu: str, count: int, region: str
    ) -> list[InstanceType]:
        """Instance types with `count` x `gpu` in `region`, cheapest on-demand first."""
        return catalog.instances_for(self.name, gpu, count, region)

    def regions(self, catalog: Catalog) -> list[str]:
        """Regions where any of its GPU instance types is offered."""
        return sorted(
            {r for (c, _), it in catalog.instances.items() if c == self.name for r in it.regions}
        )

    def shared_inputs(self, ctx: RootRender) -> SharedInputs:
        """The SSH key variable and source ranges, which every machine-creating module takes."""
        return ssh_inputs(ctx)


def ssh_inputs(ctx: RootRender) -> SharedInputs:
    """The SSH inputs of modules that create machines (clouds and vSphere)."""
    return SharedInputs(
        variables=[
            Variable(
                "ssh_public_key",
                "OpenSSH public key for the nodes' admin user (set TF_VAR_ssh_public_key).",
                "string",
                ctx.spec.security.ssh_public_key,
            )
        ],
        values={"ssh_cidrs": ctx.ssh_cidrs, "ssh_public_key": Ref("var.ssh_public_key")},
    )
