"""CloudWatch alarms on what users feel, wired to the service's deployments so a bad release rolls back."""

import pulumi
import pulumi_aws as aws

from infra.validation import Settings

PERIOD_SECONDS = 60


class ServiceAlarms(pulumi.ComponentResource):
    """ALB 5xx, target 5xx, unhealthy targets and p99 latency; notifications to an SNS topic (email optional)."""

    def __init__(
        self,
        name: str,
        settings: Settings,
        *,
        alb: aws.lb.LoadBalancer,
        target_groups: list[aws.lb.TargetGroup],
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
        load_balancer = {"LoadBalancer": alb.arn_suffix}
        specs: list[tuple[str, str, dict[str, pulumi.Output[str]], str, float, int]] = [
            # name, metric, dimensions, statistic, threshold, breaching periods (of 1 minute)
            ("alb-5xx", "HTTPCode_ELB_5XX_Count", load_balancer, "Sum", settings.alarm_5xx_per_minute, 2),
        ]
        # Blue/green releases alternate two target groups: each is watched, so the alarms follow the live one.
        for index, target_group in enumerate(target_groups):
            group = "" if index == 0 else f"-tg{index + 1}"
            targets = {"LoadBalancer": alb.arn_suffix, "TargetGroup": target_group.arn_suffix}
            specs += [
                (f"target-5xx{group}", "HTTPCode_Target_5XX_Count", targets, "Sum", settings.alarm_5xx_per_minute, 2),
                (f"unhealthy-targets{group}", "UnHealthyHostCount", targets, "Maximum", 1, 2),
                (f"latency-p99{group}", "TargetResponseTime", targets, "p99", settings.alarm_p99_latency_ms / 1000, 3),
            ]
        self.alarms = [
            aws.cloudwatch.MetricAlarm(
                f"{name}-{alarm}",
                namespace="AWS/ApplicationELB",
                metric_name=metric,
                dimensions=dimensions,
                statistic=None if statistic.startswith("p") else statistic,
                extended_statistic=statistic if statistic.startswith("p") else None,
                comparison_operator="GreaterThanOrEqualToThreshold",
                threshold=threshold,
                period=PERIOD_SECONDS,
                evaluation_periods=periods,
                datapoints_to_alarm=periods,
                treat_missing_data="notBreaching",
                alarm_actions=[self.topic.arn],
                ok_actions=[self.topic.arn],
                opts=child,
            )
            for alarm, metric, dimensions, statistic, threshold, periods in specs
        ]
        self.names = [alarm.name for alarm in self.alarms]
        self.register_outputs({"topic_arn": self.topic.arn})
