"""The alarms and the service's rollback list: only signals a release causes roll it back, judged as rates."""

import re
from typing import Any

import pytest

from conftest import PROJECT, Deployment, Registered, deploy
from infra.validation import resource_base_name

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def alarms_by_name(deployment: Deployment) -> dict[str, Registered]:
    """Alarms keyed by their logical name without the stack prefix (`alb-5xx-rate`, `unhealthy-targets`...)."""
    prefix = resource_base_name(PROJECT) + "-"
    return {alarm.name.removeprefix(prefix): alarm for alarm in deployment.of_type(ALARM)}


def rollback_names(deployment: Deployment) -> list[str]:
    return sorted(deployment.one("aws:ecs/service:Service").inputs["alarms"]["alarmNames"])


class Series(float):
    """A CloudWatch datapoint as metric math treats it: dividing by zero gives no number, not an exception."""

    def __truediv__(self, other: float) -> "Series":
        return Series(float(self) / other if other else float("nan"))

    def __rmul__(self, other: float) -> "Series":
        return Series(other * float(self))


def evaluate(expression: str, **values: float | None) -> float:
    """Our metric-math expression on one minute's datapoints (None = no datapoint reported), like CloudWatch would."""
    python = re.sub(r"\bIF\(", "_if(", re.sub(r"\bFILL\(", "_fill(", expression))
    assert re.fullmatch(r"[\w\s(),.>=*/+-]+", python), python  # only what the translation understands
    names: dict[str, Any] = {
        "_if": lambda condition, then, otherwise: then if condition else otherwise,
        "_fill": lambda value, fill: Series(fill if value is None else value),
        **values,
    }
    return float(eval(python, {"__builtins__": {}}, names))  # noqa: S307 (our own expression, checked above)


def rate_expression(alarm: Registered) -> str:
    """The one query whose result the alarm compares with its threshold."""
    [query] = [query for query in alarm.inputs["metricQueries"] if query.get("returnData")]
    return str(query["expression"])


def test_rollback_list_is_unhealthy_targets_and_5xx_rates_not_latency(default_stack: Deployment) -> None:
    alarms = alarms_by_name(default_stack)
    assert sorted(alarms) == ["alb-5xx-rate", "latency-p99", "target-5xx-rate", "unhealthy-targets"]
    rollback = {key: alarm for key, alarm in alarms.items() if key != "latency-p99"}
    assert rollback_names(default_stack) == sorted(alarm.outputs["name"] for alarm in rollback.values())
    service = default_stack.one("aws:ecs/service:Service").inputs
    assert service["alarms"]["enable"] is True and service["alarms"]["rollback"] is True


def test_latency_alarm_notifies_the_topic_only(default_stack: Deployment) -> None:
    latency = alarms_by_name(default_stack)["latency-p99"]
    topic = default_stack.one("aws:sns/topic:Topic")
    assert latency.outputs["name"] not in rollback_names(default_stack)
    assert latency.inputs["alarmActions"] == [topic.outputs["arn"]]
    assert latency.inputs["metricName"] == "TargetResponseTime"
    assert latency.inputs["extendedStatistic"] == "p99"
    assert latency.inputs["threshold"] == 1.0
    assert latency.inputs["evaluationPeriods"] == 3


