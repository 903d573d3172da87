"""deployment_strategy: rolling keeps the stack as it was; blue-green, canary and linear add what ECS needs to shift."""

import json
from typing import Any

import pytest
from test_alarms import evaluate, rate_expression

from conftest import Deployment, Registered, deploy
from infra.release import LOAD_BALANCERS_POLICY_ARN
from infra.validation import AUTONAME_SUFFIX_LENGTH, AWS_LB_NAME_LIMIT

STRATEGIES = ["blue-green", "canary", "linear"]
HTTPS: dict[str, Any] = {"enable_https": True, "domain_name": "api.example.com"}
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
RULE = "aws:lb/listenerRule:ListenerRule"


def target_groups(deployment: Deployment) -> tuple[Registered, Registered]:
    """(primary, alternate): the service registers in the primary; the alternate is named in its advanced config."""
    [attachment] = deployment.one("aws:ecs/service:Service").inputs["loadBalancers"]
    groups = {tg.outputs["arn"]: tg for tg in deployment.of_type(TARGET_GROUP)}
    return groups[attachment["targetGroupArn"]], groups[attachment["advancedConfiguration"]["alternateTargetGroupArn"]]


def rules(deployment: Deployment) -> dict[str, Registered]:
    """Listener rules by kind: the one matching a header is the test rule."""
    return {
        "test" if "httpHeader" in rule.inputs["conditions"][0] else "production": rule
        for rule in deployment.of_type(RULE)
    }


def arn(resource: Registered) -> str:
    return str(resource.outputs["arn"])


# Rolling: today's stack, whatever the release settings say


def test_rolling_ignores_the_release_settings_and_adds_nothing() -> None:
    default = deploy()
    rolling = deploy(
        deployment_strategy="rolling",
        deployment_bake_minutes=30,
        canary_percent=50,
        canary_bake_minutes=1,
        linear_step_percent=3,
        linear_step_bake_minutes=1,
        test_traffic_header="X-Other: 2",
        test_window_minutes=30,
    )

    def registered(deployment: Deployment) -> dict[tuple[str, str], dict[str, Any]]:
        return {(r.type, r.name): r.inputs for r in deployment.resources}  # registration order varies

    assert registered(rolling) == registered(default)
    for resource in default.resources:
        assert rolling.ignore_changes[resource.name] == default.ignore_changes[resource.name]
        assert rolling.custom_timeouts[resource.name] == default.custom_timeouts[resource.name]


def test_rolling_stack_has_one_target_group_no_rules_and_no_ecs_role() -> None:
    default = deploy()
    service = default.one("aws:ecs/service:Service")
    assert len(default.of_type(TARGET_GROUP)) == 1
    assert default.of_type(RULE) == []
    trusted = [json.loads(role.inputs["assumeRolePolicy"]) for role in default.of_type("aws:iam/role:Role")]
    services = {doc["Statement"][0]["Principal"]["Service"] for doc in trusted}
    assert services == {"ecs-tasks.amazonaws.com", "vpc-flow-logs.amazonaws.com"}  # no ECS infrastructure role
    assert "advancedConfiguration" not in service.inputs["loadBalancers"][0]
    assert default.custom_timeouts[service.name] == {}


def test_rolling_names_its_strategy_so_switching_back_from_blue_green_switches() -> None:
    # The provider's `deployment_configuration` and its `strategy` are Optional+Computed: a block left out keeps
    # whatever ECS reports (BLUE_GREEN after a switch), so rolling must say ROLLING. This input is the only thing
    # rolling sends that it did not before the strategies existed.
    service = deploy().one("aws:ecs/service:Service")
    assert service.inputs["deploymentConfiguration"] == {"strategy": "ROLLING"}


