"""Every rule for the stack's settings, in one stdlib-only module.

The template's generation hook imports this file to refuse bad answers before anything is written,
and the Pulumi program uses it to parse the stack config on every preview and up. Each error is one
line naming the field, the value given and what is allowed.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# Fargate task sizes: CPU units -> the memory sizes (MiB) AWS accepts with them.
FARGATE_MEMORY_BY_CPU: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}
CPU_ARCHITECTURES = ("X86_64", "ARM64")
# Issue 21 (review): with vpc_id, how a task subnet without a route out is judged. checked: refused unless the VPC
# holds the endpoints the tasks need; vpc-owner: trusted to the VPC owner's egress (central endpoints in a hub VPC
# reached over Transit Gateway, a shared VPC owner's endpoints), a warning instead of the refusal.
EXISTING_VPC_EGRESS = ("checked", "vpc-owner")
NETWORKING_MODES = ("private-nat-per-az", "private-single-nat", "public-subnets", "private-endpoints")
AZ_COUNTS = (2, 3)
MIN_REPLICAS, MAX_REPLICAS = 2, 1000
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
MAX_STICKY_SECONDS = 604800
# AWS WAF rate-based rules: the limit per aggregation key (here the client IP) and the look-back window in seconds.
WAF_RATE_LIMIT_MIN, WAF_RATE_LIMIT_MAX = 10, 2_000_000_000
WAF_RATE_WINDOWS = (60, 120, 300, 600)
# Headers kept out of WAF logs (credentials and session tokens); the policy pack checks the same list.
WAF_REDACTED_HEADERS = ("authorization", "cookie")
# How a new revision replaces the old: ECS's rolling update, or its blue/green family (ECS API strategies).
DEPLOYMENT_STRATEGIES = ("rolling", "blue-green", "canary", "linear")
MAX_BAKE_MINUTES = 1440  # the ECS API's limit for every bake time
# Settings whose change replaces a target group or a listener rule of a release (a replace-only input: a rule's
# listener; a group's VPC, port, protocol, target type or name), which ECS may be using: the release preflight
# (scripts/release_preflight.py) refuses such a change unless the first group serves all production traffic. The
# generated tests/test_every_setting.py shows that no other setting changes a replace-only input.
RELEASE_REPLACING_SETTINGS: dict[str, str] = {
    "enable_https": "moves the release rules to the other listener, recreating them at 100 % on the first target group",
    # Issue 21: a target group's VPC is replace-only, so moving into or out of an existing VPC recreates both groups.
    "vpc_id": "moves the target groups to another VPC, recreating them and the release rules at 100 % on the first",
}
TASK_START_SECONDS = 30  # a small image pulled and started on Fargate (the deploy timing model, infra/timing.py)
SPOT_NOTICE_SECONDS = 120  # a Fargate Spot task stops this long after its termination notice (and stopTimeout <= it)
# `pulumi up` waits for the release (wait_for_steady_state): the provider's own update timeout is 20 minutes, which
# a release with long bakes outlasts. Ours: the modelled release plus this margin for a slow image pull or a rollback.
TIMEOUT_MARGIN_MINUTES = 20
PROVIDER_UPDATE_TIMEOUT_MINUTES = 20  # terraform-provider-aws ecs service.go, kept for rolling
# The generated CI deploy job (.github/workflows/deploy.yml): its timeout-minutes, and its OIDC credentials'
# role-duration-seconds (a test keeps the workflow equal to this). Before `pulumi up` starts waiting for the release,
# the job installs, builds and pushes the image (CI_SETUP_MINUTES); the wait must fit in the rest.
CI_DEPLOY_JOB_MINUTES = 120
CI_SETUP_MINUTES = 30
MAX_RELEASE_WAIT_MINUTES = CI_DEPLOY_JOB_MINUTES - CI_SETUP_MINUTES
# ALB http-header condition: name up to 40 characters, value patterns up to 128 (no wildcards here: an exact value).
TEST_HEADER_PATTERN = re.compile(r"(?P<name>[A-Za-z0-9-]{1,40}): ?(?P<value>[A-Za-z0-9._~-]{1,128})")
KEEP_ALIVE_MARGIN_SECONDS = 5
# ACM RequestCertificate: the certificate's first domain name (its common name) has at most 64 characters.
ACM_FIRST_NAME_MAX_LENGTH = 64
RELEASE_LABEL_PATTERN = re.compile(r"[A-Za-z0-9._-]{0,64}")
# Commercial-partition regions (GovCloud and China use other ARN partitions and are not supported).
AWS_REGIONS = (
    "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
    "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1",
    "ca-west-1", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
    "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1",
    "mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
)  # fmt: skip

# "Supported Regions for Amazon ECS on AWS Fargate" (Linux containers; read 2026-11-26): in these regions Fargate runs
# only in the listed Availability Zone IDs (older accounts also see usw1-az2 and apne1-az3). Other regions: every zone.
FARGATE_ZONE_IDS: dict[str, tuple[str, ...]] = {
    "us-west-1": ("usw1-az1", "usw1-az3"),
    "ap-northeast-1": ("apne1-az1", "apne1-az2", "apne1-az4"),
}

# Pulumi auto-naming appends "-" and 7 random characters; ALB and target-group names stop at 32.
AWS_LB_NAME_LIMIT = 32
AUTONAME_SUFFIX_LENGTH = 8
MAX_SLUG_LENGTH = 40
SLUG_PATTERN = re.compile(r"[a-z](?:[a-z0-9]|-(?=[a-z0-9]))*")
STACK_NAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,100}")
DNS_LABEL_PATTERN = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
ENV_NAME_PATTERN = re.compile(r"[A-Z_][A-Z0-9_]{0,254}")
SECRET_SOURCE_PATTERN = re.compile(
    r"/[A-Za-z0-9_.\-/]{1,1010}"
    r"|arn:aws:ssm:[a-z0-9-]+:\d{12}:parameter/[A-Za-z0-9_.\-/]{1,1011}"
    r"|arn:aws:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@\-]{1,512}"
)
# Names the stack sets in the container itself (infra's container definition), and those ECS sets in every task
# (Amazon ECS developer guide, "Amazon ECS environment variables"): neither `environment` nor `secrets` may take them.
STACK_ENVIRONMENT_NAMES = (
    "SERVICE_NAME", "PORT", "HEALTH_CHECK_PATH", "GRACEFUL_SHUTDOWN_SECONDS", "SHUTDOWN_DRAIN_SECONDS",
    "KEEP_ALIVE_SECONDS",
    # with release_label (infra/task.py)
    "RELEASE_LABEL",
    # with enable_tracing (infra/tracing.py)
    "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES",
    "TRACING_SAMPLE_PERCENT",
)  # fmt: skip
ECS_ENVIRONMENT_NAMES = (
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "ECS_CONTAINER_METADATA_URI_V4", "ECS_CONTAINER_METADATA_URI",
    "ECS_AGENT_URI", "AWS_EXECUTION_ENV", "AWS_DEFAULT_REGION", "AWS_REGION",
)  # fmt: skip
# Names the image or the Python runtime reads (app/Dockerfile's ENV, app/*.py's os.environ reads, the interpreter and
# the dynamic loader): set in `environment`, one would change how the app starts, not configure it. A test derives the
# Dockerfile's and the app's names and requires each here or above. Prefixes: every name starting with one.
RUNTIME_ENVIRONMENT_NAMES = ("PATH", "HOME", "HOSTNAME", "HOST", "REPLICA_ID", "SSL_CERT_FILE", "SSL_CERT_DIR")
RUNTIME_ENVIRONMENT_PREFIXES = ("PYTHON", "PIP_", "LD_", "OTEL_")
# What counts as a credential in an environment variable. ECS.8 (AWS Config's ecs-no-environment-secrets, as
# Security Hub runs it) flags only these exact keys (its secretKeys parameter in Security Hub); the template's own,
# stricter rule adds names ending in a credential word (DB_PASSWORD, GITHUB_TOKEN), not names that only contain one
# (TOKEN_URL, PASSWORD_MIN_LENGTH), and values shaped like a credential (an AWS access key id, a PEM private key).
# The policy pack checks the container definition with the same rule.
CONFIG_SECRET_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "ECS_ENGINE_AUTH_DATA")
CREDENTIAL_NAME = re.compile(
    r"(?:^|_)(?:PASSWORD|PASSWD|SECRET|SECRET_KEY|TOKEN|ACCESS_KEY|API_KEY|PRIVATE_KEY|CREDENTIALS?)$", re.IGNORECASE
)
CREDENTIAL_VALUE = re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b|-----BEGIN [A-Z ]*PRIVATE KEY-----")


def looks_like_a_credential(name: str, value: str) -> bool:
    """ECS.8's keys and the template's stricter shapes, for one environment variable (the program refuses it; the
    policy pack fails it)."""
    return name in CONFIG_SECRET_KEYS or bool(CREDENTIAL_NAME.search(name) or CREDENTIAL_VALUE.search(value))


# ECS refuses a task definition over its size quota (64 KiB today; 32 KiB before 2022-09). `environment` may take
# 24 KiB of names and values, leaving the rest of the task definition room under either.
MAX_ENVIRONMENT_BYTES = 24 * 1024
# IAM: a managed policy ARN (customer or AWS managed) for the permissions boundary, and a path for the roles
# (IAM API reference, CreateRole: Path 1..512 characters, "/" or "/" + printable ASCII + "/").
PERMISSIONS_BOUNDARY_ARN_PATTERN = re.compile(
    r"arn:aws(?:-us-gov|-cn)?:iam::(?:\d{12}|aws):policy/(?:[A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,128}"
)
IAM_PATH_PATTERN = re.compile(r"/(?:[\x21-\x7e]{1,510}/)?")
KMS_KEY_ARN_PATTERN = re.compile(r"arn:aws:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}")
# The ALB takes a health-check path of 1..1024 characters, query string included (/health?full=1). We allow the URI
# characters that every other consumer of the path (the app's route, the Makefile's shell, compose, HAProxy's config,
# the verify script) passes on unchanged: no spaces, quotes, $, #, backslashes or control characters.
MAX_HEALTH_CHECK_PATH_LENGTH = 1024
HEALTH_CHECK_PATH_PATTERN = re.compile(r"/[A-Za-z0-9._~/-]*(?:\?(?:[A-Za-z0-9._~/?=&+,:@-]|%[0-9A-Fa-f]{2})*)?")
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
ACM_ARN_PATTERN = re.compile(r"arn:aws:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[0-9a-f-]{36}")
# EC2 resource IDs: the prefix and 8 hex digits (older resources) or 17 (every resource since 2018).
VPC_ID_PATTERN = re.compile(r"vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})")
SUBNET_ID_PATTERN = re.compile(r"subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})")

# The stack settings asked at generation, with their defaults (cookiecutter.json offers the same: a template test
# keeps them equal), and the rollout timings and alarms, which are stack config only.
ANSWER_DEFAULTS: dict[str, object] = {
    "aws_region": "us-east-1",
    "replicas": 3,
    "cpu": 256,
    "memory": 512,
    "cpu_architecture": "X86_64",
    "container_port": 8000,
    "health_check_path": "/health",
    "networking": "private-nat-per-az",
    "az_count": 2,
    "log_retention_days": 30,
    "enable_https": False,
    "domain_name": "",
    "hosted_zone_name": "",
    "certificate_arn": "",
    "enable_autoscaling": False,
    "autoscaling_min": 2,
    "autoscaling_max": 10,
    "autoscaling_cpu_target": 60,
    "autoscaling_requests_per_target": 0,
    # Percent of the tasks above the on-demand base that run on Fargate Spot (0: all on regular Fargate).
    "fargate_spot_percent": 0,
    "enable_sticky_sessions": False,
    "sticky_duration_seconds": 86400,
    "deployment_strategy": "rolling",
    "enable_waf": False,
    # Issue 21: deploy into an existing VPC (all three, or none: the stack creates its own VPC). Subnet IDs are a
    # comma-separated list (or a YAML/JSON list in the stack file).
    "vpc_id": "",
    "public_subnet_ids": "",
    "private_subnet_ids": "",
}
STACK_ONLY_DEFAULTS: dict[str, object] = {
    "health_check_interval_seconds": 10,
    "health_check_timeout_seconds": 5,
    "healthy_threshold": 2,
    "unhealthy_threshold": 2,
    "deregistration_delay_seconds": 30,
    "health_check_grace_period_seconds": 30,
    "graceful_shutdown_seconds": 20,
    # Room for the whole SIGTERM sequence: the drain ((2 + 1) x 10 s by default) plus the graceful shutdown (20 s).
    "stop_timeout_seconds": 60,
    "alarm_email": "",
    "alarm_p99_latency_ms": 1000,
    # The rollback alarms' 5xx rate: percent of a minute's requests, judged only from this many requests a minute.
    "alarm_5xx_rate_percent": 5,
    "alarm_min_requests_per_minute": 50,
    # Security: empty deletion protection means "on for stacks named prod*"; secrets map env names to ARNs/names.
    "alb_deletion_protection": "",
    "access_log_retention_days": 90,
    "secrets": {},
    "secrets_kms_key_arn": "",
    "enable_exec": False,
    # Tasks that always run on regular Fargate whatever the Spot share: a Spot reclaim never takes the service below.
    "fargate_on_demand_base": 2,
    # VPC flow logs (Security Hub EC2.6) to CloudWatch, kept log_retention_days.
    "enable_flow_logs": True,
    # Releases with a non-rolling deployment_strategy: the bake times cover the alarms' longest window (3 minutes)
    # plus CloudWatch's publishing delay; the test route is a header on the production listener.
    "deployment_bake_minutes": 5,
    "canary_percent": 10.0,
    "canary_bake_minutes": 5,
    "linear_step_percent": 25.0,
    "linear_step_bake_minutes": 3,
    "test_traffic_header": "X-Release-Test: 1",
    # Minutes a release waits after test traffic reaches the new revision (an ECS PAUSE hook), for `aws ecs
    # continue-service-deployment`; then it goes on by itself. 0: no pause.
    "test_window_minutes": 0,
    "alb_idle_timeout_seconds": 60,
    # With enable_waf: requests one client IP may send per window before the rate rule acts; count mode only
    # counts what the rules would block (a first rollout, to watch before blocking).
    "waf_rate_limit": 2000,
    "waf_rate_window_seconds": 300,
    "waf_count_mode": False,
    # With enable_waf: the core rule set's SizeRestrictions_BODY only counts instead of blocking request bodies over
    # 8 KB, the most WAF inspects behind an ALB. Off: what WAF cannot inspect does not reach the app.
    "waf_allow_large_bodies": False,
    # Issue 25, traces: OpenTelemetry in the app, an ADOT collector sidecar sending to X-Ray; the share of requests
    # traced (requests that arrive with a sampled trace context are traced whatever the share).
    "enable_tracing": False,
    "tracing_sample_percent": 5.0,
    # Issue 23: an organisation's guardrails (a permissions boundary and a path on every role the stack creates) and
    # plain environment variables for the app (names -> values that are not secrets; secrets go in `secrets`).
    "permissions_boundary_arn": "",
    "iam_role_path": "/",
    "environment": {},
    # Issue 24: a label the app shows in every answer (RELEASE_LABEL); `make acceptance` changes it to make a
    # harmless release and tell the new revision's answers from the old one's.
    "release_label": "",
    # Issue 21 (review): with vpc_id, trust the VPC owner's egress (warn) instead of refusing subnets without a route
    # out and without the endpoints the tasks need (EXISTING_VPC_EGRESS).
    "existing_vpc_egress": "checked",
}
DEFAULTS = {**ANSWER_DEFAULTS, **STACK_ONLY_DEFAULTS}


@dataclass(frozen=True)
class RoleGuardrails:
    """`iam_role_path` and `permissions_boundary_arn` (empty: no boundary), for every role the stack creates."""

    path: str = "/"
    permissions_boundary_arn: str = ""


@dataclass(frozen=True)
class Settings:
    """The validated stack settings; the Pulumi program reads nothing else."""

    aws_region: str
    replicas: int
    cpu: int
    memory: int
    cpu_architecture: str
    container_port: int
    health_check_path: str
    networking: str
    az_count: int
    log_retention_days: int
    enable_https: bool
    domain_name: str
    hosted_zone_name: str
    certificate_arn: str
    enable_autoscaling: bool
    autoscaling_min: int
    autoscaling_max: int
    autoscaling_cpu_target: int
    autoscaling_requests_per_target: int
    fargate_spot_percent: int
    enable_sticky_sessions: bool
    sticky_duration_seconds: int
    health_check_interval_seconds: int
    health_check_timeout_seconds: int
    healthy_threshold: int
    unhealthy_threshold: int
    deregistration_delay_seconds: int
    health_check_grace_period_seconds: int
    graceful_shutdown_seconds: int
    stop_timeout_seconds: int
    alarm_email: str
    alarm_p99_latency_ms: int
    alarm_5xx_rate_percent: int
    alarm_min_requests_per_minute: int
    alb_deletion_protection: bool | None
    access_log_retention_days: int
    secrets: tuple[tuple[str, str], ...]
    secrets_kms_key_arn: str
    enable_exec: bool
    fargate_on_demand_base: int
    enable_flow_logs: bool
    deployment_strategy: str
    deployment_bake_minutes: int
    canary_percent: float
    canary_bake_minutes: int
    linear_step_percent: float
    linear_step_bake_minutes: int
    test_traffic_header: str
    test_window_minutes: int
    alb_idle_timeout_seconds: int
    enable_waf: bool
    waf_rate_limit: int
    waf_rate_window_seconds: int
    waf_count_mode: bool
    waf_allow_large_bodies: bool
    enable_tracing: bool
    tracing_sample_percent: float
    permissions_boundary_arn: str
    iam_role_path: str
    environment: tuple[tuple[str, str], ...]
    release_label: str
    vpc_id: str
    public_subnet_ids: tuple[str, ...]
    private_subnet_ids: tuple[str, ...]
    existing_vpc_egress: str

    @property
    def existing_vpc(self) -> bool:
        """Whether the stack deploys into the VPC named by vpc_id instead of creating its own."""
        return bool(self.vpc_id)

    @property
    def app_keep_alive_seconds(self) -> int:
        """How long the app keeps an idle connection: longer than the ALB's idle timeout, so the ALB always closes
        first and never sends a request down a connection the app has just closed (a 502)."""
        return self.alb_idle_timeout_seconds + KEEP_ALIVE_MARGIN_SECONDS

    @property
    def role_guardrails(self) -> RoleGuardrails:
        return RoleGuardrails(self.iam_role_path, self.permissions_boundary_arn)

    @property
    def zone_name(self) -> str:
        """The Route53 zone holding domain_name: the one given, or the domain's parent."""
        return _zone_name(self.domain_name, self.hosted_zone_name)

    @property
    def interface_endpoints(self) -> tuple[str, ...]:
        """The AWS services private tasks reach through interface endpoints with networking=private-endpoints.

        Fargate (platform 1.4.0+) pulls the image through the task's network interface: ECR's API and registry (its
        layers come from S3, through the gateway endpoint); the awslogs driver writes to CloudWatch Logs; secrets
        are read from SSM or Secrets Manager at task start (those services call KMS themselves to decrypt, so no KMS
        endpoint: the execution role keeps kms:Decrypt for them); ECS exec opens its channel through SSM messages.
        The app itself calls no AWS API; with enable_tracing its collector sidecar sends traces to X-Ray.
        """
        sources = [source for _, source in self.secrets]
        from_secrets_manager = [source for source in sources if source.startswith("arn:aws:secretsmanager:")]
        needed = {
            "ecr.api": True,
            "ecr.dkr": True,
            "logs": True,
            "ssm": len(from_secrets_manager) < len(sources),
            "secretsmanager": bool(from_secrets_manager),
            "ssmmessages": self.enable_exec,
            "xray": self.enable_tracing,  # the tracing sidecar's PutTraceSegments
        }
        return tuple(service for service, wanted in needed.items() if wanted)

    @property
    def test_header(self) -> tuple[str, str] | None:
        """The test route's header (name, value), or None for no test route."""
        match = TEST_HEADER_PATTERN.fullmatch(self.test_traffic_header)
        return (match["name"], match["value"]) if match else None


