"""vpc_id: the stack deploys into an existing VPC (tests/landing_zone.py) and refuses every unusable one at preview."""

import re

import boto3  # type: ignore[import-untyped]
import jmespath  # type: ignore[import-untyped]
import landing_zone
import pulumi
import pytest
from landing_zone import (
    ANSWERS,
    HUB_DNS_SERVERS,
    IGW,
    ISOLATED_A,
    ISOLATED_B,
    MISSING_SUBNET,
    NAT,
    OTHER_VPC,
    OTHER_VPC_SUBNET,
    PRIVATE_A,
    PRIVATE_B,
    PRIVATE_C,
    PRIVATE_ON_MAIN,
    PUBLIC_A,
    PUBLIC_A_TWIN,
    PUBLIC_B,
    PUBLIC_C_NAT,
    SHARED_ANSWERS,
    SHARED_PRIVATE_A,
    SHARED_PUBLIC_A,
    VPC,
    VPC_CIDRS,
    WEST_PEERED_B,
    WEST_PRIVATE_A,
    WEST_PRIVATE_C,
    WEST_PUBLIC_A,
    WEST_PUBLIC_B,
    WEST_PUBLIC_C,
    WEST_VGW_B,
    WEST_VPC,
)
from moto import mock_aws
from security_rules import violations

from conftest import ROOT, Deployment, deploy, run_program, run_stack, stack_config
from infra.existing_vpc import AWS_ACTIONS, existing_vpc
from infra.validation import parse_settings

NETWORK_TYPES = (
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/eip:Eip",
    "aws:ec2/routeTable:RouteTable",
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:ec2/vpcEndpoint:VpcEndpoint",
    "aws:ec2/flowLog:FlowLog",
)
DNS_PORT = 53


@pytest.fixture(scope="module")
def existing() -> Deployment:
    return deploy(**ANSWERS)


def checked(monkeypatch: pytest.MonkeyPatch, **answers: object) -> tuple[list[str], list[str]]:
    """The refusal's lines and the warnings the checks log for these answers (the rest: ANSWERS)."""
    warnings: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *_, **__: warnings.append(message))
    return refusal(**answers), warnings


def refusal(**answers: object) -> list[str]:
    """The lines of the RunError the existing-VPC checks raise for these answers (the rest: ANSWERS), or []."""
    settings = parse_settings({**ANSWERS, **answers})
    failure: list[str] = []

    def program() -> None:
        try:
            existing_vpc(settings)
        except pulumi.RunError as error:
            failure.extend(str(error).splitlines())

    run_program(program, region=settings.aws_region)
    return [line.strip() for line in failure]


def test_the_stack_creates_no_network_of_its_own(existing: Deployment) -> None:
    assert [r.type for r in existing.resources if r.type in NETWORK_TYPES] == []
    assert existing.lookups("aws:index/getAvailabilityZones:getAvailabilityZones") == []


def test_the_alb_takes_the_public_subnets_and_the_tasks_the_private_ones(existing: Deployment) -> None:
    assert existing.one("aws:lb/loadBalancer:LoadBalancer").inputs["subnets"] == [PUBLIC_A, PUBLIC_B]
    network = existing.one("aws:ecs/service:Service").inputs["networkConfiguration"]
    assert network["subnets"] == [PRIVATE_A, PRIVATE_B]
    assert network["assignPublicIp"] is False
    groups = existing.of_type("aws:ec2/securityGroup:SecurityGroup")
    assert len(groups) == 2 and all(group.inputs["vpcId"] == VPC for group in groups)
    assert {target.inputs["vpcId"] for target in existing.of_type("aws:lb/targetGroup:TargetGroup")} == {VPC}


