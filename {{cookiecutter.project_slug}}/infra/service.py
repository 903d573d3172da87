"""The Fargate service: cluster, logs, IAM roles, task definition, task security group and the ECS service."""

import json

import pulumi
import pulumi_aws as aws

from infra.endpoints import VpcEndpoints
from infra.network import VPC_CIDR
from infra.release import ReleaseTraffic, deployment_configuration, service_timeouts
from infra.validation import Settings, shutdown_drain_seconds

CONTAINER_NAME = "app"
# The image's non-root user (see app/Dockerfile); set here too so ECS enforces it.
CONTAINER_USER = "10001:10001"
# The one writable place: a tmpfs at /tmp, private to the container, world-writable with the sticky bit as /tmp is.
# (A task volume would be root-owned with mode 0755, which the non-root user cannot write.) Its size counts against
# the task's memory.
TMP_PATH = "/tmp"  # noqa: S108 (a tmpfs private to the container, not a shared host directory)
TMP_SIZE_MIB = 64
TMP_MOUNT_OPTIONS = ["mode=1777", "nosuid", "nodev", "noexec"]
EXEC_ACTIONS = [
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
]
EXECUTION_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
ECS_TASKS_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def container_definitions(
    service_name: str,
    settings: Settings,
    image_ref: pulumi.Input[str],
    log_group: pulumi.Input[str],
    secret_arns: list[pulumi.Output[str]],
) -> pulumi.Output[str]:
    """The task's single container, as the JSON document ECS expects."""
    port = settings.container_port
    environment = {
        "SERVICE_NAME": service_name,
        "PORT": str(port),
        "HEALTH_CHECK_PATH": settings.health_check_path,
        "GRACEFUL_SHUTDOWN_SECONDS": str(settings.graceful_shutdown_seconds),
        # On SIGTERM the app fails its health check and keeps serving this long, until the ALB has taken it out.
        "SHUTDOWN_DRAIN_SECONDS": str(
            shutdown_drain_seconds(settings.health_check_interval_seconds, settings.unhealthy_threshold)
        ),
        "KEEP_ALIVE_SECONDS": str(settings.app_keep_alive_seconds),
    }
    # Only when set: ECS drops environment entries with empty values, which the provider then sees as a change on every
    # `up` (hashicorp/terraform-provider-aws#39533, pulumi/pulumi-aws#4576: the task definition replaced each time).
    if settings.release_label:
        environment["RELEASE_LABEL"] = settings.release_label
    return pulumi.Output.json_dumps(
        [
            {
                "name": CONTAINER_NAME,
                "image": image_ref,
                "essential": True,
                "user": CONTAINER_USER,
                "privileged": False,
                # ECS exec's agent needs a writable root filesystem: AWS documents a read-only one as unsupported
                # for exec and names no paths to mount instead, so exec (off by default) trades ECS.5 for a shell.
                "readonlyRootFilesystem": not settings.enable_exec,
                "linuxParameters": {
                    # ECS exec (`make shell`) and signal forwarding need an init process.
                    "initProcessEnabled": True,
                    "tmpfs": [{"containerPath": TMP_PATH, "size": TMP_SIZE_MIB, "mountOptions": TMP_MOUNT_OPTIONS}],
                },
                "portMappings": [{"containerPort": port, "hostPort": port, "protocol": "tcp"}],
                "environment": [{"name": key, "value": value} for key, value in environment.items()],
                # Credentials come from SSM or Secrets Manager at task start, never as plain environment values.
                "secrets": [
                    {"name": name, "valueFrom": arn}
                    for (name, _), arn in zip(settings.secrets, secret_arns, strict=True)
                ],
                "stopTimeout": settings.stop_timeout_seconds,
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": log_group,
                        "awslogs-region": settings.aws_region,
                        "awslogs-stream-prefix": CONTAINER_NAME,
                    },
                },
            }
        ]
    )


