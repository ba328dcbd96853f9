"""The six targets: AWS, Azure and GCP (clouds with a market), vSphere, on-premises machines
and the local simulated fleet."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gpuforge.catalog import InstanceType
from gpuforge.providers._base import (
    CloudProvider,
    PoolRender,
    Provider,
    ProviderConfig,
    Ref,
    Resource,
    RootRender,
    ScaleIn,
    SharedInputs,
    Shortfall,
    SpotSemantics,
    Variable,
    ssh_inputs,
)
from gpuforge.providers._scale_in import checked, parts
from gpuforge.spec import ClusterSpec, ScheduledAction, TargetRef

AZURE_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
VSPHERE_INPUTS = (
    "compute_cluster",
    "datastore",
    "network",
    "template",
    "ipv4_cidr",
    "ipv4_gateway",
)


VSPHERE_NOTE = (
    "# Credentials come from VSPHERE_USER, VSPHERE_PASSWORD and VSPHERE_SERVER in the\n"
    "# environment; they are never written here.\n"
)


class ScheduleShapeError(ValueError):
    """A schedule the target's scaling mechanism cannot express."""


class Aws(CloudProvider):
    """Amazon EC2: one Auto Scaling group per pool (mixed instances policy), EFA, S3 state."""

    name = "aws"
    module = "aws-gpu-cluster"
    terraform_provider = ("aws", "hashicorp/aws", ">= 5.60")
    fabrics = frozenset({"ethernet", "efa"})
    spot = SpotSemantics(
        notice="two minutes",
        notice_source="instance metadata spot/instance-action",
        fallback="Auto Scaling group with an on-demand base and capacity rebalancing",
        metadata="aws",
    )
    schedules = "Auto Scaling scheduled actions"
    state_backend = "s3"

    def fabric_problem(self, fabric: str, instance: InstanceType | None) -> Shortfall | None:
        """AWS has EFA, not InfiniBand."""
        del instance  # no AWS type has InfiniBand
        if fabric == "infiniband":
            return Shortfall(
                "AWS offers no InfiniBand", "use fabric type efa (or run this pool on azure/onprem)"
            )
        return None

    def efa_problem(self, target: TargetRef, instance: InstanceType | None) -> Shortfall | None:
        """EFA needs an instance type with EFA interfaces."""
        del target  # every AWS region has EFA types
        if instance is not None and instance.efa == 0:
            return Shortfall(
                f"{instance.name} has no EFA interface",
                "use an EFA instance type (p4d, p5, p5en, g6e.48xlarge...) or remove network.efa",
                instance=True,
            )
        return None

    def backend_region(self, target: TargetRef) -> str | None:
        """An S3 bucket next to the cluster: the target's region."""
        return target.location

    def provider_config(self, spec: ClusterSpec, target: TargetRef) -> ProviderConfig | None:
        """Region and default tags."""
        return ProviderConfig(
            "aws",
            {"region": target.location},
            {"default_tags": {"tags": {"gpuforge-cluster": spec.name, "managed-by": "gpuforge"}}},
        )

    def pool_inputs(self, ctx: PoolRender) -> dict[str, Any]:
        """EFA, public address, zone, tags, scheduled actions."""
        pool = ctx.pool
        inputs = self.machine_inputs(ctx)
        inputs.update(
            {
                "efa_enabled": pool.network.efa,
                "associate_public_ip": ctx.public_ip,
                "availability_zone": pool.zone,
                "tags": ctx.labels,
            }
        )
        if ctx.actions:
            inputs["schedules"] = [
                {"name": a.name, "recurrence": a.cron.text, "nodes": a.nodes} for a in ctx.actions
            ]
        return inputs

    def scale_in(
        self, target: TargetRef, group: str, instances: Sequence[str], keep: int
    ) -> list[ScaleIn]:
        """Lower the group's minimum to `keep`, then TerminateInstanceInAutoScalingGroup with
        ShouldDecrementDesiredCapacity for each chosen instance, so the group shrinks by exactly
        those (lowering the desired capacity instead lets the group's termination policy pick)."""
        name = parts(
            "Auto Scaling group name", group, r"([A-Za-z0-9][^\x00-\x1f:]{0,254})", "gf-a"
        )[0]
        ids = checked("EC2 instance ID", instances, r"i-[0-9a-f]{8,17}", "i-0123456789abcdef0")
        region = ("--region", target.location)
        lower = ScaleIn(
            "autoscaling:UpdateAutoScalingGroup",
            (
                "aws",
                "autoscaling",
                "update-auto-scaling-group",
                "--auto-scaling-group-name",
                name,
                "--min-size",
                str(keep),
                *region,
            ),
        )
        return [lower] + [
            ScaleIn(
                "autoscaling:TerminateInstanceInAutoScalingGroup",
                (
                    "aws",
                    "autoscaling",
                    "terminate-instance-in-auto-scaling-group",
                    "--instance-id",
                    instance,
                    "--should-decrement-desired-capacity",
                    *region,
                ),
            )
            for instance in ids
        ]


