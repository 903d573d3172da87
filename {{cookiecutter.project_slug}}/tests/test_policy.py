"""The policy pack's rules: the stack passes them in every configuration, and each rule fails when it should."""

import json
from typing import Any

import pytest
from security_rules import RESOURCE_RULES, STACK_RULES, violations

from conftest import deploy

CONFIGURATIONS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "https": {"enable_https": True, "domain_name": "api.example.com"},
    "public-subnets": {"networking": "public-subnets"},
    "private-endpoints": {"networking": "private-endpoints", "enable_exec": True},
    "spot": {"fargate_spot_percent": 100, "replicas": 4},
    "prod": {"stack": "prod"},
    "secrets": {"secrets": {"DATABASE_URL": "/prod/db"}, "enable_autoscaling": True},
    "exec": {"enable_exec": True},
    "waf": {"enable_waf": True, "waf_count_mode": True},
    "flow-logs-off": {"enable_flow_logs": False},
    "guardrails": {
        "permissions_boundary_arn": "arn:aws:iam::123456789012:policy/org/Boundary",
        "iam_role_path": "/teams/payments/",
        "deployment_strategy": "canary",
    },
}


@pytest.mark.parametrize("config", CONFIGURATIONS.values(), ids=CONFIGURATIONS.keys())
def test_stack_meets_every_control(config: dict[str, Any]) -> None:
    deployment = deploy(**config)
    assert violations([(r.type, r.inputs) for r in deployment.resources]) == {}


def task(**container: object) -> dict[str, object]:
    base = {
        "name": "app",
        "user": "10001",
        "readonlyRootFilesystem": True,
        "logConfiguration": {"logDriver": "awslogs"},
        "environment": [],
    }
    return {
        "containerDefinitions": json.dumps([{**base, **container}]),
        "executionRoleArn": "arn:execution",
        "taskRoleArn": "arn:task",
    }


