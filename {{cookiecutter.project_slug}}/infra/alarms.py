"""CloudWatch alarms: those a bad release sets off roll it back; the others only notify.

ECS fails a deployment (and rolls it back) when any alarm in the service's list is in ALARM during the rollout or
the bake time after it. So that list holds only signals a release causes and that traffic volume cannot fake:
unhealthy targets, and 5xx responses as a share of requests once there are enough requests to judge. Latency is a
property of endpoints (a slow report, the README's `?delay_ms=` demo) more than of releases: it notifies only.
"""

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_aws as aws

from infra.validation import Settings, unhealthy_alarm_periods

NAMESPACE = "AWS/ApplicationELB"
PERIOD_SECONDS = 60
# Minutes in a row before an alarm fires: one bad minute in a rollout is noise, two are a trend.
ROLLBACK_PERIODS = 2
LATENCY_PERIODS = 3


def error_rate_percent(errors: str, requests: str, min_requests: int, unrouted: str | None = None) -> str:
    """Metric math: the percentage of requests that got a 5xx, or 0 in a minute with fewer than `min_requests`.

    ALB metrics are not reported for a minute without any (no requests, or no errors), so every series is filled
    with 0; a quiet minute then reads 0 % instead of leaving the alarm without data. `unrouted` counts requests the
    ALB answered before choosing a target, which `RequestCount` leaves out (503: no target to send to): they join
    the requests, or an outage where every answer is such a 503 would read as no traffic, hence 0 %.
    """
    total = f"FILL({requests}, 0)" if unrouted is None else f"(FILL({requests}, 0) + FILL({unrouted}, 0))"
    return f"IF({total} >= {min_requests}, 100 * FILL({errors}, 0) / {total}, 0)"


def metric_query(
    query_id: str, metric_name: str, dimensions: Mapping[str, pulumi.Input[str]]
) -> aws.cloudwatch.MetricAlarmMetricQueryArgsDict:
    return {
        "id": query_id,
        "metric": {
            "namespace": NAMESPACE,
            "metric_name": metric_name,
            "dimensions": dimensions,
            "stat": "Sum",
            "period": PERIOD_SECONDS,
        },
        "return_data": False,
    }


