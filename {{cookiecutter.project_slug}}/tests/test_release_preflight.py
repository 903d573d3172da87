"""scripts/release_preflight.py: refuse switching back to rolling, or toggling HTTPS, while the tasks are in the
second target group; the production rule's weights are read from moto's elbv2, rewritten there as ECS would."""

import json
import shlex
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import boto3  # type: ignore[import-untyped]
import pulumi
import pytest
import release_preflight
from botocore.stub import Stubber  # type: ignore[import-untyped]
from moto import mock_aws
from release_preflight import leftover_hook_refusal, pending_rule_change, refusal

from conftest import PROJECT, run_program
from infra.release import deployment_configuration
from infra.stack import build_stack
from infra.validation import (
    DEPLOYMENT_STRATEGIES,
    RELEASE_REPLACING_SETTINGS,
    Settings,
    parse_settings,
)


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
    return refusal(elbv2, deployed, parse_settings(config), "the-stack")


def test_back_to_rolling_is_refused_while_the_tasks_are_in_the_second_group(aws: tuple[Any, dict[str, Any]]) -> None:
    elbv2, deployed = aws
    after_a_release(elbv2, deployed)
    message = check(elbv2, deployed, deployment_strategy="rolling")
    assert message.startswith("refused: deployment_strategy=rolling deletes the production rule")
    assert "first target group holds 0 %" in message
    # The fix waits for the whole release (a canary outlasts `aws ecs wait services-stable`'s 10 minutes).
    assert "`make redeploy STACK=the-stack` (`python scripts/rollout.py the-stack --redeploy`)" in message
    assert "wait services-stable" not in message


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
        assert refusal(no_aws, deployed, parse_settings(settings), "s") == ""
    # A rolling stack (or one never deployed) exports no rule: nothing to protect.
    assert refusal(no_aws, {}, parse_settings({"deployment_strategy": "rolling"}), "s") == ""


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
        "vpc_id": "",
    }


def test_every_setting_that_replaces_a_group_or_rule_is_a_pending_rule_change(monkeypatch: pytest.MonkeyPatch) -> None:
    """The preflight follows RELEASE_REPLACING_SETTINGS, compared with what the last deployment exported (a setting
    test_every_setting.py finds replacing a group or rule only needs its line there); the refusal above follows."""
    deployed = {"production_rule_arn": "arn:rule", "primary_target_group_arn": "arn:tg1", "enable_https": False}
    monkeypatch.setitem(RELEASE_REPLACING_SETTINGS, "az_count", "replaces the target groups")
    canary_in_three_zones = parse_settings({"deployment_strategy": "canary", "az_count": 3})
    assert pending_rule_change({**deployed, "az_count": 2}, canary_in_three_zones) == (
        "az_count=3 replaces the target groups"
    )
    assert pending_rule_change({**deployed, "az_count": 3}, canary_in_three_zones) == ""
    # A deployment made before the setting was listed did not export it: its next `up` does.
    assert pending_rule_change(deployed, canary_in_three_zones) == ""


# A service whose test window was turned off: ECS keeps the hook an UpdateService leaves out (botocore's Stubber checks
# each request against the ECS API model; moto does not model deployment configurations).
CLUSTER, SERVICE = "the-cluster", "the-service"
HOOK = {
    "targetType": "PAUSE",
    "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
    "timeoutConfiguration": {"action": "CONTINUE", "timeoutInMinutes": 30},
}
LIVE_CONFIGURATION = {
    "deploymentCircuitBreaker": {"enable": True, "rollback": True},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
    "alarms": {"alarmNames": ["hello-dev-5xx-rate"], "rollback": True, "enable": True},
    "strategy": "CANARY",
    "bakeTimeInMinutes": 5,
    "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 5},
    "lifecycleHooks": [HOOK],
}


def described(configuration: dict[str, Any]) -> dict[str, Any]:
    return {"services": [{"serviceName": SERVICE, "deploymentConfiguration": configuration}]}


def hook_check(configuration: dict[str, Any], **config: object) -> str:
    ecs = boto3.client("ecs", region_name="us-east-1")
    with Stubber(ecs) as stub:
        stub.add_response("describe_services", described(configuration), {"cluster": CLUSTER, "services": [SERVICE]})
        message = leftover_hook_refusal(ecs, parse_settings(config), CLUSTER, SERVICE)
        stub.assert_no_pending_responses()
    return message