TASK = "aws:ecs/taskDefinition:TaskDefinition"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
ALB = "aws:lb/loadBalancer:LoadBalancer"
GOOD_ALB = {"dropInvalidHeaderFields": True, "accessLogs": {"enabled": True, "bucket": "logs"}, "subnets": ["a", "b"]}
HTTPS_LISTENER = ("aws:lb/listener:Listener", {"protocol": "HTTPS", "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06"})
WEB_ACL, WAF_RULE = "aws:wafv2/webAcl:WebAcl", "aws:wafv2/webAclRule:WebAclRule"
METRICS_ON = {"visibilityConfig": {"cloudwatchMetricsEnabled": True}}
WAF_LOGGING = (
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
    {"redactedFields": [{"singleHeader": {"name": "authorization"}}, {"singleHeader": {"name": "Cookie"}}]},
)
CLOSED_DEFAULT_GROUP: tuple[str, dict[str, Any]] = (
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    {"ingress": [], "egress": []},
)
BROKEN: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "ecs-no-privileged-containers": [(TASK, task(privileged=True))],
    "ecs-read-only-root-filesystem": [(TASK, task(readonlyRootFilesystem=False))],
    "ecs-non-root-user": [(TASK, task(user="0"))],
    "ecs-logging-configured": [(TASK, task(logConfiguration={}))],
    "ecs-no-credentials-in-environment": [(TASK, task(environment=[{"name": "DB_PASSWORD", "value": "x"}]))],
    "ecs-separate-execution-and-task-roles": [(TASK, {**task(), "taskRoleArn": "arn:execution"})],
    "ecs-no-public-ip": [("aws:ecs/service:Service", {"networkConfiguration": {"assignPublicIp": True}, "tags": {}})],
    "ecs-container-insights": [("aws:ecs/cluster:Cluster", {"settings": []})],
    "ecs-spot-keeps-an-on-demand-base": [
        (
            "aws:ecs/service:Service",
            {
                "capacityProviderStrategies": [
                    {"capacityProvider": "FARGATE", "base": 1, "weight": 50},
                    {"capacityProvider": "FARGATE_SPOT", "weight": 50},
                ]
            },
        )
    ],
    "alb-drop-invalid-headers": [(ALB, {**GOOD_ALB, "dropInvalidHeaderFields": False})],
    "alb-access-logs": [(ALB, {**GOOD_ALB, "accessLogs": {"enabled": False}})],
    "alb-deletion-protection": [(ALB, {**GOOD_ALB, "tags": {"stack": "prod"}, "enableDeletionProtection": False})],
    "alb-multi-az": [(ALB, {**GOOD_ALB, "subnets": ["a"]})],
    "https-listener-tls-policy": [
        ("aws:lb/listener:Listener", {"protocol": "HTTPS", "sslPolicy": "ELBSecurityPolicy-2016-08"})
    ],
    "ecr-scan-on-push": [
        ("aws:ecr/repository:Repository", {"imageTagMutability": "IMMUTABLE"}),
        ("aws:ecr/lifecyclePolicy:LifecyclePolicy", {}),
    ],
    "ecr-immutable-tags": [
        ("aws:ecr/repository:Repository", {"imageScanningConfiguration": {"scanOnPush": True}}),
        ("aws:ecr/lifecyclePolicy:LifecyclePolicy", {}),
    ],
    "iam-no-wildcard-actions": [
        (
            "aws:iam/rolePolicy:RolePolicy",
            {"policy": json.dumps({"Statement": [{"Action": ["s3:*"], "Resource": "*"}]})},
        )
    ],
    "iam-no-wildcard-actions-managed": [
        (
            "aws:iam/policy:Policy",
            {"policy": json.dumps({"Statement": [{"Action": "ecs:*", "Resource": "*"}]})},
        )
    ],
    "log-retention": [("aws:cloudwatch/logGroup:LogGroup", {})],
    "internet-only-on-web-ports": [(INGRESS, {"cidrIpv4": "0.0.0.0/0", "fromPort": 22, "description": "SSH"})],
    "s3-block-public-access": [
        (
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            {"blockPublicAcls": True, "blockPublicPolicy": False},
        )
    ],
    "alb-http-redirects-to-https": [
        HTTPS_LISTENER,
        ("aws:lb/listener:Listener", {"protocol": "HTTP", "defaultActions": [{"type": "forward"}]}),
    ],
    "ecr-lifecycle-policy": [
        (
            "aws:ecr/repository:Repository",
            {"imageScanningConfiguration": {"scanOnPush": True}, "imageTagMutability": "IMMUTABLE"},
        )
    ],
    "s3-encryption": [("aws:s3/bucket:Bucket", {})],
    "private-tasks-use-vpc-endpoints": [("aws:ecs/service:Service", {"tags": {"networking": "private-endpoints"}})],
    "waf-rule-metrics": [(WAF_RULE, {"visibilityConfig": {"cloudwatchMetricsEnabled": False}})],
    "waf-acl-metrics": [
        (WEB_ACL, {"visibilityConfig": {"cloudwatchMetricsEnabled": False}}),
        WAF_LOGGING,
        (WAF_RULE, METRICS_ON),
    ],
    "waf-logs-redact-credentials": [
        (WAF_LOGGING[0], {"redactedFields": [{"singleHeader": {"name": "authorization"}}]})
    ],
    "waf-logging": [(WEB_ACL, METRICS_ON), (WAF_RULE, METRICS_ON)],
    "waf-has-rules": [(WEB_ACL, METRICS_ON), WAF_LOGGING],
    "sg-ingress-rule-described": [(INGRESS, {"cidrIpv4": "10.0.0.0/16", "fromPort": 80})],
    "sg-egress-rule-described": [(EGRESS, {"cidrIpv4": "0.0.0.0/0", "fromPort": 443, "description": " "})],
    "vpc-flow-logs": [("aws:ec2/vpc:Vpc", {"tags": {"Name": "vpc"}}), CLOSED_DEFAULT_GROUP],
    "vpc-default-security-group-closed": [
        ("aws:ec2/vpc:Vpc", {"tags": {"flow-logs": "off"}}),
        (CLOSED_DEFAULT_GROUP[0], {"ingress": [], "egress": [{"protocol": "-1", "cidrBlocks": ["0.0.0.0/0"]}]}),
    ],
    "alb-https-port-only-with-https-listener": [
        (INGRESS, {"cidrIpv4": "0.0.0.0/0", "fromPort": 443, "description": "HTTPS"})
    ],
    "iam-permissions-boundary": [
        ("aws:iam/role:Role", {"name": "guarded", "permissionsBoundary": "arn:aws:iam::123456789012:policy/B"}),
        ("aws:iam/role:Role", {"name": "added-by-hand"}),
    ],
    "no-ipv6-rules-on-ipv4-stack": [
        (ALB, {**GOOD_ALB, "ipAddressType": "ipv4"}),
        (INGRESS, {"cidrIpv6": "::/0", "fromPort": 80, "description": "HTTP over IPv6"}),
    ],
}


def test_every_rule_has_a_broken_case() -> None:
    assert sorted(BROKEN) == sorted([rule.name for rule in RESOURCE_RULES] + [rule.name for rule in STACK_RULES])


@pytest.mark.parametrize("rule", sorted(BROKEN))
def test_rule_fails_on_its_broken_case_and_only_it(rule: str) -> None:
    assert list(violations(BROKEN[rule])) == [rule]


