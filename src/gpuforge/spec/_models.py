"""The cluster spec (`apiVersion: gpuforge/v1`, `kind: Cluster`) as pydantic v2 models.

Every section but `name`, `target` and one pool has defaults. Compact notations are accepted
and normalised by "before" validators, so a loaded spec always holds the canonical form.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from gpuforge.catalog import load_catalog, parse_requirement
from gpuforge.spec._cron import ScheduledAction, parse_cron, scaling_actions
from gpuforge.spec._labels import label_problem
from gpuforge.spec._notation import (
    TargetRef,
    check_name,
    command_argv,
    parse_batch,
    parse_gpu,
    parse_speed_gbps,
    parse_target,
)
from gpuforge.spec._text import (
    HostAddress,
    Identifier,
    LoginName,
    RepositoryUrl,
    SshPublicKey,
    Text,
)

Market = Literal["on-demand", "spot", "spot-with-fallback"]
_COMPUTE_MODE_ALIASES = {"0": "DEFAULT", "1": "EXCLUSIVE_PROCESS", "2": "PROHIBITED"}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


def _version_text(value: Any) -> str:
    return str(parse_requirement(value))


def _compute_mode(value: Any) -> Any:
    text = str(value).strip().upper().replace("-", "_")
    return _COMPUTE_MODE_ALIASES.get(text, text)


def _mig_off(value: Any) -> Any:
    return None if value in (False, "none", "disabled", "off") else value


def _known_os(value: str) -> str:
    known = load_catalog().os_releases
    if value not in known:
        raise ValueError(f"unsupported OS {value!r}; supported: {', '.join(known)}")
    return value


def _target(value: Any) -> TargetRef:
    return value if isinstance(value, TargetRef) else parse_target(value)


VersionText = Annotated[
    str,
    BeforeValidator(_version_text),
    Field(description='auto, an exact version, a branch/release ("535", "12.2") or a range'),
]
ComputeMode = Annotated[
    Literal["DEFAULT", "EXCLUSIVE_PROCESS", "PROHIBITED"], BeforeValidator(_compute_mode)
]
OsName = Annotated[str, AfterValidator(_known_os)]
Target = Annotated[
    TargetRef,
    BeforeValidator(_target),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^(aws|azure|gcp|vsphere)/[A-Za-z0-9_.-]+$|^(onprem|local)$",
            "description": "aws/<region>, azure/<region>, gcp/<region>, vsphere/<dc>, "
            "onprem, local",
        }
    ),
]


class StateConfig(_Section):
    """Where Terraform keeps state, with locking for the remote backends."""

    backend: Literal["local", "s3", "gcs", "azurerm"] = "local"
    path: Text | None = Field(None, description="local: state file path")
    bucket: Identifier | None = Field(None, description="s3/gcs: bucket name")
    key: Text | None = Field(
        None, description="s3: object key; default <cluster>/terraform.tfstate"
    )
    region: Identifier | None = Field(None, description="s3: bucket region")
    lock_table: Identifier | None = Field(None, description="s3: DynamoDB table used for locking")
    prefix: Text | None = Field(None, description="gcs: object prefix")
    resource_group: Identifier | None = Field(None, description="azurerm: storage account group")
    storage_account: Identifier | None = Field(None, description="azurerm: storage account")
    container: Identifier | None = Field(None, description="azurerm: blob container")

    @model_validator(mode="after")
    def _backend_settings(self) -> StateConfig:
        needed = {
            "s3": ("bucket",),
            "gcs": ("bucket",),
            "azurerm": ("resource_group", "storage_account", "container"),
        }.get(self.backend, ())
        missing = [name for name in needed if not getattr(self, name)]
        if missing:
            raise ValueError(f"backend {self.backend!r} needs {', '.join(missing)}")
        return self


class Storage(_Section):
    """Disks per node: root volume and a scratch volume sized for checkpoints and datasets."""

    root_gb: int = Field(200, ge=30, le=16384)
    scratch_gb: int = Field(0, ge=0, le=65536)
    iops: int | None = Field(None, ge=3000, le=256000)
    throughput_mbps: int | None = Field(None, ge=125, le=10000)


class PoolNetwork(_Section):
    """Per-pool networking: EFA interfaces on AWS, and whether nodes get public addresses."""

    efa: bool = False
    public_ip: bool | None = None


class MigConfig(_Section):
    """MIG on every GPU of the pool: a named layout or profile -> instances per GPU."""

    layout: Identifier | None = None
    devices: dict[Identifier, int] = Field(default_factory=dict)
    groups: dict[Identifier, str] = Field(
        default_factory=dict,
        description="profile -> group: that profile's instances are for the group alone (their "
        "capability files root:<group> 0440), e.g. {'1g.10gb': inference}",
    )

    @model_validator(mode="before")
    @classmethod
    def _compact(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"layout": value}
        if isinstance(value, dict) and not ({"layout", "devices", "groups"} & set(value)):
            return {"devices": value}
        return value

    @field_validator("groups")
    @classmethod
    def _groups(cls, value: dict[str, str]) -> dict[str, str]:
        for group in value.values():
            _posix_name(group, "group")
        return value

    @model_validator(mode="after")
    def _one_form(self) -> MigConfig:
        if self.layout and self.devices:
            raise ValueError("give either a layout name or a profile map, not both")
        if not self.layout and not self.devices:
            raise ValueError("MIG needs a layout (e.g. all-balanced) or profiles ({'3g.40gb': 2})")
        for profile, count in self.devices.items():
            if not isinstance(count, int) or count < 1:
                raise ValueError(f"MIG profile {profile!r} needs a count of at least 1")
        return self


MigSetting = Annotated[MigConfig | None, BeforeValidator(_mig_off)]


class LockedClocks(_Section):
    """GPU clocks locked to a range (`nvidia-smi -lgc MIN,MAX`)."""

    min_mhz: int = Field(ge=100, le=4000)
    max_mhz: int = Field(ge=100, le=4000)

    @model_validator(mode="after")
    def _ordered(self) -> LockedClocks:
        if self.min_mhz > self.max_mhz:
            raise ValueError("min_mhz must not exceed max_mhz")
        return self


class MpsConfig(_Section):
    """CUDA MPS control daemon: share GPUs among processes with a thread-percentage cap."""

    enabled: bool = False
    active_thread_percentage: int | None = Field(None, ge=1, le=100)
    user: str | None = Field(None, description="user the MPS control daemon runs as (default root)")
    group: str | None = Field(
        None,
        description="group that alone may reach the daemon: its pipe and log folders are "
        "<user>:<group> 0770 (default root)",
    )

    @model_validator(mode="before")
    @classmethod
    def _compact(cls, value: Any) -> Any:
        return {"enabled": value} if isinstance(value, bool) else value

    @field_validator("user")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        if value is not None:
            _posix_name(value, "user")
        return value

    @field_validator("group")
    @classmethod
    def _group(cls, value: str | None) -> str | None:
        if value is not None:
            _posix_name(value, "group")
        return value


class GpuSettings(_Section):
    """Node GPU settings applied by Ansible and checked by validation."""

    persistence_mode: bool = True
    power_limit_w: int | None = Field(None, ge=1)
    compute_mode: ComputeMode = "DEFAULT"
    clocks: LockedClocks | None = None
    mig: MigSetting = None
    mps: MpsConfig = Field(default_factory=MpsConfig)


class GpuSettingsOverride(_Section):
    """Per-pool GPU settings; unset fields inherit the cluster's `gpu` section."""

    persistence_mode: bool | None = None
    power_limit_w: int | None = Field(None, ge=1)
    compute_mode: ComputeMode | None = None
    clocks: LockedClocks | None = None
    mig: MigSetting = None
    mps: MpsConfig | None = None


