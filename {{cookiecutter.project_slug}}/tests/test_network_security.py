"""Security-group and network hygiene: described rules, only the ports in use, HTTPS-only egress, VPC flow logs."""

import json
from typing import Any

import pytest
from test_every_setting import RUNS

from conftest import ACCOUNT, Deployment, deploy
from infra.network import VPC_CIDR

INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
HTTPS: dict[str, Any] = {"enable_https": True, "domain_name": "api.example.com"}


def alb_ingress(deployment: Deployment) -> list[dict[str, Any]]:
    [alb_group] = deployment.one("aws:lb/loadBalancer:LoadBalancer").inputs["securityGroups"]
    return [rule.inputs for rule in deployment.of_type(INGRESS) if rule.inputs["securityGroupId"] == alb_group]


def task_egress(deployment: Deployment) -> list[dict[str, Any]]:
    [task_group] = deployment.one("aws:ecs/service:Service").inputs["networkConfiguration"]["securityGroups"]
    return [rule.inputs for rule in deployment.of_type(EGRESS) if rule.inputs["securityGroupId"] == task_group]


def test_every_security_group_rule_says_what_it_is_for(default_stack: Deployment) -> None:
    for deployment in (default_stack, deploy(**HTTPS)):
        rules = deployment.of_type(INGRESS) + deployment.of_type(EGRESS)
        assert rules and all(rule.inputs.get("description") for rule in rules), [r.name for r in rules]


def test_alb_opens_443_only_when_an_https_listener_exists(default_stack: Deployment) -> None:
    assert sorted(rule["fromPort"] for rule in alb_ingress(default_stack)) == [80]
    with_https = deploy(**HTTPS)
    assert {listener.inputs["port"] for listener in with_https.of_type("aws:lb/listener:Listener")} == {80, 443}
    assert sorted(rule["fromPort"] for rule in alb_ingress(with_https)) == [80, 443]


def test_ipv4_only_alb_has_no_ipv6_rules(default_stack: Deployment) -> None:
    alb = default_stack.one("aws:lb/loadBalancer:LoadBalancer").inputs
    assert alb.get("ipAddressType", "ipv4") == "ipv4"
    for deployment in (default_stack, deploy(**HTTPS)):
        assert [rule.get("cidrIpv4") for rule in alb_ingress(deployment)] == ["0.0.0.0/0"] * len(
            alb_ingress(deployment)
        )
        assert not any("cidrIpv6" in rule.inputs for rule in deployment.of_type(INGRESS) + deployment.of_type(EGRESS))


def test_tasks_leave_only_over_https_and_dns(default_stack: Deployment) -> None:
    allowed = sorted(
        (rule["ipProtocol"], rule["fromPort"], rule["toPort"], rule["cidrIpv4"]) for rule in task_egress(default_stack)
    )
    assert allowed == [
        ("tcp", 53, 53, str(VPC_CIDR)),
        ("tcp", 443, 443, "0.0.0.0/0"),
        ("udp", 53, 53, str(VPC_CIDR)),
    ]


Parts = dict[str, Any]


def flow_log_parts(deployment: Deployment) -> tuple[Parts, Parts, Parts, Parts]:
    """The flow log's inputs, its log group's and role's outputs, and the role policy's inputs."""
    flow_log = deployment.one("aws:ec2/flowLog:FlowLog").inputs
    [group] = [g for g in deployment.of_type("aws:cloudwatch/logGroup:LogGroup") if "flow" in g.name]
    [role] = [r for r in deployment.of_type("aws:iam/role:Role") if "flow" in r.name]
    [policy] = [p for p in deployment.of_type("aws:iam/rolePolicy:RolePolicy") if "flow" in p.name]
    return flow_log, group.outputs, role.outputs, policy.inputs


def test_vpc_flow_logs_go_to_a_log_group_with_the_stacks_retention(default_stack: Deployment) -> None:
    flow_log, group, role, _ = flow_log_parts(default_stack)
    assert flow_log["vpcId"] == default_stack.one("aws:ec2/vpc:Vpc").id
    assert flow_log["trafficType"] == "ALL"
    assert flow_log["logDestinationType"] == "cloud-watch-logs"
    assert flow_log["logDestination"] == group["arn"]
    assert flow_log["iamRoleArn"] == role["arn"]
    assert group["retentionInDays"] == 30
    _, longer, _, _ = flow_log_parts(deploy(log_retention_days=90))
    assert longer["retentionInDays"] == 90


