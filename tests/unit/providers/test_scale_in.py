"""Scale-in of chosen nodes on scale-set clouds: each provider names its documented request
(issue 18), checked offline; targets that name nodes drop members instead."""

from __future__ import annotations

import pytest

from gpuforge.errors import InputError
from gpuforge.providers import ScaleInUnsupported, provider_for
from gpuforge.spec import parse_target

SCALE_SET = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-gpu"
    "/providers/Microsoft.Compute/virtualMachineScaleSets/gf-train"
)


def test_aws_terminates_the_chosen_instances_and_decrements_the_group() -> None:
    calls = provider_for("aws").scale_in(
        parse_target("aws/us-west-2"), "gf-train", ["i-0123456789abcdef0", "i-00000000000000001"], 2
    )
    assert [c.operation for c in calls] == [
        "autoscaling:UpdateAutoScalingGroup",
        "autoscaling:TerminateInstanceInAutoScalingGroup",
        "autoscaling:TerminateInstanceInAutoScalingGroup",
    ]
    assert calls[0].argv[-4:] == ("--min-size", "2", "--region", "us-west-2")
    assert calls[1].argv[3:] == (
        "--instance-id",
        "i-0123456789abcdef0",
        "--should-decrement-desired-capacity",
        "--region",
        "us-west-2",
    )


def test_azure_deletes_the_chosen_scale_set_instances() -> None:
    [call] = provider_for("azure").scale_in(parse_target("azure/eastus"), SCALE_SET, ["3", "7"], 2)
    assert call.operation == "Microsoft.Compute/virtualMachineScaleSets/delete/action"
    assert call.argv == (
        "az",
        "vmss",
        "delete-instances",
        "--resource-group",
        "rg-gpu",
        "--name",
        "gf-train",
        "--instance-ids",
        "3",
        "7",
    )


def test_gcp_deletes_the_chosen_instances_of_the_managed_group() -> None:
    group = "projects/my-project/zones/us-central1-a/instanceGroupManagers/gf-train"
    [call] = provider_for("gcp").scale_in(
        parse_target("gcp/us-central1"), group, ["gf-train-x1z", "gf-train-q2w"], 2
    )
    assert call.operation == "compute.instanceGroupManagers.deleteInstances"
    assert call.argv[5:] == (
        "gf-train",
        "--instances=gf-train-x1z,gf-train-q2w",
        "--zone=us-central1-a",
        "--project=my-project",
    )


@pytest.mark.parametrize(
    ("target", "group", "instance"),
    [
        ("aws/us-west-2", "gf-train", "--debug"),
        ("aws/us-west-2", "-group", "i-0123456789abcdef0"),
        ("azure/eastus", SCALE_SET, "3 --yes"),
        ("azure/eastus", "/subscriptions/x/resourceGroups/rg", "3"),
        ("gcp/us-central1", "projects/p/zones/z/instanceGroupManagers/g", "a"),
    ],
)
def test_a_name_that_is_not_the_clouds_shape_is_refused(
    target: str, group: str, instance: str
) -> None:
    ref = parse_target(target)
    with pytest.raises(InputError):
        provider_for(ref).scale_in(ref, group, [instance], 1)


@pytest.mark.parametrize(
    ("target", "instead"),
    [("local", "not ready first"), ("vsphere/dc1", "highest"), ("onprem", "hosts")],
)
def test_targets_without_scale_sets_say_what_they_do_instead(target: str, instead: str) -> None:
    ref = parse_target(target)
    with pytest.raises(ScaleInUnsupported, match=instead):
        provider_for(ref).scale_in(ref, "g", ["x"], 0)
