"""Every setting, at a value other than its default, reaches the resource it drives.

A program that ignored a setting (always passing its default to AWS) would pass every test run on the defaults. Here
two runs of the program under mocks set every key of DEFAULTS to a non-default value at once (two, because some
values exclude others: one strategy and one networking mode per run), and each key has a check of the resource it
drives. Each check must hold on both runs and must fail when told the key's default instead, so no check can pass
whatever the program does. A key added to DEFAULTS without a value in a run and a check fails
`test_every_setting_is_varied_and_checked`, which names it.

The same two runs show which settings replace a target group or a listener rule (a replace-only input changes): only
those in RELEASE_REPLACING_SETTINGS, which the release preflight guards.
"""

import dataclasses
import json
from typing import Any

import landing_zone
import pytest
from test_release import replace_only_inputs
from test_stack_files import ANSWER_CHECKS, Check, container, only, service, target_groups
from test_waf import RULE as WAF_RULE
from test_waf import rules as waf_rules

from conftest import Deployment, deploy
from infra.validation import DEFAULTS, RELEASE_REPLACING_SETTINGS, STACK_ENVIRONMENT_NAMES, Settings, parse_settings
from infra.waf import RATE_RULE

KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/0b5e3c9a-1111-2222-3333-444455556666"
CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0b5e3c9a-1111-2222-3333-444455556666"
# Two stacks between them holding every setting at a value other than its default.
RUNS: dict[str, dict[str, Any]] = {
    "canary": {
        "replicas": 5,
        "cpu": 1024,
        "memory": 3072,
        "cpu_architecture": "ARM64",
        "container_port": 9000,
        "health_check_path": "/healthz?full=1",
        "networking": "private-endpoints",
        "az_count": 3,
        "log_retention_days": 90,
        "domain_name": "app.team.example.com",
        "hosted_zone_name": "example.com",
        "fargate_spot_percent": 50,
        "enable_sticky_sessions": True,
        "sticky_duration_seconds": 3600,
        "deployment_strategy": "canary",
        "health_check_interval_seconds": 15,
        "health_check_timeout_seconds": 6,
        "healthy_threshold": 3,
        "unhealthy_threshold": 3,
        "deregistration_delay_seconds": 45,
        "health_check_grace_period_seconds": 60,
        "graceful_shutdown_seconds": 15,
        "stop_timeout_seconds": 100,
        "alarm_email": "ops@example.com",
        "alarm_p99_latency_ms": 1500,
        "alarm_5xx_rate_percent": 2,
        "alarm_min_requests_per_minute": 100,
        "alb_deletion_protection": "true",
        "access_log_retention_days": 30,
        "secrets": {"DB_PASSWORD": "/hello/db-password"},
        "secrets_kms_key_arn": KMS_KEY,
        "enable_exec": True,
        "fargate_on_demand_base": 3,
        "deployment_bake_minutes": 10,
        "canary_percent": 20.0,
        "canary_bake_minutes": 4,
        "test_traffic_header": "X-Canary: yes",
        "test_window_minutes": 15,
        "alb_idle_timeout_seconds": 120,
        "enable_tracing": True,
        "tracing_sample_percent": 0.5,
    },
    "linear": {
        "aws_region": "eu-west-1",
        "networking": "public-subnets",
        "enable_https": True,
        "domain_name": "www.example.org",
        "certificate_arn": CERTIFICATE,
        "enable_autoscaling": True,
        "autoscaling_min": 3,
        "autoscaling_max": 12,
        "autoscaling_cpu_target": 55,
        "autoscaling_requests_per_target": 500,
        "deployment_strategy": "linear",
        "linear_step_percent": 20.0,
        "linear_step_bake_minutes": 2,
        "enable_flow_logs": False,
        "enable_waf": True,
        "waf_rate_limit": 500,
        "waf_rate_window_seconds": 60,
        "waf_count_mode": True,
        "waf_allow_large_bodies": True,
        "permissions_boundary_arn": "arn:aws:iam::123456789012:policy/org/Boundary",
        "iam_role_path": "/teams/payments/",
        "environment": {"FEATURE_NEW_CHECKOUT": "on"},
        "release_label": "r2",
    },
    # An existing VPC (issue 21) leaves networking at its default, which both runs above change.
    # ISOLATED_B has neither a route out nor an S3 gateway endpoint: accepted only as the VPC owner's egress.
    "existing-vpc": {
        **landing_zone.ANSWERS,
        "private_subnet_ids": f"{landing_zone.PRIVATE_A},{landing_zone.ISOLATED_B}",
        "existing_vpc_egress": "vpc-owner",
    },
}
DEFAULT = parse_settings({})
CORE_RULE_SET = "AWSManagedRulesCommonRuleSet"  # where waf_allow_large_bodies counts SizeRestrictions_BODY