class PoolGpu(GpuSettingsOverride):
    """The GPUs of each node of a pool (model and count) plus optional setting overrides."""

    model: Text
    count: int = Field(1, ge=1, le=16)

    @model_validator(mode="before")
    @classmethod
    def _compact(cls, value: Any) -> Any:
        if isinstance(value, str):
            model, count = parse_gpu(value)
            return {"model": model, "count": count}
        return value

    @field_validator("model")
    @classmethod
    def _canonical_model(cls, value: str) -> str:
        catalog = load_catalog()
        canonical = catalog.resolve_gpu_name(value)
        if canonical is None:
            close = difflib.get_close_matches(value.upper(), list(catalog.gpus), n=3, cutoff=0.5)
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            raise ValueError(f"unknown GPU model {value!r}{hint} Known: {', '.join(catalog.gpus)}")
        return canonical


class SoftwareSpec(_Section):
    """The software stack: each version is auto, exact, a branch/release, or a range."""

    os: OsName = "ubuntu-22.04"
    kernel: Identifier = Field(
        "auto", description="auto, or the kernel release to pin (5.15.0-1034-aws)"
    )
    driver: VersionText = "auto"
    driver_modules: Literal["auto", "open", "proprietary"] = "auto"
    cuda: VersionText = "auto"
    cudnn: VersionText = "auto"
    nccl: VersionText = "auto"
    container_toolkit: VersionText = "auto"
    dcgm: VersionText = "auto"
    repository: Literal["auto", "nvidia", "mirror", "local"] = "auto"
    repository_url: RepositoryUrl | None = Field(
        None, description="http(s) or file URL of the repository root (mirror or local)"
    )


