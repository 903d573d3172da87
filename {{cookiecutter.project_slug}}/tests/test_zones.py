"""Availability Zones: the zones the program always chose (by name), minus the zone IDs where Fargate does not run."""

from itertools import permutations

import pulumi
import pytest

from conftest import ENDPOINT_SERVICE_GAPS, PROJECT, REGION_ZONES, Deployment, deploy, run_program, zone_ids, zone_names
from infra.network import choose_zones
from infra.stack import build_stack
from infra.validation import parse_settings

SUBNET = "aws:ec2/subnet:Subnet"


def subnet_zones(deployment: Deployment, tier: str) -> list[str]:
    """The tier's subnet zones by subnet index (`<name>-public-0`...): the mocks see them in the order they registered,
    which the program's asynchronous registration does not fix (the source of an earlier flaky zone order)."""
    subnets = sorted(deployment.of_type(SUBNET), key=lambda subnet: int(subnet.name.rsplit("-", 1)[1]))
    return [s.inputs["availabilityZone"] for s in subnets if s.inputs["tags"]["tier"] == tier]


def previous_choice(names: list[str], count: int) -> list[str]:
    """What the program chose before it checked zone IDs (commit 2ff45d6's parent): the first names in name order."""
    return sorted(names)[:count]


@pytest.mark.parametrize("count", [2, 3])
@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_a_stack_created_before_zone_ids_were_checked_keeps_its_zones(region: str, count: int) -> None:
    # A subnet's zone is replace-only and a replacement reuses the CIDR block: a different choice breaks `pulumi up`.
    names, ids = zone_names(region), zone_ids(region)
    assert choose_zones(region, names, ids, count) == previous_choice(names, count)
    deployment = deploy(aws_region=region, az_count=count)
    assert subnet_zones(deployment, "public") == subnet_zones(deployment, "private") == previous_choice(names, count)


def test_subnets_are_placed_by_zone_name_as_before_not_by_zone_id(default_stack: Deployment) -> None:
    # The same argument as before: switching a subnet from availability_zone to availability_zone_id is a diff.
    for subnet in default_stack.of_type(SUBNET):
        assert "availabilityZoneId" not in subnet.inputs
        assert subnet.inputs["tags"]["Name"].endswith(subnet.inputs["availabilityZone"])


def test_the_choice_does_not_depend_on_the_order_the_lookup_answers_in() -> None:
    tokyo = ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"]
    for pairs in permutations(REGION_ZONES["ap-northeast-1"].items()):
        names, ids = [name for name, _ in pairs], [zone_id for _, zone_id in pairs]
        assert choose_zones("ap-northeast-1", names, ids, 3) == tokyo


def test_tokyo_leaves_out_the_zone_fargate_does_not_run_in() -> None:
    # This account's ap-northeast-1b is apne1-az3: listed as available, but Fargate runs in apne1-az1, -az2, -az4 only.
    deployment = deploy(aws_region="ap-northeast-1", az_count=3)
    assert subnet_zones(deployment, "public") == ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"]
    assert subnet_zones(deployment, "private") == ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"]


def test_northern_california_uses_its_two_fargate_zones() -> None:
    # An older account sees three zones; its us-west-1c is usw1-az2, where Fargate does not run.
    deployment = deploy(aws_region="us-west-1", az_count=2)
    assert subnet_zones(deployment, "public") == ["us-west-1a", "us-west-1b"]


def test_too_few_fargate_zones_is_one_clear_line() -> None:
    with pytest.raises(pulumi.RunError) as refused:
        choose_zones("ap-northeast-1", ["ap-northeast-1b", "ap-northeast-1c"], ["apne1-az3", "apne1-az1"], 2)
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(
        "az_count=2 but Fargate runs in 1 available zone of ap-northeast-1 here (ap-northeast-1c): lower az_count"
    )


def test_zones_come_from_the_account_without_local_or_wavelength_zones(default_stack: Deployment) -> None:
    [lookup] = default_stack.lookups("aws:index/getAvailabilityZones:getAvailabilityZones")
    assert lookup.args["state"] == "available"
    assert lookup.args["filters"] == [{"name": "opt-in-status", "values": ["opt-in-not-required"]}]


def test_private_endpoints_skip_a_zone_where_an_endpoint_service_is_not_offered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # AWS offers each interface endpoint service in some zones only; an endpoint subnet elsewhere fails to create.
    monkeypatch.setitem(ENDPOINT_SERVICE_GAPS, "com.amazonaws.us-east-1.ecr.dkr", {"us-east-1b"})
    settings = parse_settings({"networking": "private-endpoints", "az_count": 2})
    mocks = run_program(lambda: build_stack(PROJECT, settings))
    subnets = sorted((s for s in mocks.resources if s.type == SUBNET), key=lambda s: s.name)
    assert {s.inputs["availabilityZone"] for s in subnets} == {"us-east-1a", "us-east-1c"}
    asked = sorted(i.args["serviceName"] for i in mocks.invokes if i.token.endswith("getVpcEndpointService"))
    assert asked == [f"com.amazonaws.us-east-1.{service}" for service in ("ecr.api", "ecr.dkr", "logs")]


def test_nat_modes_do_not_look_up_endpoint_services(default_stack: Deployment) -> None:
    assert default_stack.lookups("aws:ec2/getVpcEndpointService:getVpcEndpointService") == []


def test_too_few_zones_with_the_endpoints_is_one_clear_line() -> None:
    offered = {"ecr.api": ["us-east-1a", "us-east-1b"], "logs": ["us-east-1b", "us-east-1c"]}
    names, ids = zone_names("us-east-1"), zone_ids("us-east-1")
    with pytest.raises(pulumi.RunError) as refused:
        choose_zones("us-east-1", names, ids, 2, offered)
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(
        "az_count=2 but Fargate runs with the endpoints ecr.api, logs in 1 available zone of us-east-1 here "
        "(us-east-1b): lower az_count"
    )