def test_flow_log_role_is_trusted_by_flow_logs_of_this_account_only(default_stack: Deployment) -> None:
    _, _, role, _ = flow_log_parts(default_stack)
    [statement] = json.loads(role["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:ec2:us-east-1:{ACCOUNT}:vpc-flow-log/*"},
    }


def test_flow_log_role_may_write_only_its_log_group(default_stack: Deployment) -> None:
    _, group, _, policy = flow_log_parts(default_stack)
    statements = json.loads(policy["policy"])["Statement"]
    granted = {action: statement["Resource"] for statement in statements for action in statement["Action"]}
    writes = [group["arn"], group["arn"] + ":*"]
    assert granted == {
        "logs:CreateLogGroup": writes,
        "logs:CreateLogStream": writes,
        "logs:PutLogEvents": writes,
        "logs:DescribeLogStreams": writes,
        # A list call: it names the account's log groups, not one group.
        "logs:DescribeLogGroups": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:*",
    }


def test_flow_logs_can_be_switched_off() -> None:
    deployment = deploy(enable_flow_logs=False)
    assert deployment.of_type("aws:ec2/flowLog:FlowLog") == []
    assert not [r for r in deployment.resources if "flow" in r.name]
    # The VPC declares the exception, so the policy pack's EC2.6 rule accepts it.
    assert deployment.one("aws:ec2/vpc:Vpc").inputs["tags"]["flow-logs"] == "off"


@pytest.mark.parametrize("config", [{}, RUNS["canary"]], ids=["defaults", "endpoints-and-secrets"])
def test_the_service_starts_no_task_before_its_rules_and_execution_policies_exist(config: dict[str, Any]) -> None:
    """First create: the first tasks start when the service does. Every rule naming the tasks' security group (ALB to
    tasks, tasks out, tasks to the VPC endpoints) and every policy of the execution role (image pull and logs, the
    secrets) must exist by then, or the tasks fail to start or a health check and the circuit breaker counts it."""
    deployment = deploy(**config)
    service = deployment.one("aws:ecs/service:Service")
    [task_group] = service.inputs["networkConfiguration"]["securityGroups"]
    rules = [
        rule.name
        for rule in deployment.of_type(INGRESS) + deployment.of_type(EGRESS)
        if task_group in (rule.inputs["securityGroupId"], rule.inputs.get("referencedSecurityGroupId"))
    ]
    task = deployment.one("aws:ecs/taskDefinition:TaskDefinition")
    execution_role = next(
        role
        for role in deployment.of_type("aws:iam/role:Role")
        if role.outputs["arn"] == task.inputs["executionRoleArn"]
    )
    policies = [
        policy.name
        for kind in ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/rolePolicy:RolePolicy")
        for policy in deployment.of_type(kind)
        if policy.inputs["role"] in (execution_role.id, execution_role.outputs["name"])
    ]
    # The image pull and logs, the secrets, with tracing the collector pulled through the ECR cache.
    assert len(rules) >= 5 and len(policies) == 1 + bool(config.get("secrets")) + bool(config.get("enable_tracing"))
    assert set(rules + policies) <= set(deployment.depends_on[service.name])


DEFAULT_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"


def test_the_vpcs_default_security_group_is_taken_over_with_no_rules(default_stack: Deployment) -> None:
    """Security Hub EC2.2: AWS creates every VPC's default group with an allow-all egress rule and an ingress rule
    from itself; adopted with empty rule lists, the provider removes both and removes any added later."""
    [vpc] = default_stack.of_type("aws:ec2/vpc:Vpc")
    group = default_stack.one(DEFAULT_GROUP).inputs
    assert group["vpcId"] == vpc.id
    assert (group["ingress"], group["egress"]) == ([], [])


def test_nothing_in_the_stack_relies_on_the_default_security_group() -> None:
    """Closing the default group cuts off whatever is placed without a group of its own: nothing is."""
    deployment = deploy(networking="private-endpoints", enable_exec=True)
    assert deployment.one("aws:ecs/service:Service").inputs["networkConfiguration"]["securityGroups"]
    assert deployment.one("aws:lb/loadBalancer:LoadBalancer").inputs["securityGroups"]
    interface_endpoints = [
        endpoint.inputs
        for endpoint in deployment.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if endpoint.inputs["vpcEndpointType"] == "Interface"
    ]
    assert interface_endpoints and all(endpoint.get("securityGroupIds") for endpoint in interface_endpoints)