class SoftwareOverride(_Section):
    """Per-pool software; unset fields inherit the cluster's `software` section."""

    os: OsName | None = None
    kernel: Identifier | None = None
    driver: VersionText | None = None
    driver_modules: Literal["auto", "open", "proprietary"] | None = None
    cuda: VersionText | None = None
    cudnn: VersionText | None = None
    nccl: VersionText | None = None
    container_toolkit: VersionText | None = None
    dcgm: VersionText | None = None


class Host(_Section):
    """An existing machine of an `onprem` pool, reached over SSH (or locally on this machine)."""

    name: str
    address: HostAddress = Field(
        description="IP address or DNS name the controller reaches; 127.0.0.1 for connection: local"
    )
    connection: Literal["ssh", "local"] = "ssh"
    user: LoginName = "root"
    ssh_key: Text | None = Field(
        None, description="ssh: private key file to log in with (relative to the spec's folder)"
    )

    @model_validator(mode="before")
    @classmethod
    def _local_address(cls, value: Any) -> Any:
        if (
            isinstance(value, dict)
            and value.get("connection") == "local"
            and "address" not in value
        ):
            return {**value, "address": "127.0.0.1"}
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name(value)

    @field_validator("ssh_key")
    @classmethod
    def _key_path(cls, value: str | None) -> str | None:
        # The path reaches Ansible's inventory, which would template it.
        if value is not None and (not value or any(m in value for m in ("{{", "{%", "{#"))):
            raise ValueError(
                f"{value!r} is not a usable key path; write the path of the private key file "
                "(without '{{', '{%' or '{#')"
            )
        return value


class Pool(_Section):
    """A group of identical nodes: GPUs or an instance type, count, market, network, disks."""

    gpu: PoolGpu | None = None
    instance_type: Identifier | None = None
    count: int = Field(1, ge=0, le=4096)
    market: Market = "on-demand"
    placement_group: bool | None = None
    target: Target | None = None
    zone: Identifier | None = None
    profile: Identifier | None = Field(None, description="local target: simulated hardware profile")
    network: PoolNetwork = Field(default_factory=PoolNetwork)
    storage: Storage = Field(default_factory=Storage)
    software: SoftwareOverride = Field(default_factory=SoftwareOverride)
    labels: dict[Text, Text] = Field(
        default_factory=dict, description="tags or labels of the pool's machines (cloud rules)"
    )
    hosts: list[Host] = Field(default_factory=list, description="onprem: the existing machines")

    @model_validator(mode="before")
    @classmethod
    def _count_from_hosts(cls, value: Any) -> Any:
        if isinstance(value, dict) and value.get("hosts") and "count" not in value:
            return {**value, "count": len(value["hosts"])}
        return value

    @model_validator(mode="after")
    def _gpu_or_instance(self) -> Pool:
        if self.gpu is None and not self.instance_type:
            raise ValueError("a pool needs `gpu` (e.g. H100:8) or `instance_type`")
        if self.hosts and len(self.hosts) != self.count:
            raise ValueError(f"count is {self.count} but {len(self.hosts)} hosts are listed")
        return self