def test_flow_logs_may_be_off_only_when_the_vpc_declares_it() -> None:
    vpc_without_flow_logs = ("aws:ec2/vpc:Vpc", {"tags": {"flow-logs": "off"}})
    assert violations([vpc_without_flow_logs, CLOSED_DEFAULT_GROUP]) == {}
    vpc_with_flow_logs = ("aws:ec2/vpc:Vpc", {"tags": {"flow-logs": "on"}})
    assert violations([vpc_with_flow_logs, ("aws:ec2/flowLog:FlowLog", {}), CLOSED_DEFAULT_GROUP]) == {}


def test_a_vpc_the_stack_creates_needs_its_default_security_group_closed() -> None:
    """EC2.2. A stack that only looks a VPC up (no aws:ec2/vpc:Vpc resource) leaves that VPC's default group alone."""
    vpc = ("aws:ec2/vpc:Vpc", {"tags": {"flow-logs": "off"}})
    assert violations([vpc]) == {"vpc-default-security-group-closed": ["1 VPC but 0 closed default security groups"]}
    assert violations([]) == {}


def test_public_ip_is_allowed_only_when_declared() -> None:
    service = {"networkConfiguration": {"assignPublicIp": True}, "tags": {"networking": "public-subnets"}}
    assert violations([("aws:ecs/service:Service", service)]) == {}


def test_writable_root_filesystem_is_allowed_only_when_exec_is_declared() -> None:
    writable = task(readonlyRootFilesystem=False)
    assert violations([(TASK, {**writable, "tags": {"enable_exec": "true"}})]) == {}
    assert list(violations([(TASK, {**writable, "tags": {"enable_exec": "false"}})])) == [
        "ecs-read-only-root-filesystem"
    ]


def test_unknown_container_definitions_are_not_judged_during_preview() -> None:
    assert violations([(TASK, {"containerDefinitions": None, "executionRoleArn": "a", "taskRoleArn": "b"})]) == {}


def endpoint(service: str, kind: str = "Interface", private_dns: bool = True) -> tuple[str, dict[str, Any]]:
    props: dict[str, Any] = {"serviceName": f"com.amazonaws.us-east-1.{service}", "vpcEndpointType": kind}
    if kind == "Interface":
        props["privateDnsEnabled"] = private_dns
    return ("aws:ec2/vpcEndpoint:VpcEndpoint", props)


PRIVATE_SERVICE = ("aws:ecs/service:Service", {"tags": {"networking": "private-endpoints"}})
PRIVATE_ENDPOINTS = [endpoint("ecr.api"), endpoint("ecr.dkr"), endpoint("logs"), endpoint("s3", "Gateway")]


@pytest.mark.parametrize(
    ("resources", "problem"),
    [
        ([*PRIVATE_ENDPOINTS, ("aws:ec2/natGateway:NatGateway", {})], "NAT gateway 0: private-endpoints has none"),
        (PRIVATE_ENDPOINTS[1:], "no Interface endpoint for ecr.api"),
        (PRIVATE_ENDPOINTS[:3], "no Gateway endpoint for s3"),
        ([*PRIVATE_ENDPOINTS[1:], endpoint("ecr.api", private_dns=False)], "without private DNS"),
    ],
)
def test_private_endpoints_mode_needs_its_endpoints_and_no_nat(
    resources: list[tuple[str, dict[str, Any]]], problem: str
) -> None:
    [found] = violations([PRIVATE_SERVICE, *resources])["private-tasks-use-vpc-endpoints"]
    assert problem in found
    assert violations([PRIVATE_SERVICE, *PRIVATE_ENDPOINTS]) == {}


def test_roles_on_different_paths_fail_the_guardrails_rule() -> None:
    """An SCP or a boundary's conditions match roles by path: a role added off `iam_role_path` is caught at preview."""
    on_path = ("aws:iam/role:Role", {"name": "task", "path": "/teams/payments/"})
    assert violations([on_path, ("aws:iam/role:Role", {"name": "by-hand", "path": "/teams/payments/"})]) == {}
    assert list(violations([on_path, ("aws:iam/role:Role", {"name": "by-hand"})])) == ["iam-permissions-boundary"]


def test_ecs8_follows_aws_configs_secret_keys_and_credential_shaped_values() -> None:
    def environment(name: str, value: str = "x") -> list[tuple[str, dict[str, Any]]]:
        return [(TASK, task(environment=[{"name": name, "value": value}]))]

    for refused in [environment("ECS_ENGINE_AUTH_DATA"), environment("GH_TOKEN"), environment("ID", "ASIA" + "B" * 16)]:
        assert list(violations(refused)) == ["ecs-no-credentials-in-environment"]
    for accepted in ["TOKEN_URL", "OAUTH_TOKEN_ENDPOINT", "PASSWORD_MIN_LENGTH"]:
        assert violations(environment(accepted)) == {}
