"""The service dashboard, under mocks: a body CloudWatch accepts, about this stack's own resources, in every option.

The shape rules below are CloudWatch's "Dashboard body structure and syntax" (CloudWatch API reference): widget
types and grid, metric widget properties, the metrics array format (namespace, metric name, dimension name/value
pairs, then an optional rendering object; or one object holding a math expression), alarm widget properties.
"""

import json
import re
from typing import Any

import pulumi
import pytest
from test_alarms import evaluate

from conftest import Deployment, deploy, run_program
from infra.alarms import error_rate_percent
from infra.dashboard import GRID_WIDTH, widgets
from infra.stack import build_stack
from infra.validation import parse_settings

WIDGET_TYPES = {"metric", "text", "log", "alarm", "explorer"}
METRIC_PROPERTIES = {
    "accountId", "annotations", "end", "legend", "liveData", "metrics", "period", "region", "setPeriodToTimeRange",
    "singleValueFullPrecision", "sparkline", "stacked", "start", "stat", "table", "timezone", "title", "view", "yAxis",
}  # fmt: skip
RENDERING_PROPERTIES = {
    "accountId", "color", "expression", "id", "label", "period", "region", "stat", "visible", "yAxis",
}  # fmt: skip
ALARM_PROPERTIES = {"alarms", "sortBy", "states", "title"}
VIEWS = {"timeSeries", "singleValue", "gauge", "bar", "pie", "table"}
STAT = re.compile(r"SampleCount|Average|Sum|Minimum|Maximum|p\d{1,2}(\.\d+)?")
METRIC_ID = re.compile(r"[a-z][A-Za-z0-9_]*")
HORIZONTAL_ANNOTATION = {"color", "fill", "label", "value", "visible", "yAxis"}

DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"


def body(stack: Deployment) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(stack.one(DASHBOARD).inputs["dashboardBody"])
    return document


def shape_problems(document: dict[str, Any]) -> list[str]:
    """What CloudWatch's documented dashboard body structure would refuse in `document`."""
    problems = []
    if not isinstance(document.get("widgets"), list) or not 0 <= len(document["widgets"]) <= 500:
        return ["the body needs a widgets array of 0..500"]
    for n, widget in enumerate(document["widgets"]):
        where = f"widget {n} ({widget.get('properties', {}).get('title')})"
        if widget.get("type") not in WIDGET_TYPES:
            problems.append(f"{where}: type {widget.get('type')}")
        if not (0 <= widget["x"] <= 23 and widget["y"] >= 0 and 1 <= widget["width"] <= 24):
            problems.append(f"{where}: off the grid")
        if not 1 <= widget["height"] <= 1000 or widget["x"] + widget["width"] > GRID_WIDTH:
            problems.append(f"{where}: size")
        properties = widget["properties"]
        if widget["type"] == "alarm" and (set(properties) - ALARM_PROPERTIES or not properties.get("alarms")):
            problems.append(f"{where}: alarm properties {sorted(properties)}")
        if widget["type"] == "metric":
            problems += [f"{where}: {problem}" for problem in metric_widget_problems(properties)]
    return problems


def metric_widget_problems(properties: dict[str, Any]) -> list[str]:
    problems = []
    if set(properties) - METRIC_PROPERTIES:
        problems.append(f"unknown properties {sorted(set(properties) - METRIC_PROPERTIES)}")
    if not properties.get("region") or not 1 <= len(properties.get("metrics", [])) <= 100:
        problems.append("region and 1..100 metrics are required")
    if properties.get("view", "timeSeries") not in VIEWS:
        problems.append(f"view {properties['view']}")
    period = properties.get("period", 300)
    if not (period in (1, 5, 10, 30) or period % 60 == 0):
        problems.append(f"period {period}")
    if "stat" in properties and not STAT.fullmatch(properties["stat"]):
        problems.append(f"stat {properties['stat']}")
    ids = {metric[-1]["id"] for metric in properties["metrics"] if isinstance(metric[-1], dict) and "id" in metric[-1]}
    for metric in properties["metrics"]:
        problems += metric_problems(metric, ids)
    for annotation in properties.get("annotations", {}).get("horizontal", []):
        if set(annotation) - HORIZONTAL_ANNOTATION or not isinstance(annotation.get("value"), int | float):
            problems.append(f"annotation {annotation}")
    return problems