def test_tasks_resolve_dns_in_every_cidr_block_of_the_vpc(existing: Deployment) -> None:
    [task_group] = existing.one("aws:ecs/service:Service").inputs["networkConfiguration"]["securityGroups"]
    egress = [
        rule.inputs
        for rule in existing.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
        if rule.inputs["securityGroupId"] == task_group and rule.inputs["fromPort"] == DNS_PORT
    ]
    [lookup] = existing.lookups("aws:ec2/getVpc:getVpc")
    blocks = [block["cidrBlock"] for block in lookup.answer["cidrBlockAssociations"]]
    assert blocks == list(VPC_CIDRS[VPC]) and len(blocks) == 2  # the primary block and a secondary one
    assert sorted((rule["ipProtocol"], rule["cidrIpv4"]) for rule in egress) == sorted(
        (protocol, block) for protocol in ("tcp", "udp") for block in blocks
    )


def test_the_policy_pack_accepts_it_with_the_flow_log_exception_declared(existing: Deployment) -> None:
    resources = [(r.type, r.inputs) for r in existing.resources]
    assert violations(resources) == {}
    undeclared = [
        (type_, {**inputs, "tags": {}}) if type_ == "aws:ec2/securityGroup:SecurityGroup" else (type_, inputs)
        for type_, inputs in resources
    ]
    assert list(violations(undeclared)) == ["vpc-flow-logs"]


def test_a_refused_vpc_stops_the_program_before_any_resource() -> None:
    deployment, failure = run_stack(stack_config({**ANSWERS, "private_subnet_ids": f"{PRIVATE_A},{MISSING_SUBNET}"}))
    assert failure is not None
    assert f"private_subnet_ids: {MISSING_SUBNET} does not exist in us-east-1" in str(failure)
    assert [r.type for r in deployment.resources if not r.type.startswith("pulumi:")] == []


def test_a_vpc_that_does_not_exist() -> None:
    assert refusal(vpc_id="vpc-0c0ffee00000000ee") == [
        "vpc_id=vpc-0c0ffee00000000ee does not exist in us-east-1 (or this account cannot see it)"
    ]


def test_a_working_landing_zone_is_accepted_through_the_main_route_table() -> None:
    # PUBLIC_B has no route table of its own: the main table's route to the internet gateway is its route.
    assert refusal() == []