class RoceSettings(_Section):
    """RoCE lossless settings: PFC priority, ECN, DSCP marking (NVIDIA defaults)."""

    pfc_priority: int = Field(3, ge=0, le=7)
    ecn: bool = True
    dscp: int = Field(26, ge=0, le=63)
    cnp_priority: int = Field(6, ge=0, le=7)


class Fabric(_Section):
    """The GPU interconnect between nodes."""

    type: Literal["infiniband", "roce", "efa", "ethernet"] = "ethernet"
    topology: Literal["fat-tree", "rail-optimized", "dragonfly", "flat"] = "fat-tree"
    switches: int = Field(0, ge=0)
    port_speed_gbps: float | None = None
    roce: RoceSettings = Field(default_factory=RoceSettings)

    @model_validator(mode="before")
    @classmethod
    def _speed(cls, value: Any) -> Any:
        if isinstance(value, dict) and "port_speed" in value:
            value = dict(value)
            value["port_speed_gbps"] = parse_speed_gbps(value.pop("port_speed"))
        return value


class Validation(_Section):
    """Readiness checks after configuration."""

    dcgm_level: int = Field(1, ge=0, le=4)
    nccl: bool = True
    nccl_min_busbw_gbps: float | None = Field(None, gt=0)
    skip: list[Identifier] = Field(default_factory=list)
    allowed_processes: list[Text] = Field(
        default_factory=list,
        description="process names or shell patterns (nvidia-dcgm*) allowed on GPUs at validation",
    )


class Rollout(_Section):
    """How changes roll through the fleet: canary first, then batches, with rollback."""

    canary: int = Field(1, ge=0)
    batch: int | float = Field(0.25, description="nodes per batch (4) or a fraction (25%)")
    max_unavailable: int | float = Field(
        1, description="most nodes out of service at once: a count (2) or a fraction (10%)"
    )
    auto_rollback: bool = True
    max_failures: int = Field(
        0,
        ge=0,
        description="nodes whose gate may fail before a rollout stops (0: at the first failed "
        "wave); within it only the failed nodes go back and the rollout goes on",
    )
    reboot: bool = Field(
        True,
        description="let a rollout reboot a node whose change needs it (a driver not yet "
        "loaded); false leaves the reboot to the site and fails the node's gate until then",
    )
    drain_command: list[Text] = Field(
        default_factory=list,
        description="program and arguments run on the controller to drain one node, no shell; "
        "{node} and {reason} in an argument become the node and the reason",
    )
    undrain_command: list[Text] = Field(
        default_factory=list,
        description="program and arguments run on the controller to return one node to service; "
        "{node} in an argument becomes the node",
    )
    drain_timeout_s: int = Field(
        3600, ge=0, description="how long a drain waits for the node's work to end"
    )

    @field_validator("batch", "max_unavailable", mode="before")
    @classmethod
    def _batch(cls, value: Any) -> Any:
        return parse_batch(value)

    @field_validator("drain_command", "undrain_command", mode="before")
    @classmethod
    def _argv(cls, value: Any) -> Any:
        return command_argv(value)