class InvalidSettings(ValueError):
    """Raised with every error found, one line each."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


class _FieldError(ValueError):
    pass


def _one_of(values: tuple[object, ...]) -> str:
    words = [str(value) for value in values]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _integer(low: int, high: int, why: str = "") -> Callable[[object], int]:
    def parse(raw: object) -> int:
        text = str(raw).strip()
        if isinstance(raw, bool) or not re.fullmatch(r"-?\d+", text):
            raise _FieldError(f"is not a whole number: use {low}..{high}")
        value = int(text)
        if not low <= value <= high:
            raise _FieldError(f"is out of range{why}: use {low}..{high}")
        return value

    return parse


def _tenths(low: float, high: float) -> Callable[[object], float]:
    """A percentage in steps of 0.1 (the ECS API's rule for canary and linear percentages)."""

    def parse(raw: object) -> float:
        text = str(raw).strip()
        if isinstance(raw, bool) or not re.fullmatch(r"\d+(\.\d+)?", text):
            raise _FieldError(f"is not a number: use {low:g}..{high:g} in steps of 0.1")
        value = float(text)
        if not low <= value <= high or abs(value * 10 - round(value * 10)) > 1e-9:
            raise _FieldError(f"is not allowed: use {low:g}..{high:g} in steps of 0.1")
        return round(value, 1)

    return parse


def _test_header(raw: object) -> str:
    text = str(raw).strip()
    match = TEST_HEADER_PATTERN.fullmatch(text)
    if text and not match:
        raise _FieldError(
            "is not a header: use Name: value (name of letters, digits and -, up to 40; value of letters, digits "
            "and . _ ~ -, up to 128), or leave it empty for no test route"
        )
    if match and match["name"].lower() == "host":
        # ELB API HttpHeaderConditionConfig: an http-header condition cannot specify the host header.
        raise _FieldError("names the Host header, which an ALB header rule cannot match: use a header of your own")
    return text


def _choice(choices: tuple[object, ...]) -> Callable[[object], object]:
    def parse(raw: object) -> object:
        for choice in choices:
            if str(raw).strip() == str(choice):
                return choice
        raise _FieldError(f"is not allowed: choose {_one_of(choices)}")

    return parse


def _boolean(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("true", "yes", "y", "1"):
        return True
    if text in ("false", "no", "n", "0"):
        return False
    raise _FieldError("is not a boolean: use true or false")


def _region(raw: object) -> str:
    region = str(raw).strip()
    if region in AWS_REGIONS:
        return region
    near = difflib.get_close_matches(region, AWS_REGIONS, n=3, cutoff=0.6)
    hint = f"did you mean {_one_of(tuple(near))}?" if near else "use a region code such as us-east-1"
    raise _FieldError(f"is not a known AWS region code: {hint}")


def _health_check_path(raw: object) -> str:
    path = str(raw)
    if len(path) > MAX_HEALTH_CHECK_PATH_LENGTH or not HEALTH_CHECK_PATH_PATTERN.fullmatch(path):
        raise _FieldError(
            "is not a health-check path: start with /, use letters, digits, . _ ~ - / and optionally a ?query "
            f"with = & + , : @ %XX too; no spaces or control characters; at most {MAX_HEALTH_CHECK_PATH_LENGTH} "
            "characters (e.g. /health?full=1)"
        )
    return path


def _domain(raw: object) -> str:
    name = str(raw).strip().lower().rstrip(".")
    if name == "":
        return name
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or not all(DNS_LABEL_PATTERN.fullmatch(label) for label in labels):
        raise _FieldError("is not a valid DNS name: use labels of a-z, 0-9 and -, such as api.example.com")
    return name


def _matching(pattern: re.Pattern[str], problem: str, *, optional: bool = True) -> Callable[[object], str]:
    """A string `pattern` matches in full (or empty, when optional); otherwise the field `problem`."""

    def parse(raw: object) -> str:
        text = str(raw).strip()
        if (text or not optional) and not pattern.fullmatch(text):
            raise _FieldError(problem)
        return text

    return parse


def _map(raw: object, example: str) -> dict[Any, Any]:
    """A map given as a dict (structured stack config) or as JSON text; otherwise the field shows `example`."""
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise _FieldError(f"is not a map: use {example}")
    return parsed


def _secrets(raw: object) -> tuple[tuple[str, str], ...]:
    """{"ENV_NAME": "/ssm/parameter/name" or an SSM parameter or Secrets Manager secret ARN}, as a dict or JSON."""
    secrets = _map(raw, '{"ENV_NAME": "/parameter/name"} (pulumi config set --path secrets.NAME ...)')
    for name, source in secrets.items():
        _check_env_name(str(name))
        if not SECRET_SOURCE_PATTERN.fullmatch(str(source)):
            raise _FieldError(
                f"has {name}={source}: use an SSM parameter name starting with /, or an SSM parameter or "
                "Secrets Manager secret ARN"
            )
    return tuple(sorted((str(name), str(source)) for name, source in secrets.items()))


def _check_env_name(name: str) -> None:
    """An environment variable name the container may be given: the grammar, and none the stack or ECS sets."""
    if not ENV_NAME_PATTERN.fullmatch(name):
        raise _FieldError(f"has {name}, not an environment variable name: use A-Z, 0-9 and _, not first a digit")
    if name in STACK_ENVIRONMENT_NAMES:
        raise _FieldError(f"has {name}, which the stack sets itself: choose another name")
    if name in ECS_ENVIRONMENT_NAMES:
        raise _FieldError(f"has {name}, which ECS sets in every task: choose another name")
    if name in RUNTIME_ENVIRONMENT_NAMES or name.startswith(RUNTIME_ENVIRONMENT_PREFIXES):
        raise _FieldError(f"has {name}, which the image, Python or the app's libraries read: choose another name")


def _vpc_id(raw: object) -> str:
    vpc_id = str(raw).strip()
    if vpc_id and not VPC_ID_PATTERN.fullmatch(vpc_id):
        raise _FieldError(
            "is not a VPC ID: use vpc- and 8 or 17 hex digits (aws ec2 describe-vpcs), or leave it empty for a VPC "
            "of the stack's own"
        )
    return vpc_id


def _subnet_ids(raw: object) -> tuple[str, ...]:
    """Subnet IDs as a list, a JSON list (`pulumi config set --path`) or a comma-separated string."""
    items: object = raw
    if isinstance(raw, str):
        text = raw.strip()
        try:
            items = json.loads(text) if text.startswith("[") else [part for part in text.split(",") if part.strip()]
        except ValueError:
            items = None
    if not isinstance(items, (list, tuple)):
        raise _FieldError("is not a list: use subnet IDs separated by commas, e.g. subnet-0a1b...,subnet-0c2d...")
    ids = tuple(str(item).strip() for item in items)
    wrong = [subnet_id for subnet_id in ids if not SUBNET_ID_PATTERN.fullmatch(subnet_id)]
    if wrong:
        raise _FieldError(f"has {wrong[0]}, not a subnet ID: use subnet- and 8 or 17 hex digits, separated by commas")
    repeated = sorted({subnet_id for subnet_id in ids if ids.count(subnet_id) > 1})
    if repeated:
        raise _FieldError(f"lists {repeated[0]} twice: name each subnet once")
    return ids


def _environment(raw: object) -> tuple[tuple[str, str], ...]:
    """{"NAME": "plain value"}, as a dict or JSON: plain variables for the app, never credentials."""
    variables = _map(raw, '{"NAME": "value"} (pulumi config set --path environment.NAME value)')
    parsed = []
    for name, value in variables.items():
        _check_env_name(str(name))
        if isinstance(value, (dict, list)) or value is None:
            raise _FieldError(f"has {name}={_show(value)}: a value is one string (or number or boolean)")
        if looks_like_a_credential(str(name), _show(value)):
            raise _FieldError(
                f"has {name}, a credential by its name or value (Security Hub ECS.8): environment values are plain "
                "text in the task definition, so put it in secrets (an SSM parameter or Secrets Manager secret)"
            )
        parsed.append((str(name), _show(value)))
    size = sum(len(name.encode()) + len(value.encode()) for name, value in parsed)
    if size > MAX_ENVIRONMENT_BYTES:
        raise _FieldError(
            f"has {size} bytes of names and values, over {MAX_ENVIRONMENT_BYTES} (ECS's task definition size quota): "
            "keep large configuration in S3 or SSM and pass its location"
        )
    return tuple(sorted(parsed))


def _release_label(raw: object) -> str:
    label = str(raw).strip()
    if not RELEASE_LABEL_PATTERN.fullmatch(label):
        raise _FieldError("is not allowed: use up to 64 letters, digits, '.', '_' or '-', or leave it empty")
    return label


PARSERS: dict[str, Callable[[object], object]] = {
    "aws_region": _region,
    "replicas": _integer(
        MIN_REPLICAS, MAX_REPLICAS, " (one replica is not highly available: a crash or deploy takes the service down)"
    ),
    "cpu": _choice(tuple(FARGATE_MEMORY_BY_CPU)),
    "memory": _integer(512, 122880),
    "cpu_architecture": _choice(CPU_ARCHITECTURES),
    "container_port": _integer(1, 65535),
    "health_check_path": _health_check_path,
    "networking": _choice(NETWORKING_MODES),
    "az_count": _choice(AZ_COUNTS),
    "log_retention_days": _choice(LOG_RETENTION_DAYS),
    "enable_https": _boolean,
    "domain_name": _domain,
    "hosted_zone_name": _domain,
    "certificate_arn": _matching(
        ACM_ARN_PATTERN,
        "is not an ACM certificate ARN: use arn:aws:acm:<region>:<account>:certificate/<id>, or leave it empty",
    ),
    "enable_autoscaling": _boolean,
    "autoscaling_min": _integer(MIN_REPLICAS, MAX_REPLICAS, " (scaling below two replicas loses high availability)"),
    "autoscaling_max": _integer(MIN_REPLICAS, MAX_REPLICAS),
    "autoscaling_cpu_target": _integer(1, 100),
    "autoscaling_requests_per_target": _integer(0, 1_000_000),
    "fargate_spot_percent": _integer(0, 100),
    "enable_sticky_sessions": _boolean,
    "sticky_duration_seconds": _integer(1, MAX_STICKY_SECONDS),
    "health_check_interval_seconds": _integer(5, 300),
    "health_check_timeout_seconds": _integer(2, 120),
    "healthy_threshold": _integer(2, 10),
    "unhealthy_threshold": _integer(2, 10),
    "deregistration_delay_seconds": _integer(0, 3600),
    "health_check_grace_period_seconds": _integer(0, 2_147_483_647),
    "graceful_shutdown_seconds": _integer(1, 119),
    "stop_timeout_seconds": _integer(2, 120),
    "alarm_email": _matching(
        EMAIL_PATTERN, "is not an email address: use name@example.com, or leave it empty for no email"
    ),
    "alarm_p99_latency_ms": _integer(10, 60_000),
    "alarm_5xx_rate_percent": _integer(1, 100),
    "alarm_min_requests_per_minute": _integer(1, 1_000_000),
    "alb_deletion_protection": lambda raw: None if str(raw).strip() == "" else _boolean(raw),
    "access_log_retention_days": _integer(1, 3650),
    "secrets": _secrets,
    "secrets_kms_key_arn": _matching(
        KMS_KEY_ARN_PATTERN, "is not a KMS key ARN: use arn:aws:kms:<region>:<account>:key/<id>, or leave it empty"
    ),
    "enable_exec": _boolean,
    "fargate_on_demand_base": _integer(
        MIN_REPLICAS, MAX_REPLICAS, " (fewer than two tasks on regular Fargate lets one Spot reclaim leave one replica)"
    ),
    "enable_flow_logs": _boolean,
    "deployment_strategy": _choice(DEPLOYMENT_STRATEGIES),
    "deployment_bake_minutes": _integer(0, MAX_BAKE_MINUTES),
    "canary_percent": _tenths(0.1, 100.0),
    "canary_bake_minutes": _integer(0, MAX_BAKE_MINUTES),
    "linear_step_percent": _tenths(3.0, 100.0),
    "linear_step_bake_minutes": _integer(0, MAX_BAKE_MINUTES),
    "test_traffic_header": _test_header,
    "test_window_minutes": _integer(0, MAX_BAKE_MINUTES),
    "alb_idle_timeout_seconds": _integer(1, 4000),
    "enable_waf": _boolean,
    "waf_rate_limit": _integer(WAF_RATE_LIMIT_MIN, WAF_RATE_LIMIT_MAX),
    "waf_rate_window_seconds": _choice(WAF_RATE_WINDOWS),
    "waf_count_mode": _boolean,
    "waf_allow_large_bodies": _boolean,
    "enable_tracing": _boolean,
    "tracing_sample_percent": _tenths(0.0, 100.0),
    "permissions_boundary_arn": _matching(
        PERMISSIONS_BOUNDARY_ARN_PATTERN,
        "is not a managed policy ARN: use arn:<partition>:iam::<account>:policy/<path/>name (partition aws, aws-us-gov "
        "or aws-cn; or an AWS managed policy, account aws), "
        "or leave it empty for no boundary",
    ),
    "iam_role_path": _matching(
        IAM_PATH_PATTERN,
        "is not an IAM path: use / or /segments/ starting and ending with /, of printable ASCII without spaces, at "
        "most 512 characters (e.g. /teams/payments/)",
        optional=False,
    ),
    "environment": _environment,
    "release_label": _release_label,
    "vpc_id": _vpc_id,
    "public_subnet_ids": _subnet_ids,
    "private_subnet_ids": _subnet_ids,
    "existing_vpc_egress": _choice(EXISTING_VPC_EGRESS),
}
# Settings that no longer exist -> what replaced them. Refused rather than ignored: a stack that set one expects it
# to act, and silently dropping it would leave that stack without the protection it asked for.
RETIRED_SETTINGS: dict[str, str] = {
    "alarm_5xx_per_minute": (
        "is no longer used: the 5xx alarms are rates now; set alarm_5xx_rate_percent (default 5) and "
        "alarm_min_requests_per_minute (default 50), then `pulumi config rm alarm_5xx_per_minute`"
    ),
}
assert PARSERS.keys() == DEFAULTS.keys() == {field.name for field in dataclasses.fields(Settings)}


def _show(value: object) -> str:
    if isinstance(value, dict):
        return json.dumps(value)
    return "true" if value is True else "false" if value is False else str(value)


def _zone_name(domain_name: str, hosted_zone_name: str) -> str:
    return hosted_zone_name or domain_name.partition(".")[2]


Check = Callable[[dict[str, Any]], "str | None"]
CHECKS: list[tuple[tuple[str, ...], Check]] = []


def _check(*fields: str) -> Callable[[Check], Check]:
    """Register a rule over several fields; it runs only when each of those fields parsed."""

    def register(check: Check) -> Check:
        CHECKS.append((fields, check))
        return check

    return register


@_check("cpu", "memory")
def _memory_fits_cpu(v: dict[str, Any]) -> str | None:
    cpu, memory = v["cpu"], v["memory"]
    choices = FARGATE_MEMORY_BY_CPU[cpu]
    if memory in choices:
        return None
    step = choices[1] - choices[0]
    allowed = _one_of(choices) if len(choices) <= 4 else f"{choices[0]}..{choices[-1]} in steps of {step}"
    fitting_cpu = next((size for size, sizes in FARGATE_MEMORY_BY_CPU.items() if memory in sizes), None)
    other_cpu = "" if fitting_cpu is None else f" (or {'raise' if fitting_cpu > cpu else 'lower'} cpu to {fitting_cpu})"
    return f"memory={memory} is not valid with cpu={cpu}: choose {allowed}{other_cpu}"


@_check("az_count", "aws_region")
def _az_count_fits_fargate_zones(v: dict[str, Any]) -> str | None:
    region, count = v["aws_region"], v["az_count"]
    zones = FARGATE_ZONE_IDS.get(region, ())
    if not zones or count <= len(zones):
        return None
    return (
        f"az_count={count} is more zones than Fargate runs in, in aws_region={region} ({', '.join(zones)} only): "
        f"use az_count={len(zones)} or another region"
    )


def fargate_runs_in(region: str, zone_id: str) -> bool:
    """Whether Fargate runs in the zone with this ID (the same physical zone in every account)."""
    allowed = FARGATE_ZONE_IDS.get(region)
    return allowed is None or zone_id in allowed


@_check("secrets", "networking", "aws_region")
def _endpoint_secrets_in_region(v: dict[str, Any]) -> str | None:
    if v["networking"] != "private-endpoints":
        return None
    for name, source in v["secrets"]:
        region = source.split(":")[3] if source.startswith("arn:") else v["aws_region"]
        if region != v["aws_region"]:
            return (
                f"secrets={name}={source} is in {region}, not in aws_region={v['aws_region']}: with "
                "networking=private-endpoints tasks reach only this region's endpoints; copy it here or use a NAT mode"
            )
    return None


@_check("environment", "secrets")
def _environment_apart_from_secrets(v: dict[str, Any]) -> str | None:
    both = sorted({name for name, _ in v["environment"]} & {name for name, _ in v["secrets"]})
    if both:
        return (
            f"environment={both[0]} is also in secrets: a variable comes from one place; keep it in secrets if it is "
            f"a credential, else `pulumi config rm --path secrets.{both[0]}`"
        )
    return None


@_check("enable_https", "domain_name")
def _https_needs_domain(v: dict[str, Any]) -> str | None:
    if v["enable_https"] and not v["domain_name"]:
        return "enable_https=true needs a domain_name: set domain_name (e.g. api.example.com) or turn HTTPS off"
    return None


@_check("enable_https", "domain_name", "certificate_arn")
def _issued_certificate_fits(v: dict[str, Any]) -> str | None:
    domain = v["domain_name"]
    if v["enable_https"] and not v["certificate_arn"] and len(domain) > ACM_FIRST_NAME_MAX_LENGTH:
        return (
            f"domain_name={domain} has {len(domain)} characters: ACM issues a certificate whose first name has at most "
            f"{ACM_FIRST_NAME_MAX_LENGTH}; use a shorter domain_name, or give certificate_arn"
        )
    return None


@_check("certificate_arn", "enable_https")
def _certificate_needs_https(v: dict[str, Any]) -> str | None:
    if v["certificate_arn"] and not v["enable_https"]:
        return f"certificate_arn={v['certificate_arn']} is only used with HTTPS: set enable_https=true or clear it"
    return None


@_check("certificate_arn", "aws_region")
def _certificate_in_region(v: dict[str, Any]) -> str | None:
    certificate = ACM_ARN_PATTERN.fullmatch(v["certificate_arn"])
    if certificate and certificate["region"] != v["aws_region"]:
        return (
            f"certificate_arn={v['certificate_arn']} is in {certificate['region']}, not in "
            f"aws_region={v['aws_region']}: an ALB needs a certificate from its own region"
        )
    return None


@_check("domain_name", "hosted_zone_name")
def _zone_holds_domain(v: dict[str, Any]) -> str | None:
    domain, given_zone = v["domain_name"], v["hosted_zone_name"]
    zone = _zone_name(domain, given_zone)
    if not domain:
        return f"hosted_zone_name={given_zone} needs a domain_name: set one or clear it" if given_zone else None
    if not (domain == zone or domain.endswith("." + zone)):
        return (
            f"hosted_zone_name={zone} does not contain domain_name={domain}: "
            f"use a zone that is a suffix of the domain, e.g. {domain.partition('.')[2]}"
        )
    if "." not in zone:  # only the default zone can be a bare TLD: a given zone is a two-label DNS name at least
        return f"domain_name={domain} is an apex domain: set hosted_zone_name={domain} (the default is its parent)"
    return None


@_check("enable_autoscaling", "replicas", "autoscaling_min", "autoscaling_max")
def _replicas_inside_scaling_range(v: dict[str, Any]) -> str | None:
    low, high = v["autoscaling_min"], v["autoscaling_max"]
    if low > high:
        return f"autoscaling_min={low} is above autoscaling_max={high}: make min <= max"
    if v["enable_autoscaling"] and not low <= v["replicas"] <= high:
        return (
            f"replicas={v['replicas']} is outside autoscaling_min={low}..autoscaling_max={high}: "
            "start inside the scaling range"
        )
    return None


@_check("fargate_spot_percent", "fargate_on_demand_base", "replicas", "enable_autoscaling", "autoscaling_min")
def _on_demand_base_inside_the_task_count(v: dict[str, Any]) -> str | None:
    if v["fargate_spot_percent"] == 0:
        return None  # every task runs on regular Fargate: the base changes nothing
    base = v["fargate_on_demand_base"]
    if v["enable_autoscaling"] and base > v["autoscaling_min"]:
        return (
            f"fargate_on_demand_base={base} is above autoscaling_min={v['autoscaling_min']}: scaled in, the service "
            "could not keep its on-demand base; lower the base or raise autoscaling_min"
        )
    if base > v["replicas"]:
        return (
            f"fargate_on_demand_base={base} is above replicas={v['replicas']}: the on-demand base is part of the "
            "service's tasks; lower the base or raise replicas"
        )
    return None


@_check("deregistration_delay_seconds", "fargate_spot_percent")
def _spot_deregistration_inside_the_notice(v: dict[str, Any]) -> str | None:
    delay = v["deregistration_delay_seconds"]
    if v["fargate_spot_percent"] == 0 or delay < SPOT_NOTICE_SECONDS:
        return None
    return (
        f"deregistration_delay_seconds={delay} must be below {SPOT_NOTICE_SECONDS} with fargate_spot_percent="
        f"{v['fargate_spot_percent']}: a Spot task stops {SPOT_NOTICE_SECONDS} s after its notice, so its "
        "deregistration must end sooner; lower the delay or set fargate_spot_percent=0"
    )


@_check("health_check_timeout_seconds", "health_check_interval_seconds")
def _timeout_below_interval(v: dict[str, Any]) -> str | None:
    timeout, interval = v["health_check_timeout_seconds"], v["health_check_interval_seconds"]
    if timeout < interval:
        return None
    return (
        f"health_check_timeout_seconds={timeout} must be shorter than health_check_interval_seconds={interval}: "
        "lower the timeout or raise the interval"
    )


def shutdown_drain_seconds(health_check_interval_seconds: int, unhealthy_threshold: int) -> int:
    """How long a replica keeps serving after SIGTERM while failing its health check, so the load balancer has marked
    it down before it stops accepting (a Fargate Spot reclaim sends SIGTERM without deregistering the task first).

    The first failing check comes at most one interval after the SIGTERM, so `unhealthy_threshold` failures take at
    most threshold x interval; one interval more covers the load balancer acting on its verdict.
    """
    return (unhealthy_threshold + 1) * health_check_interval_seconds


# Fargate's cap on stopTimeout: ECS sends SIGKILL this long after SIGTERM at the latest.
FARGATE_MAX_STOP_TIMEOUT_SECONDS = 120


def stop_sequence_seconds(health_check_interval_seconds: int, unhealthy_threshold: int, graceful_seconds: int) -> int:
    """From SIGTERM to the container's exit, at most: the drain, then the graceful shutdown, cut by SIGKILL at 120 s.

    A scheduled stop (a release's old tasks) gets SIGTERM only after deregistration and its delay, and the app does
    not know it was deregistered, so it runs the whole sequence then too.
    """
    drain = shutdown_drain_seconds(health_check_interval_seconds, unhealthy_threshold)
    return min(drain + graceful_seconds, FARGATE_MAX_STOP_TIMEOUT_SECONDS)


def unhealthy_alarm_periods(stop_timeout_seconds: int) -> int:
    """One-minute periods in a row the unhealthy-targets rollback alarm needs: one more than a Spot reclaim can cover.

    A reclaimed task fails its health checks from the SIGTERM (its drain) until it stops, which ECS enforces after
    `stop_timeout_seconds` (at most 120 s); ECS then deregisters it, and a draining target is not unhealthy. However
    that window of W seconds falls across minutes it touches at most ceil(W / 60) + 1 of them, each with a Maximum of
    1 unhealthy host: one period more, and only a target failing for longer than any reclaim (a bad release) alarms.
    """
    return -(-stop_timeout_seconds // 60) + 2


@_check("stop_timeout_seconds", "graceful_shutdown_seconds", "health_check_interval_seconds", "unhealthy_threshold")
def _shutdown_inside_stop_timeout(v: dict[str, Any]) -> str | None:
    stop_timeout, shutdown = v["stop_timeout_seconds"], v["graceful_shutdown_seconds"]
    interval, threshold = v["health_check_interval_seconds"], v["unhealthy_threshold"]
    drain = shutdown_drain_seconds(interval, threshold)
    if drain + shutdown < stop_timeout:
        return None
    return (
        f"stop_timeout_seconds={stop_timeout} is too short for the SIGTERM sequence: the drain "
        f"((unhealthy_threshold={threshold} + 1) x health_check_interval_seconds={interval} = {drain} s) plus "
        f"graceful_shutdown_seconds={shutdown} must end before ECS kills the container: raise stop_timeout_seconds "
        f"above {drain + shutdown} (at most 120) or shorten the others"
    )


# With enable_tracing each task also runs the ADOT collector (infra/tracing.py): its share of the task, and what the
# app needs of the rest (its 64 MiB /tmp tmpfs, Python with FastAPI, uvicorn and the OpenTelemetry SDK, and room for
# requests; the app alone has run in the smallest task, 512 MiB, so it keeps at least three quarters of that).
COLLECTOR_CPU_UNITS = 128
COLLECTOR_MEMORY_MIB = 256
APP_MIN_CPU_UNITS = 128
APP_MIN_MEMORY_MIB = 384
assert min(FARGATE_MEMORY_BY_CPU) - COLLECTOR_CPU_UNITS >= APP_MIN_CPU_UNITS  # so no rule is needed for the CPU
# The collector listens on the task's loopback, which the app's container shares (awsvpc): OTLP/HTTP and its health.
COLLECTOR_PORTS = (4318, 13133)


def memory_with_collector(cpu: int, memory: int) -> int:
    """The smallest memory size at `cpu` from `memory` up that holds the collector and the app (tracing on)."""
    return next(
        (
            size
            for size in FARGATE_MEMORY_BY_CPU[cpu]
            if size >= memory and size - COLLECTOR_MEMORY_MIB >= APP_MIN_MEMORY_MIB
        ),
        memory,
    )


@_check("enable_tracing", "cpu", "memory")
def _task_holds_the_collector(v: dict[str, Any]) -> str | None:
    """The collector's memory comes out of the task's; its CPU share always leaves the app at least
    APP_MIN_CPU_UNITS, since the smallest task has 256."""
    cpu, memory = v["cpu"], v["memory"]
    if not v["enable_tracing"] or memory - COLLECTOR_MEMORY_MIB >= APP_MIN_MEMORY_MIB:
        return None
    return (
        f"memory={memory} is too small with enable_tracing=true: the collector sidecar takes {COLLECTOR_MEMORY_MIB} "
        f"MiB and the app needs at least {APP_MIN_MEMORY_MIB}: raise memory to {memory_with_collector(cpu, memory)}, "
        "or turn tracing off"
    )


@_check("enable_tracing", "container_port")
def _app_port_free_for_the_collector(v: dict[str, Any]) -> str | None:
    port = v["container_port"]
    if not v["enable_tracing"] or port not in COLLECTOR_PORTS:
        return None
    return (
        f"container_port={port} is taken with enable_tracing=true: the collector sidecar listens on "
        f"{_one_of(COLLECTOR_PORTS)} in the same task; choose another port"
    )


@_check("waf_allow_large_bodies", "enable_waf")
def _large_bodies_need_waf(v: dict[str, Any]) -> str | None:
    if v["waf_allow_large_bodies"] and not v["enable_waf"]:
        return (
            "waf_allow_large_bodies=true is only used with the WAF: set enable_waf=true or waf_allow_large_bodies=false"
        )
    return None


@_check("waf_count_mode", "enable_waf")
def _count_mode_needs_waf(v: dict[str, Any]) -> str | None:
    if v["waf_count_mode"] and not v["enable_waf"]:
        return "waf_count_mode=true is only used with the WAF: set enable_waf=true or waf_count_mode=false"
    return None


@dataclass(frozen=True)
class Shift:
    """One step of a release: the share of production traffic on the new revision, then how long it bakes there."""

    new_percent: float
    bake_minutes: int


def traffic_schedule(v: Mapping[str, Any]) -> list[Shift]:
    """How ECS moves production traffic to the new revision for the strategy in `v` (none for rolling).

    `v` holds settings by name (a Settings' fields, or the values a rule sees). ECS waits no bake after a linear step
    that reaches 100 %: the final bake (deployment_bake_minutes) follows instead.
    """
    strategy, bake = v["deployment_strategy"], v["deployment_bake_minutes"]
    if strategy == "blue-green":
        return [Shift(100.0, bake)]
    if strategy == "canary":
        return [Shift(v["canary_percent"], v["canary_bake_minutes"]), Shift(100.0, bake)]
    if strategy == "linear":
        step_tenths = round(v["linear_step_percent"] * 10)
        steps = -(-1000 // step_tenths)  # equal steps, the last one capped at 100 %
        shares = [min(100.0, step * step_tenths / 10) for step in range(1, steps + 1)]
        return [Shift(share, v["linear_step_bake_minutes"]) for share in shares[:-1]] + [Shift(100.0, bake)]
    return []


def release_seconds(v: Mapping[str, Any]) -> int:
    """Modelled time from `pulumi up` starting the deployment to the old revision stopped.

    Rolling: task start + one health check + deregistration delay + the old task's stop sequence (SIGTERM drain and
    graceful shutdown). The others start the new revision beside the old (task start + one check), hold each share
    of the schedule for its bake, then stop the old (deregistration delay + stop sequence).
    """
    interval = v["health_check_interval_seconds"]
    start = TASK_START_SECONDS + interval
    schedule = traffic_schedule(v)
    # A test window (PAUSE hook) holds the release before production traffic moves, at most this long.
    window = v["test_window_minutes"] if schedule else 0
    baking = (sum(shift.bake_minutes for shift in schedule) + window) * 60
    stop = stop_sequence_seconds(interval, v["unhealthy_threshold"], v["graceful_shutdown_seconds"])
    return int(start + baking + v["deregistration_delay_seconds"] + stop)


def update_timeout_minutes(v: Mapping[str, Any]) -> int:
    """How long `pulumi up` waits for the service: the modelled release, rounded up to minutes, plus the margin."""
    if v["deployment_strategy"] == "rolling":
        return PROVIDER_UPDATE_TIMEOUT_MINUTES
    return -(-release_seconds(v) // 60) + TIMEOUT_MARGIN_MINUTES


@_check(
    "deployment_strategy",
    "deployment_bake_minutes",
    "canary_percent",
    "canary_bake_minutes",
    "linear_step_percent",
    "linear_step_bake_minutes",
    "health_check_interval_seconds",
    "deregistration_delay_seconds",
    "unhealthy_threshold",
    "graceful_shutdown_seconds",
    "test_window_minutes",
)
def _release_fits_the_ci_deploy_job(v: dict[str, Any]) -> str | None:
    wait = update_timeout_minutes(v)
    if wait <= MAX_RELEASE_WAIT_MINUTES:
        return None
    bakes = {
        "blue-green": ("deployment_bake_minutes",),
        "canary": ("deployment_bake_minutes", "canary_bake_minutes"),
        "linear": ("linear_step_bake_minutes", "linear_step_percent", "deployment_bake_minutes"),
    }[v["deployment_strategy"]]
    if v["test_window_minutes"]:
        bakes = ("test_window_minutes", *bakes)
    named = ", ".join(f"{field}={_show(v[field])}" for field in bakes)
    return (
        f"{named} with deployment_strategy={v['deployment_strategy']}: a release takes about "
        f"{-(-release_seconds(v) // 60)} min and `pulumi up` waits up to {wait} min, beyond the "
        f"{MAX_RELEASE_WAIT_MINUTES} min the CI deploy job ({CI_DEPLOY_JOB_MINUTES} min) leaves for it: "
        "shorten the bakes"
    )


@_check("test_window_minutes", "test_traffic_header", "deployment_strategy")
def _test_window_needs_a_test_route(v: dict[str, Any]) -> str | None:
    if v["test_window_minutes"] and not v["test_traffic_header"] and v["deployment_strategy"] != "rolling":
        return (
            f"test_window_minutes={v['test_window_minutes']} pauses a release for testing, but test_traffic_header "
            "is empty, so nothing could reach the new revision: set a header or test_window_minutes=0"
        )
    return None


@_check("vpc_id", "public_subnet_ids", "private_subnet_ids")
def _existing_vpc_named_whole(v: dict[str, Any]) -> str | None:
    fields = ("vpc_id", "public_subnet_ids", "private_subnet_ids")
    given = [field for field in fields if v[field]]
    if given and len(given) < len(fields):
        shown = v[given[0]] if given[0] == "vpc_id" else ",".join(v[given[0]])
        missing = " and ".join(field for field in fields if field not in given)
        return (
            f"{given[0]}={shown} is set without {missing}: an existing VPC needs its vpc_id, the ALB's "
            "public_subnet_ids and the tasks' private_subnet_ids (or none of the three for a VPC of the stack's own)"
        )
    return None


@_check("public_subnet_ids", "private_subnet_ids")
def _subnets_public_or_private(v: dict[str, Any]) -> str | None:
    both = sorted(set(v["public_subnet_ids"]) & set(v["private_subnet_ids"]))
    if both:
        return (
            f"private_subnet_ids={','.join(v['private_subnet_ids'])} repeats {both[0]} of public_subnet_ids: the "
            "ALB's subnets route to an internet gateway, the tasks' must not; name each subnet in one list"
        )
    return None


@_check("vpc_id", "networking")
def _networking_is_the_vpc_owners(v: dict[str, Any]) -> str | None:
    if v["vpc_id"] and v["networking"] != ANSWER_DEFAULTS["networking"]:
        return (
            f"networking={v['networking']} shapes a VPC of the stack's own, but vpc_id={v['vpc_id']} names an "
            "existing one whose owner decides how tasks leave it (NAT, Transit Gateway or endpoints): "
            "`pulumi config rm networking`, or clear vpc_id"
        )
    return None


def parse_settings(raw: Mapping[str, object]) -> Settings:
    """Parse stack settings (strings, numbers or booleans) into Settings, or raise InvalidSettings with every error.

    Keys missing from raw take their DEFAULTS; keys that are not settings are ignored, except RETIRED_SETTINGS.
    """
    values: dict[str, Any] = {}
    errors = []
    for field, retired in RETIRED_SETTINGS.items():
        if field in raw:
            errors.append(f"{field}={_show(raw[field])} {retired}")
    for field, parse in PARSERS.items():
        given = raw.get(field, DEFAULTS[field])
        try:
            values[field] = parse(given)
        except _FieldError as error:
            errors.append(f"{field}={_show(given)} {error}")
    for fields, check in CHECKS:
        if all(field in values for field in fields):
            problem = check(values)
            if problem:
                errors.append(problem)
    if errors:
        raise InvalidSettings(errors)
    return Settings(**values)


def unknown_setting_errors(given: Mapping[str, object]) -> list[str]:
    """One line per key of the project's config namespace that the program does not read: a typo (`replica` for
    `replicas`) would otherwise change nothing, and no preview or up would say so."""
    errors = []
    for key in sorted(given):
        value = _show(given[key])
        if key == "aws_region":
            errors.append(
                f"aws_region={value} is not read: the region is aws:region (`pulumi config set aws:region {value}`, "
                "then `pulumi config rm aws_region`)"
            )
        elif key not in DEFAULTS and key not in RETIRED_SETTINGS:
            nearest = difflib.get_close_matches(key, list(DEFAULTS), n=1)
            hint = f"did you mean {nearest[0]}?" if nearest else "README.md lists every setting"
            errors.append(f"{key}={value} is not a setting of this project: {hint} (`pulumi config rm {key}`)")
    return errors


def stack_settings(project: str, config: Mapping[str, object]) -> Settings:
    """Settings from a stack's whole config as Pulumi hands it to the program (`namespace:key` -> value).

    The project's own namespace holds the settings; the region is the AWS provider's `aws:region`. Keys of other
    namespaces (`aws:`, `pulumi:`, other providers') belong to their owners and are not looked at here; an unknown
    key of the project's namespace is refused with the setting it was probably meant to be.
    """
    prefix = f"{project}:"
    raw = {key.removeprefix(prefix): value for key, value in config.items() if key.startswith(prefix)}
    errors = unknown_setting_errors(raw)
    raw["aws_region"] = config.get("aws:region") or DEFAULTS["aws_region"]
    try:
        settings = parse_settings(raw)
    except InvalidSettings as invalid:
        errors += invalid.errors
    if errors:
        raise InvalidSettings(errors)
    return settings


def is_production(stack: str) -> bool:
    """Stacks named prod* are production: deletion protection is on unless set otherwise."""
    return stack.startswith("prod")


def resource_base_name(project_slug: str) -> str:
    """The prefix for AWS resource names: short enough that '<base>-alb' plus Pulumi's suffix fits 32 characters."""
    longest = AWS_LB_NAME_LIMIT - AUTONAME_SUFFIX_LENGTH - len("-alb")
    return project_slug[:longest].rstrip("-")


def stack_resource_name(project_slug: str, stack: str, limit: int = 128) -> str:
    """A fixed name for a per-stack resource (dashboard, web ACL): project and stack, in the characters both allow."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"{project_slug}-{stack}")[:limit]


def check_answers(answers: Mapping[str, object]) -> list[str]:
    """Every error in a set of cookiecutter answers: the project fields, then the stack settings."""
    errors = []
    project_name = str(answers.get("project_name", "")).strip()
    if not project_name:
        errors.append("project_name= is empty: give the service a human-readable name, e.g. Hello Fargate")
    slug = str(answers.get("project_slug", ""))
    if not SLUG_PATTERN.fullmatch(slug) or len(slug) > MAX_SLUG_LENGTH:
        errors.append(
            f"project_slug={slug} is not allowed: use 1..{MAX_SLUG_LENGTH} lowercase letters, digits and single "
            "hyphens, starting with a letter and not ending with a hyphen (it defaults to project_name slugified)"
        )
    stack_name = str(answers.get("stack_name", ""))
    if not STACK_NAME_PATTERN.fullmatch(stack_name):
        errors.append(f"stack_name={stack_name} is not allowed: use 1..100 letters, digits, '-', '_' or '.'")
    try:
        parse_settings(answers)
    except InvalidSettings as invalid:
        errors.extend(invalid.errors)
    return errors


# Issue 24: what a throwaway copy of a stack runs (`make acceptance`, pull-request environments).
def fewest_replicas(settings: Settings) -> int:
    """The smallest replica count the rules accept with the rest of `settings` (autoscaling_min follows it)."""
    values = dataclasses.asdict(settings)
    for replicas in range(MIN_REPLICAS, MAX_REPLICAS + 1):
        low = replicas if values["enable_autoscaling"] else values["autoscaling_min"]
        candidate = {**values, "replicas": replicas, "autoscaling_min": low}
        if not any(check(candidate) for _, check in CHECKS):
            return replicas
    return settings.replicas


# The pull through cache prefix (infra/tracing.py), here so scripts/ephemeral.py can name what ECR creates under it.
# ECR's limits on a pull through cache rule's prefix (CreatePullThroughCacheRule): 2..30 characters of a repository
# name, lowercase letters and digits in runs joined by single separators.
PREFIX_MAX_LENGTH = 30
PREFIX_PATTERN = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")


def pull_through_prefix(stack_name: str) -> str:
    """This stack's own prefix for its pull through cache rule (a registry holds one rule per prefix), from its
    per-stack name: as it is when ECR allows it, else shortened and suffixed with a hash of it, so two stacks never
    share one."""
    words = "-".join(re.findall(r"[a-z0-9]+", stack_name.lower()))
    if words == stack_name and len(words) <= PREFIX_MAX_LENGTH:
        return words
    digest = hashlib.sha256(stack_name.encode()).hexdigest()[:8]
    return f"{words[: PREFIX_MAX_LENGTH - len(digest) - 1].rstrip('-')}-{digest}".lstrip("-")