class Azure(CloudProvider):
    """Azure: Uniform scale sets (Regular + Spot for fallback), InfiniBand on ND sizes."""

    name = "azure"
    module = "azure-gpu-cluster"
    terraform_provider = ("azurerm", "hashicorp/azurerm", ">= 3.80")
    fabrics = frozenset({"ethernet", "infiniband", "roce"})
    spot = SpotSemantics(
        notice="30 seconds",
        notice_source="Scheduled Events (Preempt)",
        fallback="a Regular-priority scale set of on_demand_base_capacity VMs beside the Spot one",
        metadata="azure",
    )
    schedules = "autoscale profiles"
    state_backend = "azurerm"

    def fabric_problem(self, fabric: str, instance: InstanceType | None) -> Shortfall | None:
        """InfiniBand only on the sizes that have it."""
        if fabric == "infiniband" and instance is not None and not instance.infiniband:
            return Shortfall(
                f"{instance.name} has no InfiniBand",
                "use an InfiniBand size such as Standard_ND96isr_H100_v5",
                instance=True,
            )
        return None

    def schedule_problem(self, actions: list[ScheduledAction]) -> str | None:
        """An autoscale profile starts at one hour and minute on its days."""
        for a in actions:
            if len(a.cron.hours) != 1 or len(a.cron.minutes) != 1:
                return (
                    f"Azure autoscale profiles start at one time of day; {a.cron.text!r} "
                    "fires at several"
                )
        return None

    def provider_config(self, spec: ClusterSpec, target: TargetRef) -> ProviderConfig | None:
        """An empty `features` block, which azurerm requires."""
        del spec, target  # region and tags are set per resource
        return ProviderConfig("azurerm", {}, {"features": {}})

    def shared_inputs(self, ctx: RootRender) -> SharedInputs:
        """SSH, and one resource group per cluster and region."""
        shared = ssh_inputs(ctx)
        shared.resources.append(
            Resource(
                "azurerm_resource_group",
                "cluster",
                {
                    "name": f"{ctx.spec.name}-{ctx.target.location}",
                    "location": ctx.target.location,
                    "tags": {"gpuforge-cluster": ctx.spec.name},
                },
            )
        )
        shared.values["resource_group_name"] = Ref("azurerm_resource_group.cluster.name")
        return shared

    def pool_inputs(self, ctx: PoolRender) -> dict[str, Any]:
        """Location, zone, public address, tags, autoscale profiles."""
        inputs = self.machine_inputs(ctx)
        inputs.update(
            {
                "location": ctx.target.location,
                "zone": ctx.pool.zone,
                "public_ip": ctx.public_ip,
                "tags": ctx.labels,
            }
        )
        if ctx.actions:
            inputs["schedules"] = azure_profiles(ctx.name, ctx.actions)
        return inputs

    def scale_in(
        self, target: TargetRef, group: str, instances: Sequence[str], keep: int
    ) -> list[ScaleIn]:
        """Virtual Machine Scale Sets - Delete Instances on the scale set (`group`, its resource
        ID): the named instances go and the set's capacity drops by as many."""
        del target, keep  # the resource ID names the set; its capacity drops with the delete
        pattern = (
            r"/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/([-\w.()]{1,90})"
            r"/providers/Microsoft\.Compute/virtualMachineScaleSets/([-\w.]{1,64})"
        )
        example = (
            "/subscriptions/<uuid>/resourceGroups/rg/providers/Microsoft.Compute/"
            "virtualMachineScaleSets/gf-a"
        )
        resource_group, name = parts("scale set resource ID", group, pattern, example)
        ids = checked("scale set instance ID", instances, r"[0-9]{1,9}", "3")
        argv = ("az", "vmss", "delete-instances", "--resource-group", resource_group)
        return [
            ScaleIn(
                "Microsoft.Compute/virtualMachineScaleSets/delete/action",
                (*argv, "--name", name, "--instance-ids", *ids),
            )
        ]