class ServiceAlarms(pulumi.ComponentResource):
    """Alarms on the ALB and on each target group, with notifications to an SNS topic (email optional).

    `target_groups` are the groups the service registers in: one for rolling deployments, two for blue/green, canary
    and linear ones, which alternate them. Each gets its own 5xx-rate, unhealthy-targets and latency alarms, so the
    live revision is always watched; the first group's alarms carry no suffix, the second's `-tg2`.
    """

    def __init__(
        self,
        name: str,
        settings: Settings,
        *,
        alb: aws.lb.LoadBalancer,
        target_groups: Sequence[aws.lb.TargetGroup],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("fargate:alarms:ServiceAlarms", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.topic = aws.sns.Topic(f"{name}-alarms", opts=child)
        if settings.alarm_email:
            aws.sns.TopicSubscription(
                f"{name}-alarms-email",
                topic=self.topic.arn,
                protocol="email",
                endpoint=settings.alarm_email,
                opts=child,
            )
        actions = [self.topic.arn]

        def rate_alarm(
            alarm_name: str,
            description: str,
            errors_metric: str,
            dimensions: Mapping[str, pulumi.Input[str]],
            unrouted_metric: str | None = None,
        ) -> aws.cloudwatch.MetricAlarm:
            minimum = settings.alarm_min_requests_per_minute
            unrouted = [metric_query("unrouted", unrouted_metric, dimensions)] if unrouted_metric else []
            return aws.cloudwatch.MetricAlarm(
                alarm_name,
                alarm_description=description,
                metric_queries=[
                    metric_query("errors", errors_metric, dimensions),
                    metric_query("requests", "RequestCount", dimensions),
                    *unrouted,
                    {
                        "id": "rate",
                        "label": "5xx responses, % of requests",
                        "expression": error_rate_percent(
                            "errors", "requests", minimum, "unrouted" if unrouted_metric else None
                        ),
                        "return_data": True,
                    },
                ],
                comparison_operator="GreaterThanOrEqualToThreshold",
                threshold=settings.alarm_5xx_rate_percent,
                evaluation_periods=ROLLBACK_PERIODS,
                datapoints_to_alarm=ROLLBACK_PERIODS,
                treat_missing_data="notBreaching",
                alarm_actions=actions,
                ok_actions=actions,
                opts=child,
            )

        load_balancer = {"LoadBalancer": alb.arn_suffix}
        # 5xx the ALB itself answers (502 when a target closes or garbles a response, 504 when it does not answer
        # in time, 503 with no target to send to): a release that crashes or hangs shows here, not in target 5xx.
        self.rollback_alarms = [
            rate_alarm(
                f"{name}-alb-5xx-rate",
                "Rolls back a release: 5xx answered by the ALB (502/503/504) as a share of requests",
                "HTTPCode_ELB_5XX_Count",
                load_balancer,
                # RequestCount counts only requests the ALB chose a target for; its 503s (no target) come on top.
                unrouted_metric="HTTPCode_ELB_503_Count",
            )
        ]
        self.notify_alarms: list[aws.cloudwatch.MetricAlarm] = []
        unhealthy_periods = unhealthy_alarm_periods(settings.stop_timeout_seconds)
        for index, target_group in enumerate(target_groups):
            group = "" if index == 0 else f"-tg{index + 1}"
            targets = {"LoadBalancer": alb.arn_suffix, "TargetGroup": target_group.arn_suffix}
            self.rollback_alarms.append(
                rate_alarm(
                    f"{name}-target-5xx-rate{group}",
                    "Rolls back a release: 5xx answered by the app as a share of its requests",
                    "HTTPCode_Target_5XX_Count",
                    targets,
                )
            )
            self.rollback_alarms.append(
                aws.cloudwatch.MetricAlarm(
                    f"{name}-unhealthy-targets{group}",
                    alarm_description="Rolls back a release: a target failing its health checks",
                    namespace=NAMESPACE,
                    metric_name="UnHealthyHostCount",
                    dimensions=targets,
                    statistic="Maximum",
                    period=PERIOD_SECONDS,
                    comparison_operator="GreaterThanOrEqualToThreshold",
                    threshold=1,
                    # Longer than a Fargate Spot reclaim keeps a healthy release's task unhealthy (its drain).
                    evaluation_periods=unhealthy_periods,
                    datapoints_to_alarm=unhealthy_periods,
                    treat_missing_data="notBreaching",
                    alarm_actions=actions,
                    ok_actions=actions,
                    opts=child,
                )
            )
            self.notify_alarms.append(
                aws.cloudwatch.MetricAlarm(
                    f"{name}-latency-p99{group}",
                    alarm_description="Notifies only: p99 response time above alarm_p99_latency_ms",
                    namespace=NAMESPACE,
                    metric_name="TargetResponseTime",
                    dimensions=targets,
                    extended_statistic="p99",
                    period=PERIOD_SECONDS,
                    comparison_operator="GreaterThanOrEqualToThreshold",
                    threshold=settings.alarm_p99_latency_ms / 1000,
                    evaluation_periods=LATENCY_PERIODS,
                    datapoints_to_alarm=LATENCY_PERIODS,
                    treat_missing_data="notBreaching",
                    alarm_actions=actions,
                    ok_actions=actions,
                    opts=child,
                )
            )
        if len(target_groups) > 1:
            # A canary on a quiet service: its group's share may stay below alarm_min_requests_per_minute (a 10 %
            # canary needs 10x the minimum in total), so its own rate reads 0 % even when every answer is a 5xx.
            # Over all groups the minimum counts the whole service's requests, and a failing canary shows as its
            # share of them. (With one group this would equal that group's alarm.)
            self.rollback_alarms.append(
                rate_alarm(
                    f"{name}-target-5xx-rate-all",
                    "Rolls back a release: 5xx answered by the app in any target group, as a share of all requests",
                    "HTTPCode_Target_5XX_Count",
                    load_balancer,
                )
            )
        # What the service's deployments watch: any of these in ALARM fails the rollout and rolls it back.
        self.rollback_alarm_names = [alarm.name for alarm in self.rollback_alarms]
        self.register_outputs({"topic_arn": self.topic.arn})
