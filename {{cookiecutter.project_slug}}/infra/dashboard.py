"""A CloudWatch dashboard of the service's golden signals: traffic, errors, latency, saturation, and its alarms.

The body is a JSON document (CloudWatch's "dashboard body structure") built from this stack's own resources: the
load balancer's and target groups' ARN suffixes, the cluster and service names, the alarms' ARNs. Every value may
be an Output: `pulumi.Output.json_dumps` resolves them, so no resource is created inside an apply.
"""

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.alarms import error_rate_percent

PERIOD_SECONDS = 60
GRID_WIDTH = 24  # CloudWatch lays widgets out on a grid 24 units wide
ROW_HEIGHT = 6
ALB = "AWS/ApplicationELB"
INSIGHTS = "ECS/ContainerInsights"
WAF = "AWS/WAFV2"
WAF_METRICS = (("AllowedRequests", "allowed"), ("BlockedRequests", "blocked"), ("CountedRequests", "counted"))

Widget = dict[str, Any]


def console_url(region: str, dashboard_name: pulumi.Input[str]) -> pulumi.Output[str]:
    """The CloudWatch console page of a dashboard, in the stack's region."""
    return pulumi.Output.concat(
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards/dashboard/",
        dashboard_name,
    )


def _graph(title: str, region: str, metrics: list[list[Any]], **properties: Any) -> Widget:
    return {
        "type": "metric",
        "properties": {
            "title": title,
            "region": region,
            "view": "timeSeries",
            "period": PERIOD_SECONDS,
            "metrics": metrics,
            **properties,
        },
    }


def _label(what: str, index: int, count: int) -> str:
    """Blue/green deployments have two target groups: tell their lines apart."""
    return what if count == 1 else f"{what}, target group {index + 1}"


def widgets(
    region: str,
    *,
    load_balancer: pulumi.Input[str],
    target_groups: Sequence[pulumi.Input[str]],
    cluster: pulumi.Input[str],
    service: pulumi.Input[str],
    rollback_alarm_arns: Sequence[pulumi.Input[str]],
    notify_alarm_arns: Sequence[pulumi.Input[str]] = (),
    scaling_range: tuple[pulumi.Input[int], pulumi.Input[int]] | None = None,
    web_acl: pulumi.Input[str] | None = None,
    traced_service: str | None = None,
) -> list[Widget]:
    """The widgets, most important first: alarm states, then traffic, errors, latency, then capacity.

    `load_balancer` and `target_groups` are ARN suffixes (the ALB metrics' dimension values), `web_acl` is the
    web ACL's metric name when the WAF is on, `traced_service` the service's name in X-Ray when tracing is on.
    """
    lb = ["LoadBalancer", load_balancer]
    count = len(target_groups)
    tgs = [[*lb, "TargetGroup", suffix] for suffix in target_groups]
    ecs = ["ClusterName", cluster, "ServiceName", service]

    requests: list[list[Any]] = [[ALB, "RequestCount", *lb, {"stat": "Sum", "label": "requests per minute"}]]
    errors: list[list[Any]] = [
        [ALB, "RequestCount", *lb, {"stat": "Sum", "id": "requests", "visible": False}],
        [ALB, "HTTPCode_ELB_5XX_Count", *lb, {"stat": "Sum", "id": "alb5xx", "visible": False}],
        [ALB, "HTTPCode_ELB_503_Count", *lb, {"stat": "Sum", "id": "alb503", "visible": False}],
        # The alarms' formula (their 503s with no target count as requests, so an outage reads 100 %, not blank),
        # over every minute with a request: the alarms also skip minutes under alarm_min_requests_per_minute.
        [{"expression": error_rate_percent("alb5xx", "requests", 1, "alb503"), "label": "ALB 5xx %", "id": "albrate"}],
    ]
    for i, tg in enumerate(tgs):
        errors += [
            [ALB, "RequestCount", *tg, {"stat": "Sum", "id": f"tgrequests{i}", "visible": False}],
            [ALB, "HTTPCode_Target_5XX_Count", *tg, {"stat": "Sum", "id": f"target5xx{i}", "visible": False}],
            [
                {
                    "expression": error_rate_percent(f"target5xx{i}", f"tgrequests{i}", 1),
                    "label": _label("target 5xx %", i, count),
                    "id": f"targetrate{i}",
                }
            ],
        ]
    latency: list[list[Any]] = [
        [ALB, "TargetResponseTime", *tg, {"stat": stat, "label": _label(stat, i, count)}]
        for i, tg in enumerate(tgs)
        for stat in ("p50", "p99")
    ]
    targets: list[list[Any]] = [
        [ALB, metric, *tg, {"stat": stat, "label": _label(label, i, count)}]
        for i, tg in enumerate(tgs)
        for metric, stat, label in (
            ("HealthyHostCount", "Minimum", "healthy"),
            ("UnHealthyHostCount", "Maximum", "unhealthy"),
        )
    ]
    # ECS has no deployment annotations for dashboards: Container Insights' DeploymentCount (above 1 while a
    # rollout replaces tasks) marks deployments on the task graph instead.
    tasks: list[list[Any]] = [
        [INSIGHTS, "RunningTaskCount", *ecs, {"stat": "Average", "label": "running"}],
        [INSIGHTS, "DesiredTaskCount", *ecs, {"stat": "Average", "label": "desired"}],
        [INSIGHTS, "DeploymentCount", *ecs, {"stat": "Maximum", "label": "deployments", "yAxis": "right"}],
    ]
    task_annotations = (
        {}
        if scaling_range is None
        else {
            "annotations": {
                "horizontal": [
                    {"label": "autoscaling min", "value": scaling_range[0]},
                    {"label": "autoscaling max", "value": scaling_range[1]},
                ]
            }
        }
    )
    saturation: list[list[Any]] = [
        [INSIGHTS, "CpuUtilized", *ecs, {"stat": "Sum", "id": "cpu", "visible": False}],
        [INSIGHTS, "CpuReserved", *ecs, {"stat": "Sum", "id": "cpureserved", "visible": False}],
        [INSIGHTS, "MemoryUtilized", *ecs, {"stat": "Sum", "id": "memory", "visible": False}],
        [INSIGHTS, "MemoryReserved", *ecs, {"stat": "Sum", "id": "memoryreserved", "visible": False}],
        [{"expression": "100 * cpu / cpureserved", "label": "CPU % of reserved", "id": "cpupercent"}],
        [{"expression": "100 * memory / memoryreserved", "label": "memory % of reserved", "id": "memorypercent"}],
    ]

    alarm_groups = (("Alarms that roll a release back", rollback_alarm_arns), ("Alarms that notify", notify_alarm_arns))
    rows: list[list[Widget]] = [
        [
            {"type": "alarm", "properties": {"title": title, "alarms": list(arns)}}
            for title, arns in alarm_groups
            if arns
        ],
        [
            _graph("Requests", region, requests, stat="Sum"),
            _graph("5xx responses, % of requests", region, errors, yAxis={"left": {"min": 0}}),
            _graph("Target response time (seconds)", region, latency),
        ],
        [
            _graph("Targets", region, targets),
            _graph("Tasks and deployments", region, tasks, yAxis={"left": {"min": 0}}, **task_annotations),
            _graph("CPU and memory (Container Insights)", region, saturation, yAxis={"left": {"min": 0, "max": 100}}),
        ],
    ]
    if web_acl is not None:
        waf: list[Any] = ["WebACL", web_acl, "Region", region, "Rule", "ALL"]
        requests_by_action: list[list[Any]] = [[WAF, metric, *waf, {"label": label}] for metric, label in WAF_METRICS]
        rows.append([_graph("WAF requests", region, requests_by_action, stat="Sum")])
    if traced_service is not None:
        rows.insert(1, [traces_link(region, traced_service)])
    return _laid_out(rows)