def metric_problems(metric: list[Any], ids: set[str]) -> list[str]:
    """One entry of a metrics array: namespace, name, dimension pairs, rendering; or an expression over ids."""
    problems = []
    rendering = metric[-1] if isinstance(metric[-1], dict) else {}
    fields = metric[:-1] if rendering else metric
    if set(rendering) - RENDERING_PROPERTIES:
        problems.append(f"unknown rendering properties {sorted(set(rendering) - RENDERING_PROPERTIES)}")
    if "expression" in rendering:
        used = set(re.findall(r"\b[a-z][A-Za-z0-9_]*\b", rendering["expression"]))
        if fields or not used <= ids - {rendering.get("id")}:
            problems.append(f"expression {rendering['expression']} uses an undefined id")
    elif len(fields) < 2 or len(fields) % 2 or not all(isinstance(field, str) and field for field in fields):
        problems.append(f"metric {metric} is not namespace, name, dimension name/value pairs")
    if "id" in rendering and not METRIC_ID.fullmatch(rendering["id"]):
        problems.append(f"id {rendering['id']}")
    if "stat" in rendering and not STAT.fullmatch(rendering["stat"]):
        problems.append(f"stat {rendering['stat']}")
    return problems


def dimensions(document: dict[str, Any]) -> list[tuple[str, str]]:
    """Every (dimension name, value) pair of every metric on the dashboard."""
    pairs = []
    for widget in document["widgets"]:
        for metric in widget["properties"].get("metrics", []):
            fields = metric[:-1] if isinstance(metric[-1], dict) else metric
            pairs += list(zip(fields[2::2], fields[3::2], strict=True))
    return pairs


def created(stack: Deployment) -> dict[str, set[str]]:
    """Dimension name -> the values this stack's resources have (as the mocks answer them)."""
    outputs = {type_: [r.outputs for r in stack.of_type(type_)] for type_ in {r.type for r in stack.resources}}
    return {
        "LoadBalancer": {o["arnSuffix"] for o in outputs["aws:lb/loadBalancer:LoadBalancer"]},
        "TargetGroup": {o["arnSuffix"] for o in outputs["aws:lb/targetGroup:TargetGroup"]},
        "ClusterName": {o["name"] for o in outputs["aws:ecs/cluster:Cluster"]},
        "ServiceName": {o["name"] for o in outputs["aws:ecs/service:Service"]},
    }


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"enable_autoscaling": True},
        {"enable_https": True, "domain_name": "api.example.com"},
        {"deployment_strategy": "blue-green"},
        {"deployment_strategy": "canary", "enable_autoscaling": True, "autoscaling_requests_per_target": 100},
    ],
    ids=["defaults", "autoscaling", "https", "blue-green", "canary-autoscaling"],
)
def test_body_has_the_documented_shape_and_names_only_this_stacks_resources(options: dict[str, Any]) -> None:
    stack = deploy(**options)
    document = body(stack)
    assert shape_problems(document) == []
    mine = created(stack)
    used = dimensions(document)
    assert [(name, value) for name, value in used if value not in mine.get(name, set())] == []
    # ... and every resource the signals come from is on it.
    assert {name: {value for n, value in used if n == name} for name in mine} == mine


def test_the_shape_check_fails_on_a_broken_body(default_stack: Deployment) -> None:
    document = body(default_stack)
    broken = json.loads(json.dumps(document))
    graph = next(widget for widget in broken["widgets"] if widget["type"] == "metric")
    graph["properties"]["period"] = 90
    graph["properties"]["metrics"].append(["AWS/ApplicationELB", "RequestCount", "LoadBalancer"])
    graph["properties"]["metrics"].append([{"expression": "100 * nothere", "id": "e9"}])
    broken["widgets"][0]["properties"].pop("alarms")  # an alarm widget needs its alarms
    assert len(shape_problems(broken)) == 4


@pytest.mark.parametrize("options", [{}, {"deployment_strategy": "blue-green"}], ids=["rolling", "blue-green"])
def test_alarm_widgets_show_the_alarms_the_stack_created_by_what_they_do(options: dict[str, Any]) -> None:
    stack = deploy(**options)
    shown = {
        widget["properties"]["title"]: sorted(widget["properties"]["alarms"])
        for widget in body(stack)["widgets"]
        if widget["type"] == "alarm"
    }
    alarms = stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    rollback = stack.one("aws:ecs/service:Service").inputs["alarms"]["alarmNames"]
    assert rollback and len(alarms) > len(rollback)
    assert shown == {
        "Alarms that roll a release back": sorted(a.outputs["arn"] for a in alarms if a.outputs["name"] in rollback),
        "Alarms that notify": sorted(a.outputs["arn"] for a in alarms if a.outputs["name"] not in rollback),
    }


