"""Every Pulumi.<stack>.yaml of this project, run through the program under mocks: the config drives the stack.

These are the tests of the stack this project was generated for: every value they expect comes from the stack file,
never from the program's defaults, and every cookiecutter answer (a key of the stack file) has a check below, so a
variant cannot pass here by asserting the defaults. (test_stack.py and test_options.py test the program with the
settings they name, in every variant alike.)
"""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from security_rules import violations

from conftest import PROJECT, ROOT, Deployment, deploy_stack_file, stack_file_config
from infra.task import CONTAINER_NAME
from infra.validation import ANSWER_DEFAULTS, Settings, parse_settings

STACK_FILES = sorted(ROOT.glob("Pulumi.*.yaml"))
NAT_GATEWAYS: dict[str, Callable[[int], int]] = {
    "private-nat-per-az": lambda azs: azs,
    "private-single-nat": lambda _: 1,
    "public-subnets": lambda _: 0,
    "private-endpoints": lambda _: 0,
}


def stack_of(stack_file: Path) -> tuple[Settings, Deployment]:
    """The settings the stack file holds, and what the program built from it (once per file)."""
    config = stack_file_config(stack_file)
    raw = {key.split(":", 1)[1]: value for key, value in config.items() if not key.startswith("aws:")}
    return parse_settings({**raw, "aws_region": config["aws:region"]}), deploy_stack_file(stack_file)


def only(deployment: Deployment, type_: str) -> list[dict[str, Any]]:
    return [resource.inputs for resource in deployment.of_type(type_)]


def listener_on(deployment: Deployment, port: int) -> list[dict[str, Any]]:
    return [listener for listener in only(deployment, "aws:lb/listener:Listener") if listener["port"] == port]


def policies(deployment: Deployment) -> dict[str, dict[str, Any]]:
    found = {}
    for policy in only(deployment, "aws:appautoscaling/policy:Policy"):
        configuration = policy["targetTrackingScalingPolicyConfiguration"]
        predefined = configuration.get("predefinedMetricSpecification")
        # With two target groups (blue-green, canary, linear) requests per target are a metric-math sum over both.
        found[predefined["predefinedMetricType"] if predefined else "ALBRequestCountPerTarget"] = configuration
    return found


def scaling_target(deployment: Deployment) -> dict[str, Any]:
    [target] = only(deployment, "aws:appautoscaling/target:Target")
    return target


def container(deployment: Deployment) -> dict[str, Any]:
    """The app's container (with enable_tracing in the stack file, the collector runs beside it)."""
    [task] = only(deployment, "aws:ecs/taskDefinition:TaskDefinition")
    [app] = [found for found in json.loads(task["containerDefinitions"]) if found["name"] == CONTAINER_NAME]
    return dict(app)


def zone_lookups(deployment: Deployment) -> list[dict[str, Any]]:
    return [invoke.args for invoke in deployment.lookups("aws:route53/getZone:getZone")]


def certificate_used(deployment: Deployment, certificate_arn: str) -> bool:
    """The HTTPS listener serves the given certificate, or else the one ACM issued, once validated."""
    [listener] = listener_on(deployment, 443)
    if certificate_arn:
        return listener["certificateArn"] == certificate_arn and not deployment.of_type(
            "aws:acm/certificate:Certificate"
        )
    validation = deployment.one("aws:acm/certificateValidation:CertificateValidation")
    return bool(listener["certificateArn"] == validation.outputs["certificateArn"])


def target_groups(deployment: Deployment) -> list[dict[str, Any]]:
    """The service's target groups: one, or two that take turns for a blue-green, canary or linear release."""
    return only(deployment, "aws:lb/targetGroup:TargetGroup")


def stickiness(deployment: Deployment) -> list[dict[str, Any]]:
    return [dict(target_group["stickiness"]) for target_group in target_groups(deployment)]


