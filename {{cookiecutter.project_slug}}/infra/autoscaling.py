"""Service autoscaling: target tracking on average CPU and, optionally, on ALB requests per target."""

import pulumi
import pulumi_aws as aws

from infra.validation import Settings

COOLDOWN_SECONDS = {"scale_out": 60, "scale_in": 300}
MetricQuery = (
    aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricArgsDict
)


class ServiceAutoscaling(pulumi.ComponentResource):
    """Keeps the task count between autoscaling_min and autoscaling_max, following load."""

    def __init__(
        self,
        name: str,
        settings: Settings,
        *,
        cluster: aws.ecs.Cluster,
        service: aws.ecs.Service,
        alb: aws.lb.LoadBalancer,
        target_groups: list[aws.lb.TargetGroup],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("fargate:autoscaling:ServiceAutoscaling", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.target = aws.appautoscaling.Target(
            f"{name}-target",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.concat("service/", cluster.name, "/", service.name),
            min_capacity=settings.autoscaling_min,
            max_capacity=settings.autoscaling_max,
            opts=child,
        )
        self.policies = [self._track(name, "cpu", "ECSServiceAverageCPUUtilization", settings.autoscaling_cpu_target)]
        if settings.autoscaling_requests_per_target > 0 and len(target_groups) == 1:
            [target_group] = target_groups
            self.policies.append(
                self._track(
                    name,
                    "requests",
                    "ALBRequestCountPerTarget",
                    settings.autoscaling_requests_per_target,
                    resource_label=pulumi.Output.concat(alb.arn_suffix, "/", target_group.arn_suffix),
                )
            )
        elif settings.autoscaling_requests_per_target > 0:
            self.policies.append(self._track_requests_over(name, alb, target_groups, settings))
        self.register_outputs({})

    def _track_requests_over(
        self, name: str, alb: aws.lb.LoadBalancer, target_groups: list[aws.lb.TargetGroup], settings: Settings
    ) -> aws.appautoscaling.Policy:
        """Requests per target over every target group: with blue/green releases ECS alternates them.

        A label on one group would see no requests once the other holds the tasks, and scale in. Between releases
        one group has no targets (no data, FILL 0); during a release both revisions run the full count, so the
        per-target shares add up to the per-task rate.
        """
        queries: list[MetricQuery] = [
            {
                "id": f"group{index}",
                "return_data": False,
                "metric_stat": {
                    "stat": "Sum",
                    "metric": {
                        "namespace": "AWS/ApplicationELB",
                        "metric_name": "RequestCountPerTarget",
                        "dimensions": [
                            {"name": "LoadBalancer", "value": alb.arn_suffix},
                            {"name": "TargetGroup", "value": group.arn_suffix},
                        ],
                    },
                },
            }
            for index, group in enumerate(target_groups)
        ]
        total = " + ".join(f"FILL(group{index}, 0)" for index in range(len(target_groups)))
        queries.append({"id": "requests", "expression": total, "label": "requests per target", "return_data": True})
        return aws.appautoscaling.Policy(
            f"{name}-requests",
            policy_type="TargetTrackingScaling",
            service_namespace=self.target.service_namespace,
            scalable_dimension=self.target.scalable_dimension,
            resource_id=self.target.resource_id,
            target_tracking_scaling_policy_configuration={
                "target_value": settings.autoscaling_requests_per_target,
                "customized_metric_specification": {"metrics": queries},
                "scale_out_cooldown": COOLDOWN_SECONDS["scale_out"],
                "scale_in_cooldown": COOLDOWN_SECONDS["scale_in"],
            },
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _track(
        self,
        name: str,
        metric: str,
        metric_type: str,
        target_value: int,
        resource_label: pulumi.Input[str] | None = None,
    ) -> aws.appautoscaling.Policy:
        return aws.appautoscaling.Policy(
            f"{name}-{metric}",
            policy_type="TargetTrackingScaling",
            service_namespace=self.target.service_namespace,
            scalable_dimension=self.target.scalable_dimension,
            resource_id=self.target.resource_id,
            target_tracking_scaling_policy_configuration={
                "target_value": target_value,
                "predefined_metric_specification": {
                    "predefined_metric_type": metric_type,
                    "resource_label": resource_label,
                },
                "scale_out_cooldown": COOLDOWN_SECONDS["scale_out"],
                "scale_in_cooldown": COOLDOWN_SECONDS["scale_in"],
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
