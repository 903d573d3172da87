"""Traces (enable_tracing): the ADOT collector sidecar, its configuration, and what the app is told to reach it.

The app exports OTLP/HTTP to the collector on the task's loopback (containers of an awsvpc task share it); the
collector batches the spans and sends them to X-Ray with PutTraceSegments (the awsxray exporter), so the app needs
no AWS SDK and no request waits on X-Ray. Why a sidecar and this exporter: docs/design-decisions.md, "Traces".
"""

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.validation import COLLECTOR_CPU_UNITS, COLLECTOR_MEMORY_MIB, COLLECTOR_PORTS, Settings

COLLECTOR_NAME = "otel-collector"
# AWS Distro for OpenTelemetry collector, pinned (release v0.49.0, 2026-07-15); Dependabot does not watch it: bump it
# by hand with the ADOT release notes.
COLLECTOR_REPOSITORY = "aws-observability/aws-otel-collector"
COLLECTOR_TAG = "v0.49.0"
PUBLIC_REGISTRY = "public.ecr.aws"
# The image is FROM scratch with no USER (it would run as root): the same unprivileged IDs as the app.
COLLECTOR_USER = "10001:10001"
# The image's /healthcheck binary asks 127.0.0.1 on HEALTH_PORT (ADOT's cmd/healthcheck); the rules keep the app's
# port off both.
OTLP_HTTP_PORT, HEALTH_PORT = COLLECTOR_PORTS
# The collector exits within seconds of SIGTERM once its last batch is sent; ECS stops it after the app (dependsOn).
COLLECTOR_STOP_TIMEOUT_SECONDS = 10
# The memory limiter refuses spans above these (MiB) before the container's hard limit kills the collector; Go's
# soft limit (GOMEMLIMIT) at the same figure makes garbage collection work harder before either is reached.
MEMORY_LIMIT_MIB = COLLECTOR_MEMORY_MIB * 4 // 5
MEMORY_SPIKE_MIB = COLLECTOR_MEMORY_MIB // 5
# X-Ray actions the awsxray exporter calls: segments only (its telemetry, PutTelemetryRecords, is off by default, and
# the app samples by itself, so no GetSamplingRules). X-Ray has no resource-level permissions for it: Resource "*".
XRAY_WRITE_ACTIONS = ["xray:PutTraceSegments"]
# With networking=private-endpoints the tasks cannot reach public.ecr.aws: ECR pulls the image through a pull through
# cache rule instead, and the execution role may import it (ECR user guide, "pull through cache" IAM permissions).
PULL_THROUGH_ACTIONS = ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"]


def collector_config(region: str) -> dict[str, Any]:
    """The collector's configuration (OpenTelemetry collector format): OTLP/HTTP in on loopback, X-Ray out."""
    return {
        "extensions": {"health_check": {"endpoint": f"127.0.0.1:{HEALTH_PORT}"}},
        "receivers": {"otlp": {"protocols": {"http": {"endpoint": f"127.0.0.1:{OTLP_HTTP_PORT}"}}}},
        "processors": {
            "memory_limiter": {
                "check_interval": "1s",
                "limit_mib": MEMORY_LIMIT_MIB,
                "spike_limit_mib": MEMORY_SPIKE_MIB,
            },
            "batch": {"timeout": "1s", "send_batch_size": 50},  # PutTraceSegments takes up to 50 segments a call
        },
        "exporters": {"awsxray": {"region": region}},
        "service": {
            "extensions": ["health_check"],
            "pipelines": {
                "traces": {"receivers": ["otlp"], "processors": ["memory_limiter", "batch"], "exporters": ["awsxray"]}
            },
            "telemetry": {"logs": {"level": "warn"}},
        },
    }