def environment(deployment: Deployment) -> dict[str, str]:
    return {entry["name"]: entry["value"] for entry in container(deployment)["environment"]}


def health_checks(deployment: Deployment, field: str) -> set[object]:
    return {group["healthCheck"][field] for group in target_groups(deployment)}


def rate_alarms(deployment: Deployment) -> list[dict[str, Any]]:
    """The 5xx-rate alarms: metric math over errors and requests."""
    return [alarm for alarm in only(deployment, "aws:cloudwatch/metricAlarm:MetricAlarm") if alarm.get("metricQueries")]


def rate_expressions(deployment: Deployment) -> list[str]:
    return [
        query["expression"]
        for alarm in rate_alarms(deployment)
        for query in alarm["metricQueries"]
        if "expression" in query
    ]


def latency_alarms(deployment: Deployment) -> list[dict[str, Any]]:
    return [
        alarm
        for alarm in only(deployment, "aws:cloudwatch/metricAlarm:MetricAlarm")
        if alarm.get("extendedStatistic") == "p99"
    ]


def deployment_configuration(deployment: Deployment) -> dict[str, Any]:
    return dict(service(deployment)["deploymentConfiguration"])


def secrets_policy(deployment: Deployment) -> dict[str, Any] | None:
    found = [
        policy
        for policy in deployment.of_type("aws:iam/rolePolicy:RolePolicy")
        if policy.name.endswith("-read-secrets")
    ]
    return json.loads(found[0].inputs["policy"]) if found else None


def kms_keys(deployment: Deployment) -> list[str]:
    policy = secrets_policy(deployment)
    statements = policy["Statement"] if policy else []
    return [statement["Resource"] for statement in statements if statement["Action"] == "kms:Decrypt"]


def header_rules(deployment: Deployment) -> list[tuple[str, list[str]]]:
    found = []
    for rule in only(deployment, "aws:lb/listenerRule:ListenerRule"):
        header = rule["conditions"][0].get("httpHeader")
        if header:
            found.append((header["httpHeaderName"], header["values"]))
    return found


def capacity(deployment: Deployment, provider: str, field: str) -> object:
    items = {item["capacityProvider"]: item for item in service(deployment)["capacityProviderStrategies"]}
    return items.get(provider, {}).get(field)


def released(s: Settings) -> bool:
    return s.deployment_strategy != "rolling"


def waf(deployment: Deployment) -> dict[str, dict[str, Any]]:
    return waf_rules(deployment) if deployment.of_type(WAF_RULE) else {}