def azure_profiles(pool: str, actions: list[ScheduledAction]) -> list[dict[str, Any]]:
    """Autoscale profiles; Azure's recurrence takes one hour and one minute per profile."""
    profiles = []
    for a in actions:
        if len(a.cron.hours) != 1 or len(a.cron.minutes) != 1:
            raise ScheduleShapeError(
                f"pool {pool}: schedule {a.name} ({a.cron.text}) fires at several times a day; "
                "an Azure autoscale profile starts at one hour and minute"
            )
        profiles.append(
            {
                "name": a.name,
                "days": [AZURE_DAYS[d] for d in a.cron.weekdays],
                "hour": a.cron.hours[0],
                "minute": a.cron.minutes[0],
                "nodes": a.nodes,
            }
        )
    return profiles


class Gcp(CloudProvider):
    """Google Compute Engine: one instance per node (a2/a3/g2), Spot VMs, no InfiniBand."""

    name = "gcp"
    module = "gcp-gpu-cluster"
    terraform_provider = ("google", "hashicorp/google", ">= 5.0")
    fabrics = frozenset({"ethernet"})
    spot = SpotSemantics(
        notice="30 seconds",
        notice_source="instance metadata instance/preempted",
        fallback="the first on_demand_base_capacity VMs are standard; a preempted Spot VM is "
        "stopped (not replaced: no managed instance group) until `gpuforge up` starts it",
        metadata="gcp",
    )
    schedule_gap = "GCP pools are single instances with no scheduled scaling in the module"
    state_backend = "gcs"

    def fabric_problem(self, fabric: str, instance: InstanceType | None) -> Shortfall | None:
        """No InfiniBand, no EFA."""
        del instance  # the same for every machine type
        if fabric == "infiniband":
            return Shortfall(
                "GCP offers no InfiniBand",
                "use fabric type ethernet (or run this pool on azure/onprem)",
            )
        return None

    def provider_config(self, spec: ClusterSpec, target: TargetRef) -> ProviderConfig | None:
        """Project (a root variable) and region."""
        del spec  # the project is site-specific
        return ProviderConfig(
            "google", {"project": Ref("var.gcp_project"), "region": target.location}
        )

    def shared_inputs(self, ctx: RootRender) -> SharedInputs:
        """SSH and the project."""
        shared = ssh_inputs(ctx)
        shared.variables.append(
            Variable("gcp_project", "Google Cloud project of the cluster.", "string")
        )
        shared.values["project"] = Ref("var.gcp_project")
        return shared

    def pool_inputs(self, ctx: PoolRender) -> dict[str, Any]:
        """Region, zone (default: zone a), public address, labels."""
        inputs = self.machine_inputs(ctx)
        inputs.update(
            {
                "region": ctx.target.location,
                "zone": ctx.pool.zone or f"{ctx.target.location}-a",
                "public_ip": ctx.public_ip,
                "labels": ctx.labels,
            }
        )
        return inputs

    def scale_in(
        self, target: TargetRef, group: str, instances: Sequence[str], keep: int
    ) -> list[ScaleIn]:
        """instanceGroupManagers.deleteInstances on the managed instance group (`group`,
        projects/P/zones/Z/instanceGroupManagers/NAME): the named instances go and the group's
        target size drops by as many."""
        del target, keep  # the path names the group; its target size drops with the delete
        pattern = (
            r"projects/([-a-z0-9]{6,30})/zones/([-a-z0-9]{1,63})"
            r"/instanceGroupManagers/([-a-z0-9]{1,63})"
        )
        example = "projects/my-project/zones/us-central1-a/instanceGroupManagers/gf-a"
        project, zone, name = parts("managed instance group", group, pattern, example)
        names = checked("instance name", instances, r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?", "gf-a-x1z")
        return [
            ScaleIn(
                "compute.instanceGroupManagers.deleteInstances",
                (
                    "gcloud",
                    "compute",
                    "instance-groups",
                    "managed",
                    "delete-instances",
                    name,
                    f"--instances={','.join(names)}",
                    f"--zone={zone}",
                    f"--project={project}",
                ),
            )
        ]


class Vsphere(Provider):
    """VMware vSphere: VMs cloned from a template with GPUs passed through."""

    name = "vsphere"
    module = "vsphere-gpu-cluster"
    terraform_provider = ("vsphere", "hashicorp/vsphere", ">= 2.7")

    def instance_type(self, catalog: Any, target: TargetRef, gpu: str, count: int) -> str:
        """vSphere has no instance types: the VM is named by its GPUs."""
        del catalog, target  # nothing to look up
        return f"{count}x{gpu}"

    def provider_config(self, spec: ClusterSpec, target: TargetRef) -> ProviderConfig | None:
        """Certificate checking on; credentials only from the environment."""
        del spec, target  # the server comes from the environment
        return ProviderConfig(
            "vsphere",
            {"allow_unverified_ssl": False},
            note=VSPHERE_NOTE,
        )

    def shared_inputs(self, ctx: RootRender) -> SharedInputs:
        """SSH and the site's cluster, datastore, network, template and addressing."""
        shared = ssh_inputs(ctx)
        for key in VSPHERE_INPUTS:
            shared.variables.append(
                Variable(
                    f"vsphere_{key}", f"vSphere {key.replace('_', ' ')} (site-specific).", "string"
                )
            )
            shared.values[key] = Ref(f"var.vsphere_{key}")
        return shared

    def pool_inputs(self, ctx: PoolRender) -> dict[str, Any]:
        """Datacenter, first host address, tags (vSphere caps a disk's IOPS only)."""
        inputs = self.machine_inputs(ctx)
        del inputs["scratch_throughput_mbps"]
        inputs.update(
            {"datacenter": ctx.target.location, "first_host": ctx.first_host, "tags": ctx.labels}
        )
        return inputs


class Onprem(Provider):
    """Existing machines reached over SSH: nothing is created, the pools list their hosts."""

    name = "onprem"
    module = "onprem"
    needs_hosts = True
    shrinks = "the machines taken out of its `hosts`"

    def pool_inputs(self, ctx: PoolRender) -> dict[str, Any]:
        """On-premises pools are rendered as a host list, not as module calls."""
        del ctx  # see render_root's host list
        return {}


class Local(Provider):
    """The local simulated fleet: network namespaces with sshd on this machine."""

    name = "local"
    module = "local-gpu-cluster"
    terraform_provider = ("null", "hashicorp/null", ">= 2.1")
    node_warn_limit = 64
    # Nodes run the host's Debian 12 userland and present one of these (gpuforge.fleet, which
    # writes their identity files; docs/PACKAGES.md says what an RPM distribution would take).
    presented_os = ("debian-12", "ubuntu-22.04", "ubuntu-24.04")
    # Each node serves a simulated metadata service at 169.254.169.254 (AWS's contract here;
    # it answers Azure's and GCP's too); `gpuforge fleet inject NODE spot-interruption` gives
    # a notice and powers the node off after it.
    spot = SpotSemantics(
        notice="`--notice-s` of `fleet inject NODE spot-interruption` (default two minutes)",
        notice_source="the node's simulated metadata service (AWS spot/instance-action)",
        fallback="the next `gpuforge up` starts a new node in place of a reclaimed one",
        metadata="aws",
    )
    simulated = True
    names_nodes = True
    shrinks = "the nodes left out of its members: not ready first, then the highest index"
    os_sshd = False
    local_repository = True
    cgroups = False

    def shared_inputs(self, ctx: RootRender) -> SharedInputs:
        """The fleet's subnet, the gpuforge command and the fleet's state folder."""
        return SharedInputs(
            variables=[
                Variable("subnet", "Private /24 of the simulated fleet's bridge.", "string"),
                Variable(
                    "gpuforge_bin",
                    "Command that runs gpuforge on this machine.",
                    "string",
                    "gpuforge",
                ),
                Variable(
                    "fleet_state_dir",
                    "Where the local fleet records its nodes.",
                    "string",
                    "/var/lib/gpuforge/fleet",
                ),
            ],
            tfvars={"subnet": ctx.local_subnet()},
            values={
                "subnet": Ref("var.subnet"),
                "gpuforge_bin": Ref("var.gpuforge_bin"),
                "fleet_state_dir": Ref("var.fleet_state_dir"),
            },
        )

    def pool_inputs(self, ctx: PoolRender) -> dict[str, Any]:
        """The simulated hardware profile, the distribution the nodes present, the members."""
        os_name = ctx.spec.pool_software(ctx.pool).os
        return {
            "profile": ctx.hardware_profile(),
            "os": os_name,
            "members": {str(index): host for index, host in sorted(ctx.members.items())},
        }