def test_a_test_window_turned_off_is_refused_while_the_hook_stays_with_the_command_that_clears_it() -> None:
    message = hook_check(LIVE_CONFIGURATION, deployment_strategy="canary", test_window_minutes=0)
    assert message.startswith("refused: test_window_minutes=0 asks for no test-window hook, but the service still has")
    command = shlex.split(message.split("Fix: `", 1)[1].split("`", 1)[0])
    assert command[:7] == ["aws", "ecs", "update-service", "--cluster", CLUSTER, "--service", SERVICE]
    assert command[7] == "--deployment-configuration"
    cleared = json.loads(command[8])
    # The service's own configuration, only the hooks emptied, and a valid UpdateService request.
    assert cleared == {**LIVE_CONFIGURATION, "lifecycleHooks": []}
    ecs = boto3.client("ecs", region_name="us-east-1")
    with Stubber(ecs) as stub:
        expected = {"cluster": CLUSTER, "service": SERVICE, "deploymentConfiguration": cleared}
        stub.add_response("update_service", {"service": {"serviceName": SERVICE}}, expected)
        ecs.update_service(cluster=CLUSTER, service=SERVICE, deploymentConfiguration=cleared)


def test_no_hook_left_or_a_window_asked_for_passes() -> None:
    without_hooks = {key: value for key, value in LIVE_CONFIGURATION.items() if key != "lifecycleHooks"}
    assert hook_check(without_hooks, deployment_strategy="canary") == ""
    assert hook_check({**LIVE_CONFIGURATION, "lifecycleHooks": []}, deployment_strategy="canary") == ""
    # A window in the config: the provider sends that hook list, which replaces ECS's; no AWS call.
    no_aws = object()
    window = parse_settings({"deployment_strategy": "canary", "test_window_minutes": 30})
    assert leftover_hook_refusal(no_aws, window, CLUSTER, SERVICE) == ""


def preflight_with_a_hook_left(monkeypatch: pytest.MonkeyPatch, desired: Settings, deployed: dict[str, Any]) -> int:
    """main() for a deployed stack whose service still has the PAUSE hook (one DescribeServices, Stubber-checked)."""
    monkeypatch.setattr(release_preflight, "stack_settings", lambda stack: desired)
    monkeypatch.setattr(release_preflight, "deployed_release", lambda stack: deployed)
    outputs = {"cluster_name": CLUSTER, "service_name": SERVICE}

    def pulumi(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 0, outputs[command[3]] + "\n", "")

    monkeypatch.setattr(subprocess, "run", pulumi)
    ecs = boto3.client("ecs", region_name="us-east-1")
    stub = Stubber(ecs)
    stub.add_response("describe_services", described(LIVE_CONFIGURATION), {"cluster": CLUSTER, "services": [SERVICE]})
    monkeypatch.setattr(boto3, "client", lambda name, region_name: ecs)
    monkeypatch.setattr(sys, "argv", ["release_preflight.py", "dev"])
    with stub:
        code = release_preflight.main()
        stub.assert_no_pending_responses()
    return code


def test_main_reads_the_services_hooks_when_the_window_is_off(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed = {"production_rule_arn": "arn:rule", "primary_target_group_arn": "arn:tg1", "enable_https": False}
    canary = parse_settings({"deployment_strategy": "canary"})
    assert preflight_with_a_hook_left(monkeypatch, canary, deployed) == 1
    assert "refused: test_window_minutes=0" in capsys.readouterr().err


def test_a_switch_to_rolling_is_refused_while_the_hook_stays(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rolling sends only its strategy, and a rolling stack exports no release rule: the check follows the service."""
    rolling = parse_settings({"deployment_strategy": "rolling", "test_window_minutes": 30})
    assert preflight_with_a_hook_left(monkeypatch, rolling, {}) == 1  # {}: no production_rule_arn any more
    assert "refused: deployment_strategy=rolling asks for no test-window hook" in capsys.readouterr().err


def test_a_stack_never_deployed_passes_without_aws_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(release_preflight, "stack_settings", lambda stack: parse_settings({}))
    monkeypatch.setattr(release_preflight, "deployed_release", lambda stack: {})

    def no_outputs(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 255, "", "error: current stack does not have output property")

    monkeypatch.setattr(subprocess, "run", no_outputs)
    monkeypatch.setattr(boto3, "client", lambda *args, **kwargs: pytest.fail("no AWS call expected"))
    monkeypatch.setattr(sys, "argv", ["release_preflight.py", "dev"])
    assert release_preflight.main() == 0


@pytest.mark.parametrize("strategy", DEPLOYMENT_STRATEGIES)
@pytest.mark.parametrize("window", [0, 30])
def test_the_preflight_knows_when_the_config_gives_the_service_a_hook(strategy: str, window: int) -> None:
    settings = parse_settings({"deployment_strategy": strategy, "test_window_minutes": window})
    has_hook = bool(deployment_configuration(settings).get("lifecycle_hooks"))
    assert release_preflight.wants_hook(settings) == has_hook