# Each setting that is not a cookiecutter answer -> what the stack built from it must show (the answers' checks are
# test_stack_files.ANSWER_CHECKS). A new setting needs a line here and a value in RUNS.
STACK_ONLY_CHECKS: dict[str, Check] = {
    "health_check_interval_seconds": lambda s, d: health_checks(d, "interval") == {s.health_check_interval_seconds},
    "health_check_timeout_seconds": lambda s, d: health_checks(d, "timeout") == {s.health_check_timeout_seconds},
    "healthy_threshold": lambda s, d: health_checks(d, "healthyThreshold") == {s.healthy_threshold},
    "unhealthy_threshold": lambda s, d: health_checks(d, "unhealthyThreshold") == {s.unhealthy_threshold},
    "deregistration_delay_seconds": lambda s, d: (
        {group["deregistrationDelay"] for group in target_groups(d)} == {s.deregistration_delay_seconds}
    ),
    "health_check_grace_period_seconds": lambda s, d: (
        service(d)["healthCheckGracePeriodSeconds"] == s.health_check_grace_period_seconds
    ),
    "graceful_shutdown_seconds": lambda s, d: (
        environment(d)["GRACEFUL_SHUTDOWN_SECONDS"] == str(s.graceful_shutdown_seconds)
    ),
    "stop_timeout_seconds": lambda s, d: container(d)["stopTimeout"] == s.stop_timeout_seconds,
    "alarm_email": lambda s, d: (
        [sub["endpoint"] for sub in only(d, "aws:sns/topicSubscription:TopicSubscription")]
        == ([s.alarm_email] if s.alarm_email else [])
    ),
    "alarm_p99_latency_ms": lambda s, d: (
        {alarm["threshold"] for alarm in latency_alarms(d)} == {s.alarm_p99_latency_ms / 1000}
    ),
    "alarm_5xx_rate_percent": lambda s, d: (
        {alarm["threshold"] for alarm in rate_alarms(d)} == {s.alarm_5xx_rate_percent}
    ),
    "alarm_min_requests_per_minute": lambda s, d: all(
        f">= {s.alarm_min_requests_per_minute}," in expression for expression in rate_expressions(d)
    ),
    "alb_deletion_protection": lambda s, d: (
        # Empty: on for stacks named prod* only (these runs are "dev").
        only(d, "aws:lb/loadBalancer:LoadBalancer")[0]["enableDeletionProtection"] is bool(s.alb_deletion_protection)
    ),
    "access_log_retention_days": lambda s, d: (
        only(d, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")[0]["rules"][0]["expiration"]["days"]
        == s.access_log_retention_days
    ),
    "secrets": lambda s, d: [entry["name"] for entry in container(d)["secrets"]] == [name for name, _ in s.secrets],
    "secrets_kms_key_arn": lambda s, d: kms_keys(d) == ([s.secrets_kms_key_arn] if s.secrets_kms_key_arn else []),
    "enable_exec": lambda s, d: (
        service(d)["enableExecuteCommand"] is s.enable_exec
        and container(d)["readonlyRootFilesystem"] is not s.enable_exec
    ),
    "fargate_on_demand_base": lambda s, d: capacity(d, "FARGATE", "base") == s.fargate_on_demand_base,
    # In an existing VPC (vpc_id) flow logs are the VPC owner's: the stack creates none whatever the setting.
    "enable_flow_logs": lambda s, d: (
        len(only(d, "aws:ec2/flowLog:FlowLog")) == (s.enable_flow_logs and not s.existing_vpc)
    ),
    "deployment_bake_minutes": lambda s, d: (
        not released(s) or deployment_configuration(d)["bakeTimeInMinutes"] == str(s.deployment_bake_minutes)
    ),
    "canary_percent": lambda s, d: (
        s.deployment_strategy != "canary"
        or deployment_configuration(d)["canaryConfiguration"]["canaryPercent"] == s.canary_percent
    ),
    "canary_bake_minutes": lambda s, d: (
        s.deployment_strategy != "canary"
        or deployment_configuration(d)["canaryConfiguration"]["canaryBakeTimeInMinutes"] == str(s.canary_bake_minutes)
    ),
    "linear_step_percent": lambda s, d: (
        s.deployment_strategy != "linear"
        or deployment_configuration(d)["linearConfiguration"]["stepPercent"] == s.linear_step_percent
    ),
    "linear_step_bake_minutes": lambda s, d: (
        s.deployment_strategy != "linear"
        or deployment_configuration(d)["linearConfiguration"]["stepBakeTimeInMinutes"]
        == str(s.linear_step_bake_minutes)
    ),
    "test_traffic_header": lambda s, d: (
        header_rules(d) == ([(s.test_header[0], [s.test_header[1]])] if released(s) and s.test_header else [])
    ),
    "test_window_minutes": lambda s, d: (
        [
            hook["timeoutConfiguration"]["timeoutInMinutes"]
            for hook in deployment_configuration(d).get("lifecycleHooks", [])
        ]
        == ([str(s.test_window_minutes)] if released(s) and s.test_window_minutes else [])
    ),
    "alb_idle_timeout_seconds": lambda s, d: (
        only(d, "aws:lb/loadBalancer:LoadBalancer")[0]["idleTimeout"] == s.alb_idle_timeout_seconds
        and environment(d)["KEEP_ALIVE_SECONDS"] == str(s.app_keep_alive_seconds)
    ),
    "waf_rate_limit": lambda s, d: (
        not s.enable_waf or waf(d)[RATE_RULE]["statement"]["rateBasedStatement"]["limit"] == s.waf_rate_limit
    ),
    "waf_rate_window_seconds": lambda s, d: (
        not s.enable_waf
        or waf(d)[RATE_RULE]["statement"]["rateBasedStatement"]["evaluationWindowSec"] == s.waf_rate_window_seconds
    ),
    "waf_count_mode": lambda s, d: (
        not s.enable_waf or waf(d)[RATE_RULE]["action"] == ({"count": {}} if s.waf_count_mode else {"block": {}})
    ),
    "waf_allow_large_bodies": lambda s, d: (
        not s.enable_waf
        or ("ruleActionOverrides" in waf(d)[CORE_RULE_SET]["statement"]["managedRuleGroupStatement"])
        is s.waf_allow_large_bodies
    ),
    "enable_tracing": lambda s, d: ("OTEL_EXPORTER_OTLP_ENDPOINT" in environment(d)) is s.enable_tracing,
    "permissions_boundary_arn": lambda s, d: (
        {role.get("permissionsBoundary", "") for role in only(d, "aws:iam/role:Role")} == {s.permissions_boundary_arn}
    ),
    "iam_role_path": lambda s, d: {role.get("path", "/") for role in only(d, "aws:iam/role:Role")} == {s.iam_role_path},
    "environment": lambda s, d: (
        {key: value for key, value in environment(d).items() if key not in STACK_ENVIRONMENT_NAMES}
        == dict(s.environment)
    ),
    "release_label": lambda s, d: environment(d).get("RELEASE_LABEL", "") == s.release_label,
    # A task subnet the checks would refuse (no route out, endpoints missing) is used only when trusted.
    "existing_vpc_egress": lambda s, d: (
        landing_zone.ISOLATED_B not in service(d)["networkConfiguration"]["subnets"]
        or s.existing_vpc_egress == "vpc-owner"
    ),
    "tracing_sample_percent": lambda s, d: (
        not s.enable_tracing or environment(d)["TRACING_SAMPLE_PERCENT"] == f"{s.tracing_sample_percent:g}"
    ),
}
CHECKS: dict[str, Check] = {**ANSWER_CHECKS, **STACK_ONLY_CHECKS}


def run(name: str) -> tuple[Settings, Deployment]:
    return parse_settings(RUNS[name]), deploy(**RUNS[name])


def holds(check: Check, settings: Settings, deployment: Deployment) -> bool:
    """A check's verdict; one that cannot even find what it looks for has failed."""
    try:
        return check(settings, deployment)
    except (AssertionError, KeyError, IndexError, TypeError, ValueError):
        return False


def test_every_setting_is_varied_and_checked() -> None:
    varied = {
        key
        for values in RUNS.values()
        for key in values
        if getattr(parse_settings(values), key) != getattr(DEFAULT, key)
    }
    unvaried = sorted(set(DEFAULTS) - varied)
    unchecked = sorted(set(DEFAULTS) - set(CHECKS))
    assert not unvaried, f"settings never set to a non-default value here: {unvaried} (give each a value in RUNS)"
    assert not unchecked, f"settings without a check of what they drive: {unchecked} (add them to STACK_ONLY_CHECKS)"


@pytest.mark.parametrize("key", sorted(CHECKS))
def test_a_setting_reaches_what_it_drives_and_its_default_would_not_pass(key: str) -> None:
    for name, values in RUNS.items():
        settings, deployment = run(name)
        assert holds(CHECKS[key], settings, deployment), (
            f"{key}={getattr(settings, key)!r} is not what the {name} run built"
        )
        if key in values:
            told_default = dataclasses.replace(settings, **{key: getattr(DEFAULT, key)})
            assert not holds(CHECKS[key], told_default, deployment), f"the check of {key} passes at its default too"


@pytest.mark.parametrize("name", sorted(RUNS))
def test_only_the_settings_the_preflight_guards_replace_a_target_group_or_rule(name: str) -> None:
    """Everything else in a run changed from the defaults, its target groups and rules keep every replace-only input
    (a region change replaces the whole stack and is held too)."""
    held = {*RELEASE_REPLACING_SETTINGS, "aws_region", "deployment_strategy", "domain_name"}
    if "vpc_id" in held:  # an existing VPC is named by three settings together (and judged by existing_vpc_egress)
        held |= {"public_subnet_ids", "private_subnet_ids", "existing_vpc_egress"}
    baseline = deploy(**{key: value for key, value in RUNS[name].items() if key in held})
    changed = {
        resource: inputs
        for resource, inputs in replace_only_inputs(deploy(**RUNS[name])).items()
        if inputs != replace_only_inputs(baseline).get(resource)
    }
    assert not changed, (
        f"a setting of the {name} run replaces {changed}: add it to RELEASE_REPLACING_SETTINGS (infra/validation.py)"
    )