def _posix_name(value: str, kind: str) -> None:
    """Refuse a user or group name that is not a portable lowercase POSIX name."""
    if not re.fullmatch(r"[a-z_][a-z0-9_-]{0,31}", value):
        raise ValueError(
            f"{value!r} is not a usable {kind} name; write 1-32 lowercase letters, digits, "
            "_ and -, starting with a letter or _"
        )


def _cidr_list(value: list[str]) -> list[str]:
    """CIDR blocks in their normal form; a value that is not one is refused."""
    normalised = []
    for cidr in value:
        try:
            normalised.append(str(ipaddress.ip_network(str(cidr), strict=False)))
        except ValueError as error:
            raise ValueError(f"{cidr!r} is not a CIDR block (e.g. 10.0.0.0/8)") from error
    return normalised


class Security(_Section):
    """Network exposure and access."""

    ssh_cidrs: list[str] = Field(default_factory=list)
    public_ip: bool = False
    ssh_public_key: SshPublicKey | None = None
    hardening: bool = Field(
        True,
        description="apply the hardening role (key-only SSH, auditd, nftables firewall) on every "
        "node, the local fleet's included; turn off where the site hardens its hosts by its "
        "own means",
    )
    gpu_group: str | None = Field(
        None,
        description="group that alone may open /dev/nvidia* (root:<group>, mode 0660); unset "
        "leaves the device files as the driver makes them",
    )
    gpu_users: list[str] = Field(
        default_factory=list, description="users added to gpu_group on every node"
    )
    gpu_allowed_processes: list[Text] = Field(
        default_factory=list,
        description="process names or shell patterns (python*, /opt/train/*) allowed on GPUs; "
        "any other process on a GPU whose user is not in gpu_allowed_users is reported as "
        "unknown (GF-SEC-101) and raises the gpuforge_gpu_unknown_processes metric",
    )
    gpu_allowed_users: list[str] = Field(
        default_factory=list,
        description="users whose processes may use GPUs (a scheduler's job users)",
    )
    known_hosts: Text | None = Field(
        None,
        description="onprem: known_hosts file holding the hosts' SSH keys, checked strictly "
        "(relative to the spec's folder); without it keys are trusted on first use",
    )

    @field_validator("gpu_group")
    @classmethod
    def _gpu_group(cls, value: str | None) -> str | None:
        if value is not None:
            _posix_name(value, "group")
        return value

    @field_validator("gpu_users", "gpu_allowed_users")
    @classmethod
    def _gpu_users(cls, value: list[str]) -> list[str]:
        for name in value:
            _posix_name(name, "user")
        return value

    @model_validator(mode="after")
    def _users_need_group(self) -> Security:
        if self.gpu_users and self.gpu_group is None:
            raise ValueError(
                "gpu_users is set but gpu_group is not; set security.gpu_group to the group "
                "those users join, or remove gpu_users"
            )
        return self

    @field_validator("known_hosts")
    @classmethod
    def _known_hosts(cls, value: str | None) -> str | None:
        # The path becomes a word of Ansible's ssh_args: one shell-safe word, never a template.
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_./~+@:=-]+", value):
            raise ValueError(
                f"{value!r} is not a usable known_hosts path; write a path of letters, digits "
                "and _ . / ~ + @ : = - (no spaces, quotes or braces)"
            )
        return value

    @field_validator("ssh_cidrs")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        return _cidr_list(value)


class Monitoring(_Section):
    """Metrics exporters deployed on every node."""

    enabled: bool = True
    dcgm_exporter: bool = True
    node_exporter: bool = True
    scrape_cidrs: list[str] = Field(
        default_factory=list,
        description="where Prometheus scrapes the exporters from (the hardening firewall opens "
        "their ports to these CIDRs only); empty: the machine gpuforge runs on",
    )

    @field_validator("scrape_cidrs")
    @classmethod
    def _scrape_cidrs(cls, value: list[str]) -> list[str]:
        return _cidr_list(value)


def _cron(value: Any) -> str:
    return parse_cron(str(value)).canonical