def service(deployment: Deployment) -> dict[str, Any]:
    [found] = only(deployment, "aws:ecs/service:Service")
    return found


def task_zones(deployment: Deployment) -> set[str]:
    """The zones of the tasks' subnets: the stack's own subnets, or what the lookups said of an existing VPC's."""
    looked_up = {
        invoke.args["id"]: invoke.answer["availabilityZone"]
        for invoke in deployment.lookups("aws:ec2/getSubnet:getSubnet")
    }
    return {
        looked_up[subnet] if subnet in looked_up else deployment.by_id(subnet).inputs["availabilityZone"]
        for subnet in service(deployment)["networkConfiguration"]["subnets"]
    }


def app_port_rules(deployment: Deployment) -> list[dict[str, Any]]:
    """The rules between the ALB and the tasks: the tasks' ingress from the ALB, the ALB's egress to the tasks."""
    [task_group] = service(deployment)["networkConfiguration"]["securityGroups"]
    ingress = only(deployment, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    egress = only(deployment, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    from_alb = [
        rule for rule in ingress if rule["securityGroupId"] == task_group and rule.get("referencedSecurityGroupId")
    ]
    return from_alb + [rule for rule in egress if rule.get("referencedSecurityGroupId") == task_group]


Check = Callable[[Settings, Deployment], bool]

# Each answer -> what the stack built from it must show. A new cookiecutter answer needs a line here.
ANSWER_CHECKS: dict[str, Check] = {
    "aws_region": lambda s, d: container(d)["logConfiguration"]["options"]["awslogs-region"] == s.aws_region,
    "replicas": lambda s, d: service(d)["desiredCount"] == s.replicas,
    "cpu": lambda s, d: only(d, "aws:ecs/taskDefinition:TaskDefinition")[0]["cpu"] == str(s.cpu),
    "memory": lambda s, d: only(d, "aws:ecs/taskDefinition:TaskDefinition")[0]["memory"] == str(s.memory),
    "cpu_architecture": lambda s, d: (
        only(d, "aws:ecs/taskDefinition:TaskDefinition")[0]["runtimePlatform"]["cpuArchitecture"] == s.cpu_architecture
    ),
    "container_port": lambda s, d: (
        all(attachment["containerPort"] == s.container_port for attachment in service(d)["loadBalancers"])
        and container(d)["portMappings"][0]["containerPort"] == s.container_port
        and len(app_port_rules(d)) == 2
        and all(rule["fromPort"] == rule["toPort"] == s.container_port for rule in app_port_rules(d))
    ),
    "health_check_path": lambda s, d: all(
        target_group["healthCheck"]["path"] == s.health_check_path for target_group in target_groups(d)
    ),
    "networking": lambda s, d: (
        service(d)["networkConfiguration"]["assignPublicIp"] is (s.networking == "public-subnets")
        and len(d.of_type("aws:ec2/natGateway:NatGateway"))
        == (0 if s.existing_vpc else NAT_GATEWAYS[s.networking](s.az_count))
    ),
    "az_count": lambda s, d: len(task_zones(d)) >= s.az_count if s.existing_vpc else len(task_zones(d)) == s.az_count,
    # An existing VPC: the stack builds no network of its own and places the ALB and the tasks in the named subnets.
    "vpc_id": lambda s, d: (
        {group["vpcId"] for group in only(d, "aws:ec2/securityGroup:SecurityGroup")}
        == ({s.vpc_id} if s.existing_vpc else {vpc.id for vpc in d.of_type("aws:ec2/vpc:Vpc")})
    ),
    "public_subnet_ids": lambda s, d: (
        not s.existing_vpc or only(d, "aws:lb/loadBalancer:LoadBalancer")[0]["subnets"] == list(s.public_subnet_ids)
    ),
    "private_subnet_ids": lambda s, d: (
        not s.existing_vpc or service(d)["networkConfiguration"]["subnets"] == list(s.private_subnet_ids)
    ),
    "log_retention_days": lambda s, d: (
        only(d, "aws:cloudwatch/logGroup:LogGroup")[0]["retentionInDays"] == s.log_retention_days
    ),
    "enable_https": lambda s, d: len(listener_on(d, 443)) == s.enable_https,
    "domain_name": lambda s, d: (
        [r["name"] for r in only(d, "aws:route53/record:Record") if r["type"] == "A"]
        == ([s.domain_name] if s.domain_name else [])
    ),
    "hosted_zone_name": lambda s, d: (
        zone_lookups(d) == ([{"name": s.zone_name, "privateZone": False}] if s.domain_name else [])
    ),
    "certificate_arn": lambda s, d: not s.enable_https or certificate_used(d, s.certificate_arn),
    "enable_autoscaling": lambda s, d: len(only(d, "aws:appautoscaling/target:Target")) == s.enable_autoscaling,
    "enable_waf": lambda s, d: len(only(d, "aws:wafv2/webAclAssociation:WebAclAssociation")) == s.enable_waf,
    "autoscaling_min": lambda s, d: not s.enable_autoscaling or scaling_target(d)["minCapacity"] == s.autoscaling_min,
    "autoscaling_max": lambda s, d: not s.enable_autoscaling or scaling_target(d)["maxCapacity"] == s.autoscaling_max,
    "autoscaling_cpu_target": lambda s, d: (
        not s.enable_autoscaling
        or policies(d)["ECSServiceAverageCPUUtilization"]["targetValue"] == s.autoscaling_cpu_target
    ),
    "autoscaling_requests_per_target": lambda s, d: (
        not s.enable_autoscaling
        or (policies(d).get("ALBRequestCountPerTarget") or {"targetValue": 0})["targetValue"]
        == s.autoscaling_requests_per_target
    ),
    "enable_sticky_sessions": lambda s, d: all(
        sticky["enabled"] is s.enable_sticky_sessions for sticky in stickiness(d)
    ),
    "sticky_duration_seconds": lambda s, d: (
        not s.enable_sticky_sessions
        or all(sticky["cookieDuration"] == s.sticky_duration_seconds for sticky in stickiness(d))
    ),
    "fargate_spot_percent": lambda s, d: (
        {item["capacityProvider"]: item["weight"] for item in service(d)["capacityProviderStrategies"]}.get(
            "FARGATE_SPOT", 0
        )
        == s.fargate_spot_percent
    ),
    "deployment_strategy": lambda s, d: (
        len(target_groups(d)) == (1 if s.deployment_strategy == "rolling" else 2)
        and service(d)["deploymentConfiguration"]["strategy"] == s.deployment_strategy.upper().replace("-", "_")
    ),
}


def test_every_answer_has_a_check() -> None:
    missing = sorted(set(ANSWER_DEFAULTS) - set(ANSWER_CHECKS))
    assert not missing, f"answers no stack-file check looks at: {missing} (add them to ANSWER_CHECKS)"


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=[path.name for path in STACK_FILES])
def test_stack_file_builds_a_stack_the_policy_pack_accepts(stack_file: Path) -> None:
    assert all(key.startswith((f"{PROJECT}:", "aws:")) for key in stack_file_config(stack_file)), (
        "keys outside the namespace"
    )
    _, deployment = stack_of(stack_file)
    assert violations([(r.type, r.inputs) for r in deployment.resources]) == {}, (
        "the policy pack would refuse this stack"
    )


@pytest.mark.parametrize("answer", sorted(ANSWER_CHECKS))
@pytest.mark.parametrize("stack_file", STACK_FILES, ids=[path.name for path in STACK_FILES])
def test_stack_file_answer_shows_in_the_stack(stack_file: Path, answer: str) -> None:
    settings, deployment = stack_of(stack_file)
    assert ANSWER_CHECKS[answer](settings, deployment), f"{answer}={getattr(settings, answer)!r} is not what was built"