NAT_TABLE, MAIN_TABLE = "rtb-0c0ffee0000000003", "rtb-0c0ffee0000000001"
REFUSALS: dict[str, tuple[dict[str, object], str]] = {
    "subnet in another VPC": (
        {"private_subnet_ids": f"{OTHER_VPC_SUBNET},{PRIVATE_B}"},
        f"private_subnet_ids: {OTHER_VPC_SUBNET} is in {OTHER_VPC}, not in vpc_id={VPC}",
    ),
    "public subnets in one zone": (
        {"public_subnet_ids": f"{PUBLIC_A},{PUBLIC_A_TWIN}", "private_subnet_ids": f"{PRIVATE_A}", "az_count": 2},
        f"public_subnet_ids: {PUBLIC_A}, {PUBLIC_A_TWIN} cover 1 Availability Zone: an ALB needs subnets in at "
        "least two",
    ),
    "two public subnets in a zone": (
        {"public_subnet_ids": f"{PUBLIC_A},{PUBLIC_A_TWIN},{PUBLIC_B}"},
        f"public_subnet_ids: {PUBLIC_A} and {PUBLIC_A_TWIN} are both in us-east-1a: an ALB takes one subnet per "
        "Availability Zone",
    ),
    "private subnets in fewer zones than az_count": (
        {"private_subnet_ids": f"{PRIVATE_A},{ISOLATED_A}"},
        f"private_subnet_ids: {PRIVATE_A}, {ISOLATED_A} cover 1 Availability Zone (us-east-1a), fewer than az_count=2 "
        "the tasks spread over: add subnets in other zones or lower az_count",
    ),
    "az_count=3 over two zones": (
        {"az_count": 3},
        f"private_subnet_ids: {PRIVATE_A}, {PRIVATE_B} cover 2 Availability Zones (us-east-1a, us-east-1b), fewer "
        "than az_count=3 the tasks spread over: add subnets in other zones or lower az_count",
    ),
    "a task zone without an ALB subnet": (
        {"private_subnet_ids": f"{PRIVATE_A},{PRIVATE_C}"},
        f"private_subnet_ids: {PRIVATE_C} is in us-east-1c, where the ALB has no subnet: an ALB sends nothing to "
        "targets in a zone it is not enabled in; add a public subnet in that zone",
    ),
    "an ALB subnet without an internet gateway": (
        {"public_subnet_ids": f"{PUBLIC_A},{PUBLIC_C_NAT}", "private_subnet_ids": f"{PRIVATE_A},{PRIVATE_C}"},
        f"public_subnet_ids: {PUBLIC_C_NAT} routes 0.0.0.0/0 to {NAT['natGatewayId']} ({NAT_TABLE}), not to an "
        "internet gateway: an internet-facing ALB there cannot be reached",
    ),
    "a task subnet on the main table's internet gateway": (
        {"private_subnet_ids": f"{PRIVATE_A},{PRIVATE_ON_MAIN}"},
        f"private_subnet_ids: {PRIVATE_ON_MAIN} routes 0.0.0.0/0 to the internet gateway {IGW['gatewayId']} "
        f"({MAIN_TABLE}, the main route table): tasks get no public IP, so they cannot leave through it; give the "
        "tasks subnets that leave through NAT or Transit Gateway",
    ),
    "a task subnet with no route out and no S3 endpoint": (
        {"private_subnet_ids": f"{ISOLATED_A},{ISOLATED_B}"},
        f"private_subnet_ids: {ISOLATED_B} has no route out (rtb-0c0ffee0000000006 has no 0.0.0.0/0 to a NAT "
        "gateway, Transit Gateway or network interface) and the VPC lacks the endpoints the tasks would need "
        "instead: s3 (gateway, on rtb-0c0ffee0000000006)",
    ),
    "secrets from SSM where its endpoint has no private DNS": (
        {"private_subnet_ids": f"{ISOLATED_A},{PRIVATE_B}", "secrets": {"DATABASE_URL": "/app/database-url"}},
        f"private_subnet_ids: {ISOLATED_A} has no route out (rtb-0c0ffee0000000005 has no 0.0.0.0/0 to a NAT "
        "gateway, Transit Gateway or network interface) and the VPC lacks the endpoints the tasks would need "
        "instead: ssm (interface, private DNS)",
    ),
    "tracing without a route out": (
        {"private_subnet_ids": f"{ISOLATED_A},{PRIVATE_B}", "enable_tracing": True, "memory": 1024},
        f"private_subnet_ids: {ISOLATED_A} has no route out (rtb-0c0ffee0000000005 has no 0.0.0.0/0 to a NAT "
        "gateway, Transit Gateway or network interface) and the VPC lacks the endpoints the tasks would need "
        "instead: xray (interface, private DNS)",
    ),
    "a subnet that does not exist": (
        {"public_subnet_ids": f"{PUBLIC_A},{MISSING_SUBNET}"},
        f"public_subnet_ids: {MISSING_SUBNET} does not exist in us-east-1",
    ),
    "a zone without Fargate": (
        {
            "aws_region": "us-west-1",
            "vpc_id": WEST_VPC,
            "public_subnet_ids": f"{WEST_PUBLIC_A},{WEST_PUBLIC_B},{WEST_PUBLIC_C}",
            "private_subnet_ids": f"{WEST_PRIVATE_A},{WEST_PRIVATE_C}",
        },
        f"private_subnet_ids: {WEST_PRIVATE_C} is in us-west-1c (usw1-az2), a zone without Fargate: use another zone",
    ),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_an_unusable_vpc_is_refused_with_one_line_naming_the_setting_and_the_id(case: str) -> None:
    answers, line = REFUSALS[case]
    assert line in refusal(**answers)


def test_isolated_subnets_pass_with_the_endpoints_the_tasks_need() -> None:
    # ISOLATED_A has no route out but sits on the S3 gateway endpoint's table; ECR and Logs have interface endpoints.
    assert refusal(private_subnet_ids=f"{ISOLATED_A},{PRIVATE_B}") == []


def test_one_mistake_is_one_line_under_a_header_that_says_nothing_was_created() -> None:
    answers, line = REFUSALS["an ALB subnet without an internet gateway"]
    assert refusal(**answers) == ["the existing VPC cannot take this stack (nothing was created):", line]


def test_the_mocks_answer_route_tables_and_cidr_blocks_as_ec2_does() -> None:
    """What the checks rely on, reproduced with moto's EC2: a subnet without a table of its own is not found by the
    association.subnet-id filter, the main table's association names no subnet, and the VPC's CIDR associations
    list its primary block too. The landing-zone mock answers the same way."""
    in_one = [{"Name": "association.subnet-id", "Values": []}]
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        ec2.associate_vpc_cidr_block(VpcId=vpc, CidrBlock="100.64.0.0/18")
        implicit = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
        in_one[0]["Values"] = [implicit]
        assert ec2.describe_route_tables(Filters=in_one)["RouteTables"] == []
        main_filter = [{"Name": "vpc-id", "Values": [vpc]}, {"Name": "association.main", "Values": ["true"]}]
        [main] = ec2.describe_route_tables(Filters=main_filter)["RouteTables"]
        assert [(a["Main"], a.get("SubnetId")) for a in main["Associations"]] == [(True, None)]
        blocks = ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["CidrBlockAssociationSet"]
        assert [block["CidrBlock"] for block in blocks] == ["10.20.0.0/16", "100.64.0.0/18"]

    ask = {"vpcId": VPC, "filters": [{"name": "association.subnet-id", "values": [PUBLIC_B]}]}
    assert landing_zone.get_route_tables(ask)["ids"] == []
    [main_id] = landing_zone.get_route_tables(
        {"vpcId": VPC, "filters": [{"name": "association.main", "values": ["true"]}]}
    )["ids"]
    main_associations = landing_zone.get_route_table({"routeTableId": main_id})["associations"]
    assert [(a["main"], a["subnetId"]) for a in main_associations] == [(True, "")]
    mocked = landing_zone.get_vpc({"id": VPC}, "us-east-1")["cidrBlockAssociations"]
    assert [block["cidrBlock"] for block in mocked] == list(VPC_CIDRS[VPC])


def test_the_readme_names_every_lookup_the_roles_must_allow() -> None:
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert [action for action in AWS_ACTIONS if f"`{action}`" not in readme] == []


def test_a_ram_shared_vpc_whose_route_tables_are_invisible_is_warned_about_not_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A participant account sees a shared VPC's subnets, not the owner's route tables: both route-table lookups
    come back empty. The old code raised KeyError (tables[""]); now the route checks are skipped with a warning."""
    lines, warnings = checked(monkeypatch, **SHARED_ANSWERS)
    assert lines == []
    assert len(warnings) == 4
    assert any(w.startswith(f"private_subnet_ids: {SHARED_PRIVATE_A}'s route table is not visible") for w in warnings)
    assert any(f"{SHARED_PUBLIC_A}'s route table" in w and "VPC owner's" in w for w in warnings)


def test_existing_vpc_egress_vpc_owner_warns_instead_of_refusing_a_subnet_without_a_way_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Central endpoints (a hub VPC over Transit Gateway) are invisible to the lookups: vpc-owner trusts them."""
    answers = {"private_subnet_ids": f"{PRIVATE_A},{ISOLATED_B}"}
    refused, _ = checked(monkeypatch, **answers)
    assert any(line.startswith(f"private_subnet_ids: {ISOLATED_B} has no route out") for line in refused)
    lines, warnings = checked(monkeypatch, **answers, existing_vpc_egress="vpc-owner")
    assert lines == []
    assert [w for w in warnings if w.startswith(f"private_subnet_ids: {ISOLATED_B} has no route out")] != []
    assert all("existing_vpc_egress=vpc-owner" in w for w in warnings)


WEST = {"vpc_id": WEST_VPC, "public_subnet_ids": f"{WEST_PUBLIC_A},{WEST_PUBLIC_B}", "aws_region": "us-west-1"}


def test_a_default_route_a_virtual_private_gateway_may_propagate_is_warned_about_not_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The route-table lookup drops propagated routes (VPN, Direct Connect): with a VGW attached, no static default
    route may still be a way out. The old code refused it for lacking endpoints."""
    lines, warnings = checked(monkeypatch, **WEST, private_subnet_ids=f"{WEST_PRIVATE_A},{WEST_VGW_B}")
    assert lines == []
    assert [w for w in warnings if w.startswith(f"private_subnet_ids: {WEST_VGW_B}:") and "vgw-" in w] != []


def test_a_default_route_to_a_peering_connection_is_refused_as_no_way_out(monkeypatch: pytest.MonkeyPatch) -> None:
    lines, _ = checked(monkeypatch, **WEST, private_subnet_ids=f"{WEST_PRIVATE_A},{WEST_PEERED_B}")
    assert any(
        line.startswith(f"private_subnet_ids: {WEST_PEERED_B} routes 0.0.0.0/0 to the peering connection pcx-")
        and "does not carry traffic out of the VPC" in line
        for line in lines
    )


def test_tasks_may_reach_the_custom_dns_servers_of_the_vpcs_dhcp_options() -> None:
    """A landing zone's DHCP options may name DNS servers outside the VPC (a hub's Route 53 Resolver endpoints or
    AD): the tasks' DNS egress covers each, UDP and TCP; AmazonProvidedDNS (the ANSWERS VPC) adds nothing."""
    shared = deploy(**SHARED_ANSWERS)

    def dns_rules(deployment: Deployment) -> set[tuple[str, str]]:
        return {
            (rule.inputs["ipProtocol"], rule.inputs["cidrIpv4"])
            for rule in deployment.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
            if rule.inputs.get("fromPort") == DNS_PORT
        }

    servers = {(protocol, f"{ip}/32") for ip in HUB_DNS_SERVERS for protocol in ("udp", "tcp")}
    assert servers <= dns_rules(shared)
    assert not any(cidr.endswith("/32") for _, cidr in dns_rules(deploy(**ANSWERS)))


