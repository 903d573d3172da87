"""What runs: the task definition of the app's container, hardened, with its log group and its two roles (and, with
enable_tracing, the collector sidecar of infra/tracing.py)."""

from typing import Any

import pulumi
import pulumi_aws as aws

from infra.task_roles import TaskRoles
from infra.tracing import TracingSidecar
from infra.validation import Settings, shutdown_drain_seconds

CONTAINER_NAME = "app"
# The image's non-root user (see app/Dockerfile); set here too so ECS enforces it.
CONTAINER_USER = "10001:10001"
# The one writable place: a tmpfs at /tmp, private to the container, world-writable with the sticky bit as /tmp is.
# (A task volume would be root-owned with mode 0755, which the non-root user cannot write.) Its size counts against
# the task's memory. No `mode=1777` option: the ECS API lists `mode` only as a bare word, with no form that takes a
# value, and the mode is 1777 without it: runc gives a tmpfs the mode of the directory it covers in the image (the
# Debian base image's /tmp is 1777), and a tmpfs mounted elsewhere starts 1777 (the kernel's and Docker's default).
TMP_PATH = "/tmp"  # noqa: S108 (a tmpfs private to the container, not a shared host directory)
TMP_SIZE_MIB = 64
TMP_MOUNT_OPTIONS = ["nosuid", "nodev", "noexec"]


def container_definitions(
    service_name: str,
    settings: Settings,
    image_ref: pulumi.Input[str],
    log_group: pulumi.Input[str],
    secret_arns: list[pulumi.Output[str]],
    *,
    tracing: TracingSidecar | None = None,
) -> pulumi.Output[str]:
    """The task's containers, as the JSON document ECS expects: the app, and the collector with enable_tracing."""
    port = settings.container_port
    # validation.py refuses these names in `environment` and `secrets` (STACK_ENVIRONMENT_NAMES; a test holds them).
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
    if tracing is not None:
        environment.update(tracing.app_environment())
    # The `environment` setting: plain values the team chose, after the stack's own (validation keeps credentials out).
    environment.update(settings.environment)
    app: dict[str, Any] = {
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
            {"name": name, "valueFrom": arn} for (name, _), arn in zip(settings.secrets, secret_arns, strict=True)
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
    if tracing is None:
        return pulumi.Output.json_dumps([app])
    # With enable_tracing: the app gets its share of the task, and the collector runs beside it (infra/tracing.py).
    return pulumi.Output.json_dumps([{**app, **tracing.app_share()}, tracing.container(log_group)])


class AppTask:
    """The log group, the roles (infra/task_roles.py) and the task definition running `image_ref`, created under
    `opts.parent`.

    A plain class, not a component, so these resources keep the URNs they had as the FargateService's children.
    """

    def __init__(
        self,
        name: str,
        settings: Settings,
        *,
        image_ref: pulumi.Input[str],
        stack_name: str,
        opts: pulumi.ResourceOptions,
    ) -> None:
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", retention_in_days=settings.log_retention_days, opts=opts
        )
        self.roles = TaskRoles(
            name,
            region=settings.aws_region,
            secret_sources=[source for _, source in settings.secrets],
            secrets_kms_key_arn=settings.secrets_kms_key_arn,
            enable_exec=settings.enable_exec,
            guardrails=settings.role_guardrails,
            opts=opts,
        )
        # Traces (enable_tracing): the collector sidecar and the task role's permission to send to X-Ray.
        self.tracing: TracingSidecar | None = None
        if settings.enable_tracing:
            self.tracing = TracingSidecar(
                name,
                settings,
                stack_name=stack_name,
                task_role=self.roles.task_role,
                execution_role=self.roles.execution_role,
                opts=opts,
            )
        self.task_definition = aws.ecs.TaskDefinition(
            f"{name}-task",
            family=name,
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu=str(settings.cpu),
            memory=str(settings.memory),
            runtime_platform={"cpu_architecture": settings.cpu_architecture, "operating_system_family": "LINUX"},
            execution_role_arn=self.roles.execution_role.arn,
            task_role_arn=self.roles.task_role.arn,
            container_definitions=container_definitions(
                name, settings, image_ref, self.log_group.name, self.roles.secret_arns, tracing=self.tracing
            ),
            # Declares the read-only-root exception of enable_exec to the policy pack (ECS.5).
            tags={"enable_exec": "true"} if settings.enable_exec else None,
            # No task starts before the execution role may pull the collector through the cache.
            opts=opts
            if self.tracing is None
            else pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[self.tracing])),
        )