CronText = Annotated[
    str,
    BeforeValidator(_cron),
    Field(description="weekly cron: MIN HOUR * * DOW, e.g. '0 20 * * mon-fri'"),
]
Interconnect = Literal["nvlink", "rdma", "efa", "infiniband"]


class ScheduleWindow(_Section):
    """From `start` until `end` (weekly cron times), the pool runs `count` nodes."""

    pool: Identifier
    start: CronText
    end: CronText
    count: int = Field(ge=0, le=4096)


class OptimizePool(_Section):
    """Requirements of one pool for `gpuforge cost optimize`, beyond what the pool states."""

    min_gpu_memory_gb: int | None = Field(
        None, ge=1, description="any GPU model with this much memory (instead of the pool's)"
    )
    gpus_per_node: int | None = Field(None, ge=1, le=16)
    total_gpus: int | None = Field(None, ge=1)
    interconnect: list[Interconnect] | None = Field(
        None, description="nvlink; rdma (EFA or InfiniBand), efa, infiniband"
    )
    max_spot_share: float | None = Field(None, ge=0, le=1)
    min_regions: int | None = Field(None, ge=1, le=16)


class Optimize(_Section):
    """Where `gpuforge cost optimize` may place pools; empty lists keep the spec's own."""

    clouds: list[Literal["aws", "azure", "gcp"]] = Field(default_factory=list)
    regions: list[Identifier] = Field(
        default_factory=list, description="allowed regions (data residency); [] = any"
    )
    max_spot_share: float | None = Field(
        None, ge=0, le=1, description="default: 0 for on-demand pools, 1 for spot pools"
    )
    min_regions: int = Field(1, ge=1, le=16)
    pools: dict[Identifier, OptimizePool] = Field(default_factory=dict)


class SpotHandling(_Section):
    """What a spot node does when the cloud gives notice that it takes the machine back."""

    checkpoint_command: list[Text] = Field(
        default_factory=list,
        description="the site's checkpoint hook, run on the node on a notice as an argument "
        "vector (no shell), e.g. [/opt/train/checkpoint, --now]; [] runs none",
    )
    checkpoint_timeout_s: int = Field(90, ge=1, le=3600)


class Cost(_Section):
    """Cost controls used by `gpuforge cost`, `cost optimize` and the scheduler."""

    budget_usd_per_hour: float | None = Field(None, gt=0)
    prefer_cheapest_region: bool = False
    schedule: list[ScheduleWindow] = Field(default_factory=list)
    optimize: Optimize = Field(default_factory=Optimize)
    spot: SpotHandling = Field(default_factory=SpotHandling)

    def actions(self, pool: str, default: int) -> list[ScheduledAction]:
        """The scaling actions of one pool's windows (start -> count, end -> `default`)."""
        windows = [(w.start, w.end, w.count) for w in self.schedule if w.pool == pool]
        return scaling_actions(windows, default)


class Scheduler(_Section):
    """The workload manager gpuforge installs and drains nodes through (`none`: no scheduler).

    Each kind is one literal of `kind`; a later kind (kubernetes) adds its literal and settings
    here and registers its drainer, nothing else changes.
    """

    kind: Literal["none", "slurm"] = "none"
    controller: Text | None = Field(
        None,
        description="slurm: the pool whose first node runs slurmctld, or one node by name "
        "(<pool>-<index> on the local fleet, <cluster>-<pool>-<index> on clouds, an onprem "
        "host's name); default: the first pool",
    )

    @model_validator(mode="after")
    def _controller_needs_scheduler(self) -> Scheduler:
        if self.kind == "none" and self.controller is not None:
            raise ValueError(
                "a controller is given but no scheduler; set `kind: slurm`, or remove `controller`"
            )
        return self


class Checks(_Section):
    """Finding codes (GF-AREA-NNN) that `gpuforge check` should not report for this spec."""

    skip: list[Identifier] = Field(default_factory=list)