# Blue-green, canary, linear: the resources and their wiring


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_two_identical_target_groups_and_the_service_alternates_them(strategy: str) -> None:
    deployment = deploy(deployment_strategy=strategy)
    primary, alternate = target_groups(deployment)
    assert primary.name != alternate.name
    assert alternate.inputs == primary.inputs
    assert primary.inputs["targetType"] == "ip"


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_production_rule_forwards_by_weight_on_the_serving_listener(strategy: str) -> None:
    deployment = deploy(deployment_strategy=strategy)
    primary, alternate = target_groups(deployment)
    [listener] = deployment.of_type("aws:lb/listener:Listener")
    production = rules(deployment)["production"].inputs
    assert production["listenerArn"] == arn(listener)
    assert production["conditions"] == [{"pathPattern": {"values": ["/*"]}}]
    assert production["actions"] == [
        {
            "type": "forward",
            "forward": {"targetGroups": [{"arn": arn(primary), "weight": 100}, {"arn": arn(alternate), "weight": 0}]},
        }
    ]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_test_route_is_a_header_rule_evaluated_before_production(strategy: str) -> None:
    by_kind = rules(deploy(deployment_strategy=strategy))
    test, production = by_kind["test"].inputs, by_kind["production"].inputs
    assert test["conditions"] == [{"httpHeader": {"httpHeaderName": "X-Release-Test", "values": ["1"]}}]
    assert test["listenerArn"] == production["listenerArn"]
    assert test["priority"] < production["priority"]
    assert test["actions"] == production["actions"]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_ecs_owns_the_rule_actions(strategy: str) -> None:
    deployment = deploy(deployment_strategy=strategy)
    for rule in deployment.of_type(RULE):
        assert deployment.ignore_changes[rule.name] == ["actions"]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_ecs_infrastructure_role_for_load_balancers(strategy: str) -> None:
    deployment = deploy(deployment_strategy=strategy)
    [role] = [
        r
        for r in deployment.of_type("aws:iam/role:Role")
        if json.loads(r.inputs["assumeRolePolicy"])["Statement"][0]["Principal"]["Service"] == "ecs.amazonaws.com"
    ]
    [attachment] = [
        a
        for a in deployment.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["policyArn"] == LOAD_BALANCERS_POLICY_ARN
    ]
    assert attachment.inputs["role"] == role.outputs["name"]
    advanced = deployment.one("aws:ecs/service:Service").inputs["loadBalancers"][0]["advancedConfiguration"]
    assert advanced["roleArn"] == arn(role)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_service_advanced_configuration_names_the_pieces(strategy: str) -> None:
    deployment = deploy(deployment_strategy=strategy)
    _, alternate = target_groups(deployment)
    by_kind = rules(deployment)
    advanced = deployment.one("aws:ecs/service:Service").inputs["loadBalancers"][0]["advancedConfiguration"]
    assert advanced["alternateTargetGroupArn"] == arn(alternate)
    assert advanced["productionListenerRule"] == arn(by_kind["production"])
    assert advanced["testListenerRule"] == arn(by_kind["test"])


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("blue-green", {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": "5"}),
        (
            "canary",
            {
                "strategy": "CANARY",
                "bakeTimeInMinutes": "5",
                "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": "5"},
            },
        ),
        (
            "linear",
            {
                "strategy": "LINEAR",
                "bakeTimeInMinutes": "5",
                "linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": "3"},
            },
        ),
    ],
)
def test_deployment_configuration_has_the_providers_types(strategy: str, expected: dict[str, Any]) -> None:
    service = deploy(deployment_strategy=strategy).one("aws:ecs/service:Service").inputs
    assert service["deploymentConfiguration"] == expected
    # The circuit breaker and the alarms still roll a bad release back.
    assert service["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert service["alarms"]["enable"] is True and service["alarms"]["rollback"] is True


def test_deployment_configuration_follows_the_settings() -> None:
    service = deploy(
        deployment_strategy="canary", canary_percent=2.5, canary_bake_minutes=15, deployment_bake_minutes=0
    ).one("aws:ecs/service:Service")
    assert service.inputs["deploymentConfiguration"] == {
        "strategy": "CANARY",
        "bakeTimeInMinutes": "0",
        "canaryConfiguration": {"canaryPercent": 2.5, "canaryBakeTimeInMinutes": "15"},
    }


def test_a_test_window_pauses_the_release_after_test_traffic_and_pulumi_waits_it_out() -> None:
    # An ECS PAUSE hook: no Lambda; the release waits at POST_TEST_TRAFFIC_SHIFT for continue-service-deployment
    # (CONTINUE or ROLLBACK) and goes on by itself when the window ends.
    deployment = deploy(deployment_strategy="canary", test_window_minutes=30)
    service = deployment.one("aws:ecs/service:Service")
    assert service.inputs["deploymentConfiguration"]["lifecycleHooks"] == [
        {
            "targetType": "PAUSE",
            "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
            "timeoutConfiguration": {"action": "CONTINUE", "timeoutInMinutes": "30"},
        }
    ]
    # 720 s of canary release (below) + 30 minutes, rounded up to minutes, + 20
    assert deployment.custom_timeouts[service.name]["update"] == f"{-(-(720 + 1800) // 60) + 20}m"


def test_no_test_window_no_hook() -> None:
    configuration = deploy(deployment_strategy="blue-green").one("aws:ecs/service:Service").inputs
    assert "lifecycleHooks" not in configuration["deploymentConfiguration"]


@pytest.mark.parametrize(
    ("strategy", "minutes"),
    [
        # start 30 s + one check 10 s + bakes + deregistration 30 s + stop 50 s, rounded up to minutes, + 20
        ("blue-green", 7 + 20),  # 420 s: bake 5
        ("canary", 12 + 20),  # 720 s: canary 5 + bake 5
        ("linear", 16 + 20),  # 960 s: 3 steps x 3 before 100 %, bake 5
    ],
)
def test_pulumi_waits_for_the_release_with_its_bakes(strategy: str, minutes: int) -> None:
    deployment = deploy(deployment_strategy=strategy)
    service = deployment.one("aws:ecs/service:Service")
    assert deployment.custom_timeouts[service.name] == {"create": f"{minutes}m", "update": f"{minutes}m"}


def test_long_bakes_lengthen_the_wait_beyond_the_providers_20_minutes() -> None:
    deployment = deploy(deployment_strategy="blue-green", deployment_bake_minutes=60)
    service = deployment.one("aws:ecs/service:Service")
    assert deployment.custom_timeouts[service.name]["update"] == f"{-(-(3600 + 120) // 60) + 20}m"


# With the other options


def test_with_https_the_rules_live_on_the_https_listener_not_the_redirect() -> None:
    deployment = deploy(deployment_strategy="canary", **HTTPS)
    by_port = {listener.inputs["port"]: listener for listener in deployment.of_type("aws:lb/listener:Listener")}
    assert by_port[80].inputs["defaultActions"][0]["type"] == "redirect"
    assert {rule.inputs["listenerArn"] for rule in deployment.of_type(RULE)} == {arn(by_port[443])}


def test_without_a_test_header_there_is_no_test_route() -> None:
    deployment = deploy(deployment_strategy="blue-green", test_traffic_header="")
    assert list(rules(deployment)) == ["production"]
    advanced = deployment.one("aws:ecs/service:Service").inputs["loadBalancers"][0]["advancedConfiguration"]
    assert "testListenerRule" not in advanced


def test_sticky_sessions_stick_to_a_task_in_each_group_but_never_pin_a_client_to_a_revision() -> None:
    # Group stickiness on the weighted rule outranks the weights: it would hold clients on the old revision through
    # a canary, and on a group whose tasks are gone (503) after a release or a rollback, for the whole duration.
    deployment = deploy(deployment_strategy="linear", enable_sticky_sessions=True, sticky_duration_seconds=86400)
    for group in target_groups(deployment):
        assert group.inputs["stickiness"] == {"type": "lb_cookie", "enabled": True, "cookieDuration": 86400}
    for rule in deployment.of_type(RULE):
        assert rule.inputs["actions"][0]["forward"].get("stickiness", {"enabled": False})["enabled"] is False


def test_request_scaling_counts_requests_per_target_over_both_groups() -> None:
    deployment = deploy(deployment_strategy="blue-green", enable_autoscaling=True, autoscaling_requests_per_target=500)
    primary, alternate = target_groups(deployment)
    alb = deployment.one("aws:lb/loadBalancer:LoadBalancer")
    [requests] = [p for p in deployment.of_type("aws:appautoscaling/policy:Policy") if p.name.endswith("-requests")]
    configuration = requests.inputs["targetTrackingScalingPolicyConfiguration"]
    assert configuration["targetValue"] == 500
    assert "predefinedMetricSpecification" not in configuration
    *groups, total = configuration["customizedMetricSpecification"]["metrics"]
    assert [{d["name"]: d["value"] for d in query["metricStat"]["metric"]["dimensions"]} for query in groups] == [
        {"LoadBalancer": alb.outputs["arnSuffix"], "TargetGroup": group.outputs["arnSuffix"]}
        for group in (primary, alternate)
    ]
    assert all(q["metricStat"]["metric"]["metricName"] == "RequestCountPerTarget" for q in groups)
    assert all(q["metricStat"]["stat"] == "Sum" and q["returnData"] is False for q in groups)
    assert total["expression"] == "FILL(group0, 0) + FILL(group1, 0)" and total["returnData"] is True


def test_alarms_watch_both_target_groups_and_roll_back_the_release() -> None:
    deployment = deploy(deployment_strategy="canary")
    primary, alternate = target_groups(deployment)
    alarms = deployment.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    watched: dict[str, set[str]] = {}
    for alarm in alarms:
        # A plain alarm names its metric; a 5xx-rate alarm names its error metric first in its metric-math queries.
        metric = alarm.inputs if "metricName" in alarm.inputs else alarm.inputs["metricQueries"][0]["metric"]
        if "TargetGroup" in metric["dimensions"]:
            watched.setdefault(metric["metricName"], set()).add(metric["dimensions"]["TargetGroup"])
    both = {tg.outputs["arnSuffix"] for tg in (primary, alternate)}
    assert watched == {metric: both for metric in watched} and len(watched) == 3
    service = deployment.one("aws:ecs/service:Service").inputs
    rollback = [alarm for alarm in alarms if "latency" not in alarm.name]  # latency notifies, it does not roll back
    assert sorted(service["alarms"]["alarmNames"]) == sorted(alarm.outputs["name"] for alarm in rollback)


def test_a_quiet_canary_failing_every_request_rolls_back_through_the_load_balancer_wide_target_rate() -> None:
    # 50 requests a minute, a 10 % canary answering every one of its 5 with a 5xx: the canary's own group sees too
    # few requests to judge (0 %), the app's 5xx over all groups are 10 % of 50, above the 5 % threshold.
    deployment = deploy(deployment_strategy="canary", canary_percent=10, alarm_min_requests_per_minute=50)
    alb = deployment.one("aws:lb/loadBalancer:LoadBalancer")
    alarms = deployment.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")

    def metrics(alarm: Registered) -> dict[str, tuple[str, dict[str, str]]]:
        queries = alarm.inputs.get("metricQueries", [])
        return {q["id"]: (q["metric"]["metricName"], q["metric"]["dimensions"]) for q in queries if "metric" in q}

    on_alb = {"LoadBalancer": alb.outputs["arnSuffix"]}
    [everywhere] = [alarm for alarm in alarms if metrics(alarm).get("errors") == ("HTTPCode_Target_5XX_Count", on_alb)]
    assert metrics(everywhere)["requests"] == ("RequestCount", on_alb)
    service = deployment.one("aws:ecs/service:Service").inputs
    assert everywhere.outputs["name"] in service["alarms"]["alarmNames"]
    [canary_group] = [a for a in alarms if a.name.endswith("-target-5xx-rate-tg2")]
    assert evaluate(rate_expression(canary_group), errors=5, requests=5) == 0
    assert evaluate(rate_expression(everywhere), errors=5, requests=50) == 10 >= everywhere.inputs["threshold"]


def test_rolling_has_no_load_balancer_wide_target_rate_it_would_equal_its_one_group() -> None:
    names = [alarm.name for alarm in deploy().of_type("aws:cloudwatch/metricAlarm:MetricAlarm")]
    assert not [name for name in names if name.endswith("-target-5xx-rate-all")]


@pytest.mark.parametrize("architecture", ["X86_64", "ARM64"])
@pytest.mark.parametrize("networking", ["private-single-nat", "public-subnets"])
def test_releases_work_with_every_architecture_and_networking_mode(architecture: str, networking: str) -> None:
    deployment = deploy(deployment_strategy="blue-green", cpu_architecture=architecture, networking=networking)
    service = deployment.one("aws:ecs/service:Service").inputs
    assert service["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
    assert len(deployment.of_type(TARGET_GROUP)) == 2


def test_names_fit_aws_limits_with_the_alternate_group() -> None:
    deployment = deploy(project="p" + "-abcdefgh" * 5, deployment_strategy="blue-green")
    for group in deployment.of_type(TARGET_GROUP):
        assert "name" not in group.inputs and "namePrefix" not in group.inputs
        assert len(group.name) + AUTONAME_SUFFIX_LENGTH <= AWS_LB_NAME_LIMIT


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_switching_strategy_keeps_the_primary_group_and_the_service_in_place(strategy: str) -> None:
    rolling, other = deploy(), deploy(deployment_strategy=strategy)
    [before] = rolling.of_type(TARGET_GROUP)
    after, _ = target_groups(other)
    assert (after.name, after.inputs) == (before.name, before.inputs)
    assert other.one("aws:ecs/service:Service").name == rolling.one("aws:ecs/service:Service").name
    assert other.of_type("aws:lb/listener:Listener") == rolling.of_type("aws:lb/listener:Listener")


# Update time: what a config change replaces

# Replace-only (ForceNew) inputs in terraform-provider-aws, which pulumi-aws bridges: `aws_lb_target_group`
# (internal/service/elbv2/target_group.go) and `aws_lb_listener_rule` (listener_rule.go; its priority updates in place).
REPLACE_ONLY = {
    TARGET_GROUP: ("port", "protocol", "protocolVersion", "targetType", "vpcId", "name", "namePrefix", "ipAddressType"),
    RULE: ("listenerArn",),
}


def replace_only_inputs(deployment: Deployment) -> dict[str, dict[str, Any]]:
    """Each target group's and rule's replace-only inputs, by logical name: a change here replaces the resource."""
    return {
        resource.name: {key: resource.inputs.get(key) for key in REPLACE_ONLY[resource.type]}
        for resource in deployment.resources
        if resource.type in REPLACE_ONLY
    }


def test_a_container_port_change_replaces_no_target_group_or_rule() -> None:
    """`pulumi config set container_port 9000` updates the service and the task in place; a replaced group would be
    empty (rolling: 503s) or still used by a rule ECS owns (ResourceInUse)."""
    before = deploy(deployment_strategy="canary")
    after = deploy(deployment_strategy="canary", container_port=9000)
    assert replace_only_inputs(after) == replace_only_inputs(before)
    # ECS registers the tasks at the port the service names; the health check follows it (traffic-port).
    [attachment] = after.one("aws:ecs/service:Service").inputs["loadBalancers"]
    assert attachment["containerPort"] == 9000
    assert all("port" not in group.inputs["healthCheck"] for group in after.of_type(TARGET_GROUP))
    # Stacks created while the group's port was the container port keep their groups too.
    assert all("port" in after.ignore_changes[group.name] for group in after.of_type(TARGET_GROUP))


SECURITY_GROUP_RULES = [
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
]


def test_a_container_port_change_adds_the_new_port_rules_and_leaves_the_old_ones_to_the_end() -> None:
    """The provider updates a rule's ports in place (ModifySecurityGroupRules), and the service waits for its rules:
    the old tasks' port would close before the new tasks exist. A rule per port instead: the new port's rules are new
    resources, created before the service moves; the old port's rules leave the program and are deleted only after
    an update that succeeded (a rolled-back release keeps them live, not pending deletion). The other rules keep their
    names, and the port rules alias their names from before the port was in them (existing stacks: no change)."""
    before = deploy(deployment_strategy="canary")
    after = deploy(deployment_strategy="canary", container_port=9000)
    names = {
        kind: {rule.name for rule in deployment.of_type(kind)}
        for kind in SECURITY_GROUP_RULES
        for deployment in (before,)
    }
    rules = {rule.name: rule for kind in SECURITY_GROUP_RULES for rule in after.of_type(kind)}
    old = {name for kind in SECURITY_GROUP_RULES for name in names[kind]}
    added, removed = set(rules) - old, old - set(rules)
    assert sorted(name.rsplit("-", 1)[-1] for name in added) == ["9000", "9000"]
    assert sorted(name.rsplit("-", 1)[-1] for name in removed) == ["8000", "8000"]
    for name in added:
        assert rules[name].inputs["fromPort"] == rules[name].inputs["toPort"] == 9000
        assert after.aliases[name] == [name.rsplit("-", 1)[0]], name  # the name the rule had before: no replacement
        assert after.replace_on_changes[name] == [], name
