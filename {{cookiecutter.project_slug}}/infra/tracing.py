"""Traces (enable_tracing): the ADOT collector sidecar, its configuration, and what the app is told to reach it.

The app exports OTLP/HTTP to the collector on the task's loopback (containers of an awsvpc task share it); the
collector batches the spans and sends them to X-Ray with PutTraceSegments (the awsxray exporter), so the app needs
no AWS SDK and no request waits on X-Ray. Why a sidecar and this exporter: docs/design-decisions.md, "Traces".
"""

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.validation import (  # the prefix rule lives there, for scripts/ephemeral.py too
    COLLECTOR_CPU_UNITS,
    COLLECTOR_MEMORY_MIB,
    COLLECTOR_PORTS,
    Settings,
    pull_through_prefix,
)

COLLECTOR_NAME = "otel-collector"
# AWS Distro for OpenTelemetry collector, pinned (release v0.49.0, 2026-07-15); Dependabot does not watch it: bump it
# by hand with the ADOT release notes.
COLLECTOR_REPOSITORY = "aws-observability/aws-otel-collector"
COLLECTOR_TAG = "v0.49.0"
PUBLIC_REGISTRY = "public.ecr.aws"
# The image runs as its own user `aoc` (uid 4317, its Dockerfile's USER); the task runs it as the app's unprivileged
# IDs instead, so both containers of the task share one non-root identity that ECS enforces.
COLLECTOR_USER = "10001:10001"
# The image's /healthcheck binary asks 127.0.0.1 on HEALTH_PORT (ADOT's cmd/healthcheck); the rules keep the app's
# port off both. These are all the collector listens on: its own metrics listener (127.0.0.1:8888 by default) is off.
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
# Tasks pull the collector through a pull through cache rule of this stack, from the account's private registry (in
# every networking mode: ECR Public's anonymous quotas and outages then matter only to ECR's own refresh), and the
# execution role may import it on the first pull (ECR user guide, "pull through cache" IAM permissions).
PULL_THROUGH_ACTIONS = ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"]
# The cached repository keeps the last few collector releases (a bump is a new tag, COLLECTOR_TAG's "v" pattern).
CACHED_IMAGES_KEPT = 3


def cached_image_lifecycle_policy() -> dict[str, object]:
    """What the repository ECR creates for the cached collector keeps (ECR.3): the newest CACHED_IMAGES_KEPT release
    tags. Nothing untagged is expired: the per-platform manifests of the multi-architecture image are untagged, and
    the tag's index still needs its own."""
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"all but the newest {CACHED_IMAGES_KEPT} collector releases",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPatternList": ["v*"],
                    "countType": "imageCountMoreThan",
                    "countNumber": CACHED_IMAGES_KEPT,
                },
                "action": {"type": "expire"},
            }
        ]
    }


def collector_config(region: str, log_group: str) -> dict[str, Any]:
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
        # The segments name the app's log group, so X-Ray's trace view shows the request's log lines beside it.
        "exporters": {"awsxray": {"region": region, "aws_log_groups": [log_group]}},
        "service": {
            "extensions": ["health_check"],
            "pipelines": {
                "traces": {"receivers": ["otlp"], "processors": ["memory_limiter", "batch"], "exporters": ["awsxray"]}
            },
            # No metrics of its own: nobody scrapes them, and their listener (127.0.0.1:8888) would take a port
            # from the app, which shares the task's loopback.
            "telemetry": {"logs": {"level": "warn"}, "metrics": {"level": "none"}},
        },
    }


def collector_container(
    image: pulumi.Input[str], region: str, log_group: pulumi.Input[str]
) -> dict[str, pulumi.Input[Any]]:
    """The sidecar's container definition: never essential (a collector crash must not stop the app's task)."""
    config = pulumi.Output.from_input(log_group).apply(lambda group: json.dumps(collector_config(region, group)))
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
            {"name": "AOT_CONFIG_CONTENT", "value": config},
            {"name": "GOMEMLIMIT", "value": f"{MEMORY_LIMIT_MIB}MiB"},
        ],
        "healthCheck": {
            "command": ["CMD", "/healthcheck"],
            "interval": 10,
            "timeout": 5,
            "retries": 3,
            "startPeriod": 10,
        },
        # A collector that exits after running a minute is restarted in place (the task and the app carry on). The
        # policy acts on exits only: a collector that hangs but runs is shown UNHEALTHY and stays as it is.
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

    `stack_name` is this stack's own name (infra/validation.py's stack_resource_name): the service's name in X-Ray,
    so each stack's traces stay apart, and the root of its pull through cache prefix. The image comes through that
    rule from ECR Public into the account's registry, in a repository ECR creates on the first pull with the
    settings of this stack's repository creation template; the execution role may import it.
    """

    def __init__(
        self,
        name: str,
        settings: Settings,
        *,
        stack_name: str,
        task_role: aws.iam.Role,
        execution_role: aws.iam.Role,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("fargate:tracing:TracingSidecar", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.settings = settings
        self.service_name = stack_name
        prefix = pull_through_prefix(stack_name)
        # Repositories ECR creates under the prefix: immutable tags (the first image cached for a tag is the one
        # every task runs; ECR's daily refresh cannot swap it), a lifecycle policy, AES-256. No resource tags: with
        # tags ECR needs a custom role, and without one pull through fails (aws/containers-roadmap#2398).
        self.repository_template = aws.ecr.RepositoryCreationTemplate(
            f"{name}-collector-repository",
            prefix=prefix,
            applied_fors=["PULL_THROUGH_CACHE"],
            description=f"The ADOT collector cached for {stack_name} (enable_tracing)",
            image_tag_mutability="IMMUTABLE",
            lifecycle_policy=json.dumps(cached_image_lifecycle_policy()),
            encryption_configurations=[{"encryption_type": "AES256"}],
            opts=child,
        )
        self.pull_through_rule = aws.ecr.PullThroughCacheRule(
            f"{name}-ecr-public",
            ecr_repository_prefix=prefix,
            upstream_registry_url=PUBLIC_REGISTRY,
            opts=child,
        )
        rule_prefix = self.pull_through_rule.ecr_repository_prefix
        account = aws.get_caller_identity_output().account_id
        region = settings.aws_region
        self.image: pulumi.Output[str] = pulumi.Output.concat(
            account, f".dkr.ecr.{region}.amazonaws.com/", rule_prefix, f"/{COLLECTOR_REPOSITORY}:{COLLECTOR_TAG}"
        )
        repositories = pulumi.Output.concat("arn:aws:ecr:", region, ":", account, ":repository/", rule_prefix, "/*")
        self.import_policy = aws.iam.RolePolicy(
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
        # What a task needs before it can pull the collector (the service starts no task before it).
        self.pull_needs: list[pulumi.Resource] = [self.repository_template, self.pull_through_rule, self.import_policy]
        self.task_role_policy = aws.iam.RolePolicy(
            f"{name}-put-traces", role=task_role.id, policy=xray_write_policy(), opts=child
        )
        self.register_outputs({"image": self.image})

    def app_environment(self) -> dict[str, str]:
        """What the app reads to trace (app/tracing.py): the collector's address, its name in X-Ray, the share."""
        return {
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{OTLP_HTTP_PORT}",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_SERVICE_NAME": self.service_name,
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