def test_5xx_alarms_are_rates_of_requests_by_metric_math(default_stack: Deployment) -> None:
    alarms = alarms_by_name(default_stack)
    alb, target_group = (
        default_stack.one(f"aws:lb/{kind}") for kind in ("loadBalancer:LoadBalancer", "targetGroup:TargetGroup")
    )
    on_alb = {"LoadBalancer": alb.outputs["arnSuffix"]}
    on_targets = {**on_alb, "TargetGroup": target_group.outputs["arnSuffix"]}
    for key, errors_metric, dimensions in [
        ("alb-5xx-rate", "HTTPCode_ELB_5XX_Count", on_alb),
        ("target-5xx-rate", "HTTPCode_Target_5XX_Count", on_targets),
    ]:
        alarm = alarms[key].inputs
        metrics = {query["id"]: query["metric"] for query in alarm["metricQueries"] if "metric" in query}
        unrouted = {"unrouted": "HTTPCode_ELB_503_Count"} if key == "alb-5xx-rate" else {}
        assert {name: metric["metricName"] for name, metric in metrics.items()} == {
            "errors": errors_metric,
            "requests": "RequestCount",
            **unrouted,
        }
        for metric in metrics.values():
            assert metric == {**metric, "namespace": "AWS/ApplicationELB", "stat": "Sum", "period": 60}
            assert metric["dimensions"] == dimensions  # errors and requests counted over the same targets
        assert "metricName" not in alarm  # a metric-math alarm names its metrics in the queries only
        assert alarm["threshold"] == 5
        assert alarm["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["evaluationPeriods"] == 2 and alarm["datapointsToAlarm"] == 2
        assert alarm["treatMissingData"] == "notBreaching"


def test_few_requests_do_not_decide_and_a_real_error_rate_does(default_stack: Deployment) -> None:
    expression = rate_expression(alarms_by_name(default_stack)["target-5xx-rate"])
    # Three requests, one failed: 33 %, but too few to judge a release by.
    assert evaluate(expression, errors=1, requests=3) == 0
    # At the minimum request count the rate counts: 3 of 50 is 6 %, over the 5 % threshold.
    assert evaluate(expression, errors=3, requests=50) == 6
    # High traffic with a tiny error rate stays under it (an absolute count of 10 a minute would have fired).
    assert evaluate(expression, errors=20, requests=10_000) == 0.2
    # No 5xx reported in a minute (ALB metrics are absent when zero), or no traffic at all: 0 %, not missing.
    assert evaluate(expression, errors=None, requests=400) == 0
    assert evaluate(expression, errors=None, requests=None) == 0


def test_an_alb_answering_only_503_no_target_is_a_full_outage_not_silence(default_stack: Deployment) -> None:
    # RequestCount leaves out requests the ALB answered before choosing a target (503: no target); a minute of
    # nothing else reports no RequestCount at all, and 400 ELB 5xx, all of them such 503s.
    expression = rate_expression(alarms_by_name(default_stack)["alb-5xx-rate"])
    assert evaluate(expression, errors=400, requests=None, unrouted=400) == 100
    # Half the requests reached a target, the other half found none: 50 %, each request counted once.
    assert evaluate(expression, errors=200, requests=200, unrouted=200) == 50
    # 502/504 come after a target was chosen, so they are in RequestCount already and not counted twice.
    assert evaluate(expression, errors=30, requests=300, unrouted=None) == 10
    # A few 503s in a quiet minute still do not decide a release.
    assert evaluate(expression, errors=3, requests=None, unrouted=3) == 0
    assert evaluate(expression, errors=None, requests=None, unrouted=None) == 0


def test_rate_settings_reach_the_alarms() -> None:
    deployment = deploy(alarm_5xx_rate_percent=2, alarm_min_requests_per_minute=200)
    alarm = alarms_by_name(deployment)["target-5xx-rate"]
    assert alarm.inputs["threshold"] == 2
    assert evaluate(rate_expression(alarm), errors=10, requests=199) == 0
    assert evaluate(rate_expression(alarm), errors=10, requests=200) == 5


def test_unhealthy_targets_alarm_on_the_service_target_group(default_stack: Deployment) -> None:
    unhealthy = alarms_by_name(default_stack)["unhealthy-targets"].inputs
    target_group = default_stack.one("aws:lb/targetGroup:TargetGroup")
    assert unhealthy["metricName"] == "UnHealthyHostCount"
    assert unhealthy["dimensions"]["TargetGroup"] == target_group.outputs["arnSuffix"]
    assert unhealthy["statistic"] == "Maximum" and unhealthy["threshold"] == 1
    assert unhealthy["treatMissingData"] == "notBreaching"


@pytest.mark.parametrize("stop_timeout", [51, 60, 61, 120])
def test_one_spot_reclaim_cannot_set_off_the_unhealthy_targets_alarm(stop_timeout: int) -> None:
    """A reclaimed Spot task of a good release fails its health checks from the SIGTERM (the drain) until ECS stops
    it, stop_timeout_seconds later at most. Wherever that window starts in a minute, the minutes it touches (each a
    Maximum of 1 unhealthy host) stay fewer than the alarm needs in a row; a target failing for longer still alarms."""
    alarm = alarms_by_name(deploy(stop_timeout_seconds=stop_timeout))["unhealthy-targets"].inputs
    needed = alarm["evaluationPeriods"]
    assert alarm["datapointsToAlarm"] == needed and alarm["period"] == 60
    for start in range(60):
        touched = (start + stop_timeout) // 60 - start // 60 + 1
        assert touched < needed, (start, touched, needed)
    assert needed == max((start + stop_timeout) // 60 - start // 60 + 1 for start in range(60)) + 1


def test_no_email_subscription_unless_an_address_is_set(default_stack: Deployment) -> None:
    assert default_stack.of_type("aws:sns/topicSubscription:TopicSubscription") == []