def capacity_provider_strategy(settings: Settings) -> list[aws.ecs.ServiceCapacityProviderStrategyArgsDict]:
    """Where the tasks run: `fargate_on_demand_base` tasks on regular Fargate first, the rest split by weight
    between regular Fargate and Fargate Spot (only one provider may have a base, and Spot never falls back to
    on-demand, so the base sits on FARGATE).

    FARGATE keeps a weight of at least 1, even at 100 % Spot: the API reference says a provider with weight 0 cannot
    place tasks, and does not say whether its base is still placed; 1 against 100 keeps the base certain and puts at
    most about one task in 101 above it on regular Fargate.
    """
    spot = settings.fargate_spot_percent
    strategy: list[aws.ecs.ServiceCapacityProviderStrategyArgsDict] = [
        {"capacity_provider": "FARGATE", "base": settings.fargate_on_demand_base, "weight": max(1, 100 - spot)}
    ]
    if spot:
        strategy.append({"capacity_provider": "FARGATE_SPOT", "weight": spot})
    return strategy


def secret_arn(source: str, region: str) -> pulumi.Output[str]:
    """The ARN of a secret given as an ARN already, or as an SSM parameter name in this account and region."""
    if source.startswith("arn:"):
        return pulumi.Output.from_input(source)
    account_id = aws.get_caller_identity_output().account_id
    return pulumi.Output.concat("arn:aws:ssm:", region, ":", account_id, ":parameter", source)