def test_the_readmes_route_table_query_survives_tables_without_subnets_or_a_default_route() -> None:
    """The README's describe-route-tables --query, run by jmespath (the AWS CLI's query language): the main table
    names no subnet and an isolated table has no default route; the old query's join() over nulls failed there."""
    readme = (ROOT / "README.md").read_text()
    [query] = re.findall(r"aws ec2 describe-route-tables .*\n\s*--query '([^']+)'", readme)
    default = "0.0.0.0/0"
    answer = {
        "RouteTables": [
            {
                "RouteTableId": "rtb-1",
                "Associations": [{"Main": True}],
                "Routes": [{"DestinationCidrBlock": default, "GatewayId": "igw-1", "State": "active"}],
            },
            {
                "RouteTableId": "rtb-2",
                "Associations": [{"SubnetId": "subnet-a"}],
                "Routes": [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"}],
            },
            {
                "RouteTableId": "rtb-3",
                "Associations": [{"SubnetId": "subnet-b"}, {"SubnetId": "subnet-c"}],
                "Routes": [{"DestinationCidrBlock": default, "NatGatewayId": "nat-1", "State": "blackhole"}],
            },
        ]
    }
    assert jmespath.search(query, answer) == [
        ["rtb-1", "", "igw-1,active"],
        ["rtb-2", "subnet-a", ""],
        ["rtb-3", "subnet-b,subnet-c", "nat-1,blackhole"],
    ]