def collector_container(
    image: pulumi.Input[str], region: str, log_group: pulumi.Input[str]
) -> dict[str, pulumi.Input[Any]]:
    """The sidecar's container definition: never essential (a collector crash must not stop the app's task)."""
    return {
        "name": COLLECTOR_NAME,
        "image": image,
        "essential": False,
        "user": COLLECTOR_USER,
        "privileged": False,
        "readonlyRootFilesystem": True,
        # Its share of the task's CPU and memory (the app has the rest; the rules check both fit).
        "cpu": COLLECTOR_CPU_UNITS,
        "memory": COLLECTOR_MEMORY_MIB,
        # ADOT reads its whole configuration from this variable (JSON is YAML); nothing in it is secret.
        "environment": [
            {"name": "AOT_CONFIG_CONTENT", "value": json.dumps(collector_config(region))},
            {"name": "GOMEMLIMIT", "value": f"{MEMORY_LIMIT_MIB}MiB"},
        ],
        "healthCheck": {
            "command": ["CMD", "/healthcheck"],
            "interval": 10,
            "timeout": 5,
            "retries": 3,
            "startPeriod": 10,
        },
        # A collector that exits after running a minute is restarted in place (the task and the app carry on).
        "restartPolicy": {"enabled": True, "restartAttemptPeriod": 60},
        "stopTimeout": COLLECTOR_STOP_TIMEOUT_SECONDS,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {"awslogs-group": log_group, "awslogs-region": region, "awslogs-stream-prefix": COLLECTOR_NAME},
        },
    }


def xray_write_policy() -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": XRAY_WRITE_ACTIONS, "Resource": "*"}]}
    )


class TracingSidecar(pulumi.ComponentResource):
    """With enable_tracing: where tasks pull the collector from, the task role's X-Ray permission, and what the task
    definition adds (infra/task.py): the collector's container, and the app's share of the task and its settings.

    The image comes from ECR Public directly, or through a pull through cache rule of this stack when the tasks have
    no route out (networking=private-endpoints), with the execution role allowed to import it.
    """

    def __init__(
        self,
        name: str,
        settings: Settings,
        *,
        task_role: aws.iam.Role,
        execution_role: aws.iam.Role,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("fargate:tracing:TracingSidecar", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.settings = settings
        self.image: pulumi.Output[str] = pulumi.Output.from_input(
            f"{PUBLIC_REGISTRY}/{COLLECTOR_REPOSITORY}:{COLLECTOR_TAG}"
        )
        self.pull_through_rule: aws.ecr.PullThroughCacheRule | None = None
        if settings.networking == "private-endpoints":
            # A prefix of this stack's own (2..30 characters): a registry holds one rule per prefix.
            self.pull_through_rule = aws.ecr.PullThroughCacheRule(
                f"{name}-ecr-public",
                ecr_repository_prefix=f"{name}-public",
                upstream_registry_url=PUBLIC_REGISTRY,
                opts=child,
            )
            prefix = self.pull_through_rule.ecr_repository_prefix
            account = aws.get_caller_identity_output().account_id
            region = settings.aws_region
            self.image = pulumi.Output.concat(
                account, f".dkr.ecr.{region}.amazonaws.com/", prefix, f"/{COLLECTOR_REPOSITORY}:{COLLECTOR_TAG}"
            )
            repositories = pulumi.Output.concat("arn:aws:ecr:", region, ":", account, ":repository/", prefix, "/*")
            aws.iam.RolePolicy(
                f"{name}-import-collector",
                role=execution_role.id,
                policy=pulumi.Output.json_dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": PULL_THROUGH_ACTIONS, "Resource": repositories}],
                    }
                ),
                opts=child,
            )
        self.task_role_policy = aws.iam.RolePolicy(
            f"{name}-put-traces", role=task_role.id, policy=xray_write_policy(), opts=child
        )
        self.register_outputs({"image": self.image})

    def app_environment(self, service_name: str) -> dict[str, str]:
        """What the app reads to trace (app/tracing.py): the collector's address, its name in X-Ray, the share."""
        return {
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{OTLP_HTTP_PORT}",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_SERVICE_NAME": service_name,
            # X-Ray shows the segments' origin as an ECS container from these.
            "OTEL_RESOURCE_ATTRIBUTES": "cloud.provider=aws,cloud.platform=aws_ecs",
            "TRACING_SAMPLE_PERCENT": f"{self.settings.tracing_sample_percent:g}",
        }

    def app_share(self) -> dict[str, object]:
        """The app container's part of the task: the CPU the collector leaves, the memory it leaves as a soft
        reservation (the app may still use memory the collector does not), and the collector started first (and so,
        dependencies reversed, stopped last: the app's last spans reach it)."""
        return {
            "cpu": self.settings.cpu - COLLECTOR_CPU_UNITS,
            "memoryReservation": self.settings.memory - COLLECTOR_MEMORY_MIB,
            "dependsOn": [{"containerName": COLLECTOR_NAME, "condition": "START"}],
        }

    def container(self, log_group: pulumi.Input[str]) -> dict[str, pulumi.Input[Any]]:
        return collector_container(self.image, self.settings.aws_region, log_group)
