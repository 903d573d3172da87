"""Service autoscaling: target tracking on average CPU and, optionally, on ALB requests per target."""

import pulumi
import pulumi_aws as aws

from infra.validation import Settings

COOLDOWN_SECONDS = {"scale_out": 60, "scale_in": 300}


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
        target_group: aws.lb.TargetGroup,
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
        if settings.autoscaling_requests_per_target > 0:
            self.policies.append(
                self._track(
                    name,
                    "requests",
                    "ALBRequestCountPerTarget",
                    settings.autoscaling_requests_per_target,
                    resource_label=pulumi.Output.concat(alb.arn_suffix, "/", target_group.arn_suffix),
                )
            )
        self.register_outputs({})

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
