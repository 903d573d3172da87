"""The Fargate service: the ECS service, wired to its cluster, its task and the tasks' network rules.

Each piece lives in its own module: infra/cluster.py (cluster, capacity providers), infra/task.py (log group, task
definition) with infra/task_roles.py (execution and task roles), infra/task_network.py (the task security group and
its rules). Their resources are this component's children, as they were before the pieces moved out.
"""

import pulumi
import pulumi_aws as aws

from infra.cluster import ServiceCluster, capacity_provider_strategy
from infra.endpoints import VpcEndpoints
from infra.forced_deployment import deployment_shape, remember_shape, shape_changes, shape_parameter_name
from infra.network import Placement
from infra.release import ECS_STRATEGIES, ReleaseTraffic, deployment_configuration, service_timeouts
from infra.task import CONTAINER_NAME, AppTask
from infra.task_network import TaskNetworkRules
from infra.validation import Settings


class FargateService(pulumi.ComponentResource):
    """`settings.replicas` tasks of `image_ref` behind `target_group`, rolled out with automatic rollback."""

    def __init__(
        self,
        name: str,
        settings: Settings,
        *,
        image_ref: pulumi.Input[str],
        stack_name: str,
        placement: Placement,
        alb_security_group: aws.ec2.SecurityGroup,
        target_group: aws.lb.TargetGroup,
        listener: aws.lb.Listener,
        alarm_names: list[pulumi.Output[str]],
        release: ReleaseTraffic | None = None,
        endpoints: VpcEndpoints | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("fargate:service:FargateService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        cluster = ServiceCluster(name, child)
        self.cluster, self.capacity_providers = cluster.cluster, cluster.capacity_providers
        task = AppTask(name, settings, image_ref=image_ref, stack_name=stack_name, opts=child)
        self.log_group, self.task_definition = task.log_group, task.task_definition
        self.execution_role, self.task_role = task.roles.execution_role, task.roles.task_role
        port = settings.container_port
        rules = TaskNetworkRules(
            name, placement, port=port, alb_security_group=alb_security_group, endpoints=endpoints, opts=child
        )
        self.security_group = rules.security_group

        # ECS checks the listener, and for releases its role's permissions, when the service changes.
        start_after: list[pulumi.Resource] = [listener] if release is None else [listener, release.role_policy]
        start_after.append(self.capacity_providers)  # a strategy may only name providers the cluster has
        # The first tasks start as soon as the service exists: their network rules and the execution role's policies
        # first, or they fail to pull the image or a health check and the circuit breaker counts those failures.
        start_after += [*rules.rules, *rules.endpoint_access, *task.roles.execution_policies]
        start_after += task.tracing.pull_needs if task.tracing else []  # the collector's image, with tracing

        load_balancer: aws.ecs.ServiceLoadBalancerArgsDict = {
            "target_group_arn": target_group.arn,
            "container_name": CONTAINER_NAME,
            "container_port": port,
        }
        if release is not None:
            # Blue/green, canary, linear: ECS alternates the two target groups and shifts the production rule.
            load_balancer["advanced_configuration"] = release.advanced_configuration()
        # A forced deployment only in the update that changes where tasks run or how releases replace them
        # (infra/forced_deployment.py): a replica change, or any other, scales or updates in place.
        strategy = capacity_provider_strategy(settings)
        shape = deployment_shape(strategy, ECS_STRATEGIES[settings.deployment_strategy])
        shape_parameter = shape_parameter_name(pulumi.get_project(), pulumi.get_stack())
        self.service = aws.ecs.Service(
            f"{name}-service",
            cluster=self.cluster.arn,
            task_definition=self.task_definition.arn,
            desired_count=settings.replicas,
            # A capacity provider strategy, never launch_type, even without Spot: the provider replaces a service
            # whose launch_type changes, while ECS updates a strategy in place with a forced new deployment.
            capacity_provider_strategies=strategy,
            force_new_deployment=shape_changes(shape_parameter, shape),
            # Shows in a preview why an update forces a deployment (the provider acts on it only with the flag).
            triggers={"deployment_shape": shape},
            platform_version="LATEST",
            network_configuration={
                "subnets": placement.task_subnet_ids,
                "security_groups": [self.security_group.id],
                "assign_public_ip": placement.assign_public_ip,
            },
            load_balancers=[load_balancer],
            health_check_grace_period_seconds=settings.health_check_grace_period_seconds,
            # Rolling update: start the new tasks first, stop old ones only once the new are healthy.
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            deployment_circuit_breaker={"enable": True, "rollback": True},
            # Always named, rolling included (ROLLING), so a switch back from blue/green reaches ECS.
            deployment_configuration=deployment_configuration(settings),
            # A release that sets off these alarms during its rollout or bake time is rolled back too (ServiceAlarms
            # lists only signals a release causes: unhealthy targets and 5xx rates, not latency).
            alarms={"alarm_names": alarm_names, "enable": True, "rollback": True},
            availability_zone_rebalancing="ENABLED",
            enable_execute_command=settings.enable_exec,
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            # Declares the public-IP exception of networking=public-subnets to the policy pack (ECS.2).
            tags={"networking": settings.networking},
            # `pulumi up` waits for the rollout and fails if the circuit breaker rolled it back.
            wait_for_steady_state=True,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=start_after,
                # With autoscaling on, the scaler owns the task count between deploys.
                ignore_changes=["desired_count"] if settings.enable_autoscaling else None,
                # A release with bake times outlasts the provider's 20-minute wait.
                custom_timeouts=None if release is None else service_timeouts(settings),
            ),
        )
        self.deployment_shape = remember_shape(name, shape_parameter, shape, self.service, child)
        self.register_outputs({"cluster_name": self.cluster.name, "service_name": self.service.name})