def secrets_policy(secret_arns: list[pulumi.Output[str]], kms_key_arn: str) -> pulumi.Output[str]:
    """Read exactly these parameters and secrets (and decrypt with the given customer-managed key)."""

    def document(arns: list[str]) -> str:
        statements: list[dict[str, object]] = []
        parameters = [arn for arn in arns if arn.startswith("arn:aws:ssm:")]
        secrets = [arn for arn in arns if arn.startswith("arn:aws:secretsmanager:")]
        if parameters:
            statements.append({"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": parameters})
        if secrets:
            statements.append({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secrets})
        if kms_key_arn:
            statements.append({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": kms_key_arn})
        return json.dumps({"Version": "2012-10-17", "Statement": statements})

    return pulumi.Output.all(*secret_arns).apply(document)


class FargateService(pulumi.ComponentResource):
    """`settings.replicas` tasks of `image_ref` behind `target_group`, rolled out with automatic rollback."""

    def __init__(
        self,
        name: str,
        settings: Settings,
        *,
        image_ref: pulumi.Input[str],
        vpc_id: pulumi.Input[str],
        subnet_ids: list[pulumi.Input[str]],
        assign_public_ip: bool,
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
        self.cluster = aws.ecs.Cluster(
            f"{name}-cluster", settings=[{"name": "containerInsights", "value": "enabled"}], opts=child
        )
        # Both Fargate capacity providers, so fargate_spot_percent can change without touching the cluster.
        self.capacity_providers = aws.ecs.ClusterCapacityProviders(
            f"{name}-capacity",
            cluster_name=self.cluster.name,
            capacity_providers=["FARGATE", "FARGATE_SPOT"],
            opts=child,
        )
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", retention_in_days=settings.log_retention_days, opts=child
        )
        # Execution role: what ECS itself needs to start the task (pull the image, write logs).
        self.execution_role = aws.iam.Role(f"{name}-execution", assume_role_policy=ECS_TASKS_TRUST, opts=child)
        aws.iam.RolePolicyAttachment(
            f"{name}-execution", role=self.execution_role.name, policy_arn=EXECUTION_POLICY_ARN, opts=child
        )
        secret_arns = [secret_arn(source, settings.aws_region) for _, source in settings.secrets]
        if secret_arns:
            aws.iam.RolePolicy(
                f"{name}-read-secrets",
                role=self.execution_role.id,
                policy=secrets_policy(secret_arns, settings.secrets_kms_key_arn),
                opts=child,
            )
        # Task role: what the app's own code may call in AWS. Empty on purpose; attach policies here as the app grows.
        self.task_role = aws.iam.Role(f"{name}-task", assume_role_policy=ECS_TASKS_TRUST, opts=child)
        if settings.enable_exec:
            # The ECS exec channel (`make shell`); these actions take no resource ARN.
            aws.iam.RolePolicy(
                f"{name}-exec",
                role=self.task_role.id,
                policy=json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": EXEC_ACTIONS, "Resource": "*"}],
                    }
                ),
                opts=child,
            )

        self.task_definition = aws.ecs.TaskDefinition(
            f"{name}-task",
            family=name,
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu=str(settings.cpu),
            memory=str(settings.memory),
            runtime_platform={"cpu_architecture": settings.cpu_architecture, "operating_system_family": "LINUX"},
            execution_role_arn=self.execution_role.arn,
            task_role_arn=self.task_role.arn,
            container_definitions=container_definitions(name, settings, image_ref, self.log_group.name, secret_arns),
            # Declares the read-only-root exception of enable_exec to the policy pack (ECS.5).
            tags={"enable_exec": "true"} if settings.enable_exec else None,
            opts=child,
        )

        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-tasks",
            vpc_id=vpc_id,
            description="Fargate tasks: the container port from the ALB only",
            opts=child,
        )
        port = settings.container_port
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-alb",
            security_group_id=self.security_group.id,
            description="The app's port, from the ALB only",
            referenced_security_group_id=alb_security_group.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-alb-to-tasks",
            security_group_id=alb_security_group.id,
            description="Requests and health checks to the tasks' port",
            referenced_security_group_id=self.security_group.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            opts=child,
        )
        # Tasks leave over HTTPS only: ECR and its S3 layers, CloudWatch Logs, SSM and Secrets Manager, ECS exec and
        # the AWS APIs the app calls all listen on 443 (through NAT or VPC endpoints alike). DNS to the VPC's own
        # resolver too. An app that needs another port (a database) adds its own rule here, naming that port.
        egress = [
            ("https", "tcp", 443, "0.0.0.0/0", "HTTPS: AWS APIs, ECR, logs, secrets and the app's HTTPS calls"),
            ("dns-udp", "udp", 53, str(VPC_CIDR), "DNS to the VPC resolver"),
            ("dns-tcp", "tcp", 53, str(VPC_CIDR), "DNS over TCP (large answers) to the VPC resolver"),
        ]
        for rule, protocol, to_port, cidr, description in egress:
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-tasks-{rule}",
                security_group_id=self.security_group.id,
                description=description,
                ip_protocol=protocol,
                from_port=to_port,
                to_port=to_port,
                cidr_ipv4=cidr,
                opts=child,
            )

        # ECS checks the listener, and for releases its role's permissions, when the service changes.
        start_after: list[pulumi.Resource] = [listener] if release is None else [listener, release.role_policy]
        start_after.append(self.capacity_providers)  # a strategy may only name providers the cluster has
        if endpoints is not None:
            # Without a route out, tasks reach ECR, logs and secrets only through the endpoints: let them in, and
            # start no task before the endpoints exist.
            start_after += endpoints.endpoints
            start_after.append(
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-tasks-to-endpoints",
                    security_group_id=endpoints.security_group.id,
                    referenced_security_group_id=self.security_group.id,
                    ip_protocol="tcp",
                    from_port=443,
                    to_port=443,
                    description="HTTPS from the Fargate tasks to the VPC endpoints",
                    opts=child,
                )
            )

        load_balancer: aws.ecs.ServiceLoadBalancerArgsDict = {
            "target_group_arn": target_group.arn,
            "container_name": CONTAINER_NAME,
            "container_port": port,
        }
        if release is not None:
            # Blue/green, canary, linear: ECS alternates the two target groups and shifts the production rule.
            load_balancer["advanced_configuration"] = release.advanced_configuration()
        self.service = aws.ecs.Service(
            f"{name}-service",
            cluster=self.cluster.arn,
            task_definition=self.task_definition.arn,
            desired_count=settings.replicas,
            # A capacity provider strategy, never launch_type, even without Spot: the provider replaces a service
            # whose launch_type changes, while ECS updates a strategy in place with a forced new deployment.
            capacity_provider_strategies=capacity_provider_strategy(settings),
            force_new_deployment=True,
            platform_version="LATEST",
            network_configuration={
                "subnets": subnet_ids,
                "security_groups": [self.security_group.id],
                "assign_public_ip": assign_public_ip,
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
        self.register_outputs({"cluster_name": self.cluster.name, "service_name": self.service.name})
