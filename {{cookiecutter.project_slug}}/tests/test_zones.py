"""Availability Zones chosen by zone ID, only where Fargate runs, the same physical zones in every account."""

import pulumi
import pytest

from conftest import Deployment, deploy
from infra.network import choose_zones

SUBNET = "aws:ec2/subnet:Subnet"


def subnet_zones(deployment: Deployment, tier: str) -> list[str]:
    return [s.inputs["availabilityZoneId"] for s in deployment.of_type(SUBNET) if s.inputs["tags"]["tier"] == tier]


def test_subnets_are_placed_by_zone_id_not_by_this_accounts_zone_names(default_stack: Deployment) -> None:
    subnets = default_stack.of_type(SUBNET)
    assert all("availabilityZone" not in subnet.inputs for subnet in subnets)
    # The lowest zone IDs the region offers (the mocks answer use1-az4, -az6, -az1, -az2), public and private alike.
    assert subnet_zones(default_stack, "public") == subnet_zones(default_stack, "private") == ["use1-az1", "use1-az2"]


def test_tokyo_leaves_out_the_zone_fargate_does_not_run_in() -> None:
    # This account's ap-northeast-1b is apne1-az3: listed as available, but Fargate runs in apne1-az1, -az2, -az4 only.
    deployment = deploy(aws_region="ap-northeast-1", az_count=3)
    assert subnet_zones(deployment, "public") == ["apne1-az1", "apne1-az2", "apne1-az4"]
    assert subnet_zones(deployment, "private") == ["apne1-az1", "apne1-az2", "apne1-az4"]


def test_northern_california_uses_its_two_fargate_zones() -> None:
    # An older account sees three zones; Fargate runs in usw1-az1 and usw1-az3 only.
    deployment = deploy(aws_region="us-west-1", az_count=2)
    assert subnet_zones(deployment, "public") == ["usw1-az1", "usw1-az3"]


def test_too_few_fargate_zones_is_one_clear_line() -> None:
    with pytest.raises(pulumi.RunError) as refused:
        choose_zones("ap-northeast-1", ["apne1-az3", "apne1-az1"], 2)
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith("az_count=2 but Fargate runs in 1 available zone of ap-northeast-1 here (apne1-az1)")


def test_zones_come_from_the_account_without_local_or_wavelength_zones(default_stack: Deployment) -> None:
    [lookup] = default_stack.lookups("aws:index/getAvailabilityZones:getAvailabilityZones")
    assert lookup.args["state"] == "available"
    assert lookup.args["filters"] == [{"name": "opt-in-status", "values": ["opt-in-not-required"]}]