def test_layout_reads_by_importance_without_overlaps(default_stack: Deployment) -> None:
    placed = body(default_stack)["widgets"]
    assert placed[0]["type"] == "alarm" and (placed[0]["x"], placed[0]["y"]) == (0, 0)
    titles = [widget["properties"]["title"] for widget in sorted(placed, key=lambda w: (w["y"], w["x"]))]
    assert titles.index("Requests") < titles.index("Tasks and deployments")
    cells = [
        (x, y) for w in placed for x in range(w["x"], w["x"] + w["width"]) for y in range(w["y"], w["y"] + w["height"])
    ]
    assert len(cells) == len(set(cells))


def test_scaling_range_is_drawn_only_with_autoscaling() -> None:
    def task_annotations(stack: Deployment) -> list[dict[str, Any]]:
        [tasks] = [w for w in body(stack)["widgets"] if w["properties"].get("title") == "Tasks and deployments"]
        return list(tasks["properties"].get("annotations", {}).get("horizontal", []))

    assert task_annotations(deploy()) == []
    stack = deploy(enable_autoscaling=True, autoscaling_min=3, autoscaling_max=12, replicas=3)
    target = stack.one("aws:appautoscaling/target:Target").outputs
    drawn = [annotation["value"] for annotation in task_annotations(stack)]
    assert drawn == [target["minCapacity"], target["maxCapacity"]] == [3, 12]


def test_two_target_groups_each_get_their_own_lines() -> None:
    """Blue/green keeps two target groups: the dashboard follows both, labelled apart."""
    document = {
        "widgets": widgets(
            "eu-west-1",
            load_balancer="app/lb/1",
            target_groups=["targetgroup/blue/2", "targetgroup/green/3"],
            cluster="cluster",
            service="service",
            rollback_alarm_arns=["arn:aws:cloudwatch:eu-west-1:123456789012:alarm:a"],
        )
    }
    assert shape_problems(document) == []
    groups = {value for name, value in dimensions(document) if name == "TargetGroup"}
    assert groups == {"targetgroup/blue/2", "targetgroup/green/3"}
    labels = [m[-1].get("label") for w in document["widgets"] for m in w["properties"].get("metrics", [])]
    assert "p99, target group 1" in labels and "p99, target group 2" in labels


def test_5xx_rates_use_the_alarms_formula_and_show_an_outage_as_100_percent() -> None:
    """In an outage the ALB answers every request with its own 503 (no target) and RequestCount reports nothing: the
    graph must read 100 %, as the alb-5xx-rate alarm does, not a gap; a quiet minute reads 0 %."""
    metrics = [
        m[-1]
        for w in widgets(
            "eu-west-1",
            load_balancer="app/lb/1",
            target_groups=["targetgroup/blue/2"],
            cluster="cluster",
            service="service",
            rollback_alarm_arns=["arn:aws:cloudwatch:eu-west-1:123456789012:alarm:a"],
        )
        for m in w["properties"].get("metrics", [])
    ]
    expressions = {m["id"]: m["expression"] for m in metrics if "expression" in m}
    alb, target = expressions["albrate"], expressions["targetrate0"]
    assert alb == error_rate_percent("alb5xx", "requests", 1, "alb503")
    assert target == error_rate_percent("target5xx0", "tgrequests0", 1)
    assert evaluate(alb, alb5xx=120, requests=None, alb503=120) == 100
    assert evaluate(alb, alb5xx=None, requests=None, alb503=None) == 0
    assert evaluate(alb, alb5xx=5, requests=95, alb503=5) == 5
    assert evaluate(target, target5xx0=None, tgrequests0=None) == 0


def test_waf_row_appears_with_a_web_acl() -> None:
    document = {
        "widgets": widgets(
            "eu-west-1",
            load_balancer="app/lb/1",
            target_groups=["targetgroup/tg/2"],
            cluster="cluster",
            service="service",
            rollback_alarm_arns=["arn:aws:cloudwatch:eu-west-1:123456789012:alarm:a"],
            web_acl="acl-metric",
        )
    }
    assert shape_problems(document) == []
    assert ("WebACL", "acl-metric") in dimensions(document)


def test_dashboard_is_named_for_project_and_stack_and_linked_in_its_region() -> None:
    settings = parse_settings({"aws_region": "eu-west-1"})
    found: list[str] = []

    def program() -> pulumi.Output[None]:
        return build_stack("hello-fargate", settings).dashboard.url.apply(found.append)

    mocks = run_program(program, stack="prod.eu")
    [dashboard] = [r for r in mocks.resources if r.type == DASHBOARD]
    assert dashboard.inputs["dashboardName"] == "hello-fargate-prod-eu"
    assert found == [
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1"
        "#dashboards/dashboard/hello-fargate-prod-eu"
    ]