class ClusterSpec(_Section):
    """A whole cluster: where it runs, its pools, its software, and how it is operated."""

    api_version: Literal["gpuforge/v1"] = Field(alias="apiVersion")
    kind: Literal["Cluster"]
    name: str
    target: list[Target]
    state: StateConfig = Field(default_factory=StateConfig)
    pools: dict[str, Pool] = Field(min_length=1)
    fabric: Fabric = Field(default_factory=Fabric)
    software: SoftwareSpec = Field(default_factory=SoftwareSpec)
    gpu: GpuSettings = Field(default_factory=GpuSettings)
    validation: Validation = Field(default_factory=Validation)
    rollout: Rollout = Field(default_factory=Rollout)
    security: Security = Field(default_factory=Security)
    monitoring: Monitoring = Field(default_factory=Monitoring)
    cost: Cost = Field(default_factory=Cost)
    scheduler: Scheduler = Field(default_factory=Scheduler)
    checks: Checks = Field(default_factory=Checks)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name(value)

    @field_validator("target", mode="before")
    @classmethod
    def _targets(cls, value: Any) -> Any:
        items = value if isinstance(value, list) else [value]
        if not items:
            raise ValueError("give at least one target")
        return items

    @field_validator("pools")
    @classmethod
    def _pool_names(cls, value: dict[str, Pool]) -> dict[str, Pool]:
        for name in value:
            check_name(name)
        return value

    @model_validator(mode="after")
    def _labels(self) -> ClusterSpec:
        """Each pool's labels follow the rules of the cloud the pool runs on."""
        errors = []
        for name, pool in self.pools.items():
            provider = self.pool_target(pool).provider
            for key, value in pool.labels.items():
                problem = label_problem(provider, key, value)
                if problem is not None:
                    error = PydanticCustomError("value_error", "{problem}", {"problem": problem})
                    loc = ("pools", name, "labels", key)
                    errors.append(InitErrorDetails(type=error, loc=loc, input=value))
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self

    @model_validator(mode="after")
    def _scheduler_controller(self) -> ClusterSpec:
        """The scheduler's controller names a pool or one node of this cluster."""
        controller = self.scheduler.controller
        if controller is None or controller in self.controller_nodes():
            return self
        nodes = sorted(self.controller_nodes())
        shown = ", ".join(nodes[:6]) + (", ..." if len(nodes) > 6 else "")
        error = PydanticCustomError(
            "value_error",
            "{problem}",
            {
                "problem": f"controller {controller!r} is neither a pool nor a node of this "
                f"cluster; name a pool or a node: {shown}"
            },
        )
        details = InitErrorDetails(type=error, loc=("scheduler", "controller"), input=controller)
        raise ValidationError.from_exception_data(type(self).__name__, [details])

    def controller_nodes(self) -> dict[str, str]:
        """Every name `scheduler.controller` may take -> its pool: pools, nodes, onprem hosts."""
        names = {name: name for name in self.pools}
        for name, pool in self.pools.items():
            for index in range(pool.count):
                # Local fleet nodes are <pool>-<index>, cloud machines <cluster>-<pool>-<index>.
                names.update({f"{name}-{index}": name, f"{self.name}-{name}-{index}": name})
            names.update({host.name: name for host in pool.hosts})
        return names

    def pool_target(self, pool: Pool) -> TargetRef:
        """The target a pool runs on: its own, else the cluster's first."""
        return pool.target or self.target[0]

    def pool_software(self, pool: Pool) -> SoftwareSpec:
        """The pool's effective software stack (cluster section with pool overrides)."""
        overrides = pool.software.model_dump(exclude_none=True)
        return self.software.model_copy(update=overrides)

    def pool_gpu_settings(self, pool: Pool) -> GpuSettings:
        """The pool's effective GPU settings (cluster `gpu` section with pool overrides)."""
        if pool.gpu is None:
            return self.gpu
        overrides = {
            key: getattr(pool.gpu, key)
            for key in GpuSettingsOverride.model_fields
            if getattr(pool.gpu, key) is not None
        }
        return self.gpu.model_copy(update=overrides)
