"""networking=private-endpoints under mocks: private tasks with no way out of the VPC but the endpoints they need."""

import json
from typing import Any

import pytest

from conftest import Deployment, deploy

ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
SSM_PARAMETER = "/hello/database-url"
SECRETS_MANAGER = "arn:aws:secretsmanager:us-east-1:123456789012:secret:api-key-AbCdEf"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/0b5e3c9a-1111-2222-3333-444455556666"


def interface_services(deployment: Deployment) -> set[str]:
    return {
        e.inputs["serviceName"].removeprefix("com.amazonaws.us-east-1.")
        for e in deployment.of_type(ENDPOINT)
        if e.inputs["vpcEndpointType"] == "Interface"
    }


def private_subnet_ids(deployment: Deployment) -> list[str]:
    return [s.id for s in deployment.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["tier"] == "private"]


def test_no_nat_and_no_route_out_of_the_private_subnets() -> None:
    deployment = deploy(networking="private-endpoints", az_count=3)
    assert deployment.of_type("aws:ec2/natGateway:NatGateway") == []
    assert deployment.of_type("aws:ec2/eip:Eip") == []
    private_tables = [r for r in deployment.of_type("aws:ec2/routeTable:RouteTable") if "private" in r.name]
    assert len(private_tables) == 3
    assert [table.inputs.get("routes", []) for table in private_tables] == [[], [], []]
    service = deployment.one("aws:ecs/service:Service").inputs["networkConfiguration"]
    assert sorted(service["subnets"]) == sorted(private_subnet_ids(deployment))
    assert service["assignPublicIp"] is False


def test_s3_gateway_reads_only_ecrs_layer_bucket_of_the_region() -> None:
    deployment = deploy(networking="private-endpoints", aws_region="eu-west-1")
    [s3] = [e.inputs for e in deployment.of_type(ENDPOINT) if e.inputs["vpcEndpointType"] == "Gateway"]
    [statement] = json.loads(s3["policy"])["Statement"]
    assert statement["Effect"] == "Allow" and statement["Action"] == "s3:GetObject"
    assert statement["Resource"] == "arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*"


def test_default_configuration_gets_exactly_ecr_logs_and_the_s3_gateway() -> None:
    deployment = deploy(networking="private-endpoints")
    assert interface_services(deployment) == {"ecr.api", "ecr.dkr", "logs"}
    [s3] = [e.inputs for e in deployment.of_type(ENDPOINT) if e.inputs["vpcEndpointType"] == "Gateway"]
    assert s3["serviceName"] == "com.amazonaws.us-east-1.s3"
    private_tables = [r.id for r in deployment.of_type("aws:ec2/routeTable:RouteTable") if "private" in r.name]
    assert sorted(s3["routeTableIds"]) == sorted(private_tables)


@pytest.mark.parametrize(
    ("config", "extra"),
    [
        ({"secrets": {"DATABASE_URL": SSM_PARAMETER}}, {"ssm"}),
        ({"secrets": {"API_KEY": SECRETS_MANAGER}}, {"secretsmanager"}),
        # SSM and Secrets Manager call KMS themselves to decrypt: the tasks never do, so no KMS endpoint.
        ({"secrets": {"API_KEY": SECRETS_MANAGER}, "secrets_kms_key_arn": KMS_KEY}, {"secretsmanager"}),
        ({"secrets_kms_key_arn": KMS_KEY}, set()),  # a key but no secret: nothing to decrypt at task start
        ({"enable_exec": True}, {"ssmmessages"}),
        (
            {
                "secrets": {"A": SSM_PARAMETER, "B": SECRETS_MANAGER},
                "secrets_kms_key_arn": KMS_KEY,
                "enable_exec": True,
            },
            {"ssm", "secretsmanager", "ssmmessages"},
        ),
    ],
)
def test_secrets_and_exec_add_exactly_the_endpoints_they_use(config: dict[str, Any], extra: set[str]) -> None:
    deployment = deploy(networking="private-endpoints", **config)
    assert interface_services(deployment) == {"ecr.api", "ecr.dkr", "logs"} | extra


def test_every_interface_endpoint_is_in_each_zones_private_subnet_with_private_dns() -> None:
    deployment = deploy(networking="private-endpoints", az_count=3, enable_exec=True)
    subnets = {s.id: s.inputs["availabilityZone"] for s in deployment.of_type("aws:ec2/subnet:Subnet")}
    [endpoint_group] = [g for g in deployment.of_type("aws:ec2/securityGroup:SecurityGroup") if "endpoints" in g.name]
    for endpoint in [e.inputs for e in deployment.of_type(ENDPOINT) if e.inputs["vpcEndpointType"] == "Interface"]:
        assert sorted(endpoint["subnetIds"]) == sorted(private_subnet_ids(deployment))
        assert len({subnets[subnet] for subnet in endpoint["subnetIds"]}) == 3
        assert endpoint["privateDnsEnabled"] is True
        assert endpoint["securityGroupIds"] == [endpoint_group.id]


def test_endpoints_admit_https_from_the_tasks_only() -> None:
    deployment = deploy(networking="private-endpoints")
    [endpoint_group] = [g for g in deployment.of_type("aws:ec2/securityGroup:SecurityGroup") if "endpoints" in g.name]
    [task_group] = deployment.one("aws:ecs/service:Service").inputs["networkConfiguration"]["securityGroups"]
    rules = [
        r.inputs
        for r in deployment.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.inputs["securityGroupId"] == endpoint_group.id
    ]
    assert len(rules) == 1
    assert (rules[0]["fromPort"], rules[0]["toPort"], rules[0]["ipProtocol"]) == (443, 443, "tcp")
    assert rules[0]["referencedSecurityGroupId"] == task_group
    assert "cidrIpv4" not in rules[0]


def test_no_task_starts_before_the_endpoints_exist() -> None:
    deployment = deploy(networking="private-endpoints")
    service = deployment.one("aws:ecs/service:Service")
    waits_for = set(deployment.depends_on[service.name])
    assert {e.name for e in deployment.of_type(ENDPOINT)} <= waits_for
    assert any(name.endswith("-tasks-to-endpoints") for name in waits_for)


@pytest.mark.parametrize("networking", ["private-nat-per-az", "private-single-nat", "public-subnets"])
def test_other_modes_have_no_endpoints(networking: str) -> None:
    deployment = deploy(networking=networking)
    assert deployment.of_type(ENDPOINT) == []
    assert not any("endpoints" in g.name for g in deployment.of_type("aws:ec2/securityGroup:SecurityGroup"))