def traces_link(region: str, service: str) -> Widget:
    """A text widget leading to the service's traces in the CloudWatch console (X-Ray's traces live there)."""
    console = f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
    return {
        "type": "text",
        "properties": {
            "markdown": (
                f"**Traces** of `{service}`: [trace search]({console}#xray:traces/query), filter with "
                f'`service("{service}")`; [trace map]({console}#xray:service-map/map). A log line\'s `xray_trace_id` '
                f"is its request's trace: open `{console}#xray:traces/<xray_trace_id>`."
            )
        },
    }


def _laid_out(rows: list[list[Widget]]) -> list[Widget]:
    """Each row's widgets side by side across the grid; the alarm and text rows are half height."""
    placed = []
    y = 0
    for row in rows:
        height = ROW_HEIGHT // 2 if row[0]["type"] in ("alarm", "text") else ROW_HEIGHT
        width = GRID_WIDTH // len(row)
        for column, widget in enumerate(row):
            placed.append({**widget, "x": column * width, "y": y, "width": width, "height": height})
        y += height
    return placed


class ServiceDashboard(pulumi.ComponentResource):
    """One dashboard per stack, named after project and stack; `url` opens it in the console."""

    def __init__(
        self,
        name: str,
        dashboard_name: str,
        region: str,
        *,
        alb: aws.lb.LoadBalancer,
        target_groups: Sequence[aws.lb.TargetGroup],
        cluster: aws.ecs.Cluster,
        service: aws.ecs.Service,
        rollback_alarms: Sequence[aws.cloudwatch.MetricAlarm],
        notify_alarms: Sequence[aws.cloudwatch.MetricAlarm],
        scaling_target: aws.appautoscaling.Target | None = None,
        web_acl_metric_name: pulumi.Input[str] | None = None,
        traced_service: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("fargate:dashboard:ServiceDashboard", name, None, opts)
        body = {
            "widgets": widgets(
                region,
                load_balancer=alb.arn_suffix,
                target_groups=[target_group.arn_suffix for target_group in target_groups],
                cluster=cluster.name,
                service=service.name,
                rollback_alarm_arns=[alarm.arn for alarm in rollback_alarms],
                notify_alarm_arns=[alarm.arn for alarm in notify_alarms],
                scaling_range=(
                    None if scaling_target is None else (scaling_target.min_capacity, scaling_target.max_capacity)
                ),
                web_acl=web_acl_metric_name,
                traced_service=traced_service,
            )
        }
        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=dashboard_name,
            dashboard_body=pulumi.Output.json_dumps(body),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.url = console_url(region, self.dashboard.dashboard_name)
        self.register_outputs({"url": self.url})
