"""scripts/release_preflight.py: refuse switching back to rolling, or toggling HTTPS, while the tasks are in the
second target group; the production rule's weights are read from moto's elbv2, rewritten there as ECS would."""

from collections.abc import Iterator
from typing import Any

import boto3  # type: ignore[import-untyped]
import pulumi
import pytest
from moto import mock_aws
from release_preflight import pending_rule_change, refusal

from conftest import PROJECT, run_program
from infra.stack import build_stack
from infra.validation import parse_settings


@pytest.fixture
def aws() -> Iterator[tuple[Any, dict[str, Any]]]:
    """An ALB listener with the production rule as the stack creates it (100/0), and the export naming it."""
    with mock_aws():
        ec2, elbv2 = boto3.client("ec2", region_name="us-east-1"), boto3.client("elbv2", region_name="us-east-1")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{zone}")["Subnet"]
            for i, zone in enumerate("ab")
        ]
        alb = elbv2.create_load_balancer(Name="lb", Subnets=[s["SubnetId"] for s in subnets])["LoadBalancers"][0]
        groups = [
            elbv2.create_target_group(Name=f"tg{i}", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip")[
                "TargetGroups"
            ][0]["TargetGroupArn"]
            for i in (1, 2)
        ]
        listener = elbv2.create_listener(
            LoadBalancerArn=alb["LoadBalancerArn"],
            Protocol="HTTP",
            Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": groups[0]}],
        )["Listeners"][0]
        [rule] = elbv2.create_rule(
            ListenerArn=listener["ListenerArn"],
            Priority=20,
            Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}],
            Actions=[forward(groups, first_weight=100)],
        )["Rules"]
        yield (
            elbv2,
            {
                "production_rule_arn": rule["RuleArn"],
                "primary_target_group_arn": groups[0],
                "enable_https": False,
                "groups": groups,
            },
        )


def forward(groups: list[str], first_weight: int) -> dict[str, Any]:
    weights = [first_weight, 100 - first_weight]
    pairs = zip(groups, weights, strict=True)
    return {
        "Type": "forward",
        "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": g, "Weight": w} for g, w in pairs]},
    }


def after_a_release(elbv2: Any, deployed: dict[str, Any]) -> None:
    """ECS moved production traffic to the second group (every other release ends this way)."""
    elbv2.modify_rule(RuleArn=deployed["production_rule_arn"], Actions=[forward(deployed["groups"], first_weight=0)])


def check(elbv2: Any, deployed: dict[str, Any], **config: object) -> str:
    return refusal(elbv2, deployed, parse_settings(config), "the-cluster", "the-service")


def test_back_to_rolling_is_refused_while_the_tasks_are_in_the_second_group(aws: tuple[Any, dict[str, Any]]) -> None:
    elbv2, deployed = aws
    after_a_release(elbv2, deployed)
    message = check(elbv2, deployed, deployment_strategy="rolling")
    assert message.startswith("refused: deployment_strategy=rolling deletes the production rule")
    assert "first target group holds 0 %" in message
    assert "aws ecs update-service --cluster the-cluster --service the-service --force-new-deployment" in message


def test_back_to_rolling_passes_when_the_first_group_serves_everything(aws: tuple[Any, dict[str, Any]]) -> None:
    elbv2, deployed = aws
    assert check(elbv2, deployed, deployment_strategy="rolling") == ""
    after_a_release(elbv2, deployed)
    # The next release moves the tasks back to the first group.
    elbv2.modify_rule(RuleArn=deployed["production_rule_arn"], Actions=[forward(deployed["groups"], first_weight=100)])
    assert check(elbv2, deployed, deployment_strategy="rolling") == ""


def test_a_canary_in_flight_counts_as_unsafe(aws: tuple[Any, dict[str, Any]]) -> None:
    elbv2, deployed = aws
    elbv2.modify_rule(RuleArn=deployed["production_rule_arn"], Actions=[forward(deployed["groups"], first_weight=90)])
    assert "holds 90 %" in check(elbv2, deployed, deployment_strategy="rolling")


@pytest.mark.parametrize(("deployed_https", "desired"), [(False, True), (True, False)])
def test_toggling_https_is_refused_while_the_tasks_are_in_the_second_group(
    aws: tuple[Any, dict[str, Any]], deployed_https: bool, desired: bool
) -> None:
    elbv2, deployed = aws
    deployed = {**deployed, "enable_https": deployed_https}
    https = {"enable_https": desired, "domain_name": "api.example.com" if desired else ""}
    after_a_release(elbv2, deployed)
    message = check(elbv2, deployed, deployment_strategy="canary", **https)
    assert message.startswith(f"refused: enable_https={str(desired).lower()} moves the release rules")


def test_other_changes_pass_without_reading_the_rule() -> None:
    no_aws = object()  # any call on it would fail
    deployed = {"production_rule_arn": "arn:rule", "primary_target_group_arn": "arn:tg1", "enable_https": False}
    for settings in ({"deployment_strategy": "linear"}, {"deployment_strategy": "blue-green", "replicas": 5}):
        assert pending_rule_change(deployed, parse_settings(settings)) == ""
        assert refusal(no_aws, deployed, parse_settings(settings), "c", "s") == ""
    # A rolling stack (or one never deployed) exports no rule: nothing to protect.
    assert refusal(no_aws, {}, parse_settings({"deployment_strategy": "rolling"}), "c", "s") == ""


@pytest.mark.parametrize(("strategy", "https"), [("canary", False), ("blue-green", True)])
def test_program_exports_the_rule_ecs_shifts_and_the_first_group(strategy: str, https: bool) -> None:
    settings = parse_settings(
        {"deployment_strategy": strategy, "enable_https": https, "domain_name": "api.example.com" if https else ""}
    )
    exported: dict[str, Any] = {}

    def program() -> pulumi.Output[None]:
        release = build_stack(PROJECT, settings).release
        assert release is not None
        return pulumi.Output.from_input(release.deployed).apply(exported.update)

    mocks = run_program(program, "dev", settings.aws_region)
    [service] = [r for r in mocks.resources if r.type == "aws:ecs/service:Service"]
    [attachment] = service.inputs["loadBalancers"]
    assert exported == {
        "production_rule_arn": attachment["advancedConfiguration"]["productionListenerRule"],
        "primary_target_group_arn": attachment["targetGroupArn"],
        "enable_https": https,
    }
