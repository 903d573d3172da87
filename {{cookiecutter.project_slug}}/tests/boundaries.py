"""Each validation rule at its edges: a value just inside (accepted) and just outside (refused, naming the field).

The template's tests run these cases through generation, this project's tests through `pulumi config`.
"""

import json
from dataclasses import dataclass

from infra.validation import STACK_ONLY_DEFAULTS

CERTIFICATE = "arn:aws:acm:{region}:123456789012:certificate/0b5e3c9a-1111-2222-3333-444455556666"
AUTOSCALING = {"enable_autoscaling": True, "autoscaling_min": 2, "autoscaling_max": 10}
DOMAIN = {"domain_name": "api.example.com"}
EXISTING_VPC = {
    "vpc_id": "vpc-0c0ffee0000000001",
    "public_subnet_ids": "subnet-0c0ffee00000000a1,subnet-0c0ffee00000000b1",
    "private_subnet_ids": "subnet-0c0ffee00000000a3,subnet-0c0ffee00000000b3",
}


@dataclass(frozen=True)
class Case:
    field: str
    answers: dict[str, object]
    accepted: bool

    @property
    def id(self) -> str:
        value = str(self.answers[self.field])
        shown = value if len(value) <= 40 else f"{value[:16]}...({len(value)} chars)"
        return f"{self.field}={shown}:{'ok' if self.accepted else 'refused'}"


def edge(field: str, inside: object, outside: object, **context: object) -> list[Case]:
    return [Case(field, {**context, field: inside}, True), Case(field, {**context, field: outside}, False)]


CASES: list[Case] = [
    # ACM's limit on an issued certificate's first name (a given certificate_arn is not issued here).
    *edge(
        "domain_name",
        "x" * 52 + ".example.com",
        "x" * 53 + ".example.com",
        enable_https=True,
    ),
    *edge("replicas", 2, 1),
    *edge("replicas", 1000, 1001),
    *edge("cpu", 16384, 300, memory=32768),
    *edge("memory", 2048, 3072, cpu=256),
    *edge("memory", 4096, 5120, cpu=512),
    *edge("memory", 30720, 31744, cpu=4096),
    *edge("memory", 20480, 17408, cpu=8192),  # 4 GiB steps
    *edge("memory", 40960, 36864, cpu=16384),  # 8 GiB steps
    *edge("memory", 122880, 131072, cpu=16384),
    *edge("cpu_architecture", "ARM64", "ARM"),
    *edge("networking", "public-subnets", "private"),
    *edge("az_count", 3, 4),
    *edge("az_count", 2, 1),
    *edge("az_count", 2, 3, aws_region="us-west-1"),  # Fargate runs in two of its zone IDs only
    *edge("az_count", 3, 4, aws_region="ap-northeast-1"),
    *edge("aws_region", "eu-west-3", "eu-west-4"),
    *edge("container_port", 1, 0),
    *edge("container_port", 65535, 65536),
    *edge("health_check_path", "/", "health"),
    *edge("health_check_path", "/ready", "/re ady"),
    *edge("health_check_path", "/health?full=1", "/health?full=1 x"),
    *edge("health_check_path", "/health?a=1&b=%2F", "/health?a=1\tb"),  # query characters; control characters
    *edge("health_check_path", "/" + "a" * 1023, "/" + "a" * 1024),  # the ALB's 1024-character limit
    *edge("log_retention_days", 3653, 3650),
    *edge("log_retention_days", 1, 2),
    *edge("domain_name", "a.example.com", "-a.example.com"),
    *edge("domain_name", "api.example.com", "api..example.com"),
    *edge("hosted_zone_name", "example.com", "example.org", **DOMAIN),
    *edge("hosted_zone_name", "api.example.com", "com", **DOMAIN),
    Case("enable_https", {"enable_https": True, **DOMAIN}, True),
    Case("enable_https", {"enable_https": True, "domain_name": ""}, False),
    *edge(
        "certificate_arn",
        CERTIFICATE.format(region="us-east-1"),
        CERTIFICATE.format(region="eu-west-1"),
        enable_https=True,
        **DOMAIN,
    ),
    *edge(
        "certificate_arn",
        CERTIFICATE.format(region="us-east-1"),
        "arn:aws:acm:us-east-1:1:cert",
        enable_https=True,
        **DOMAIN,
    ),
    *edge("autoscaling_min", 2, 1, **AUTOSCALING),
    *edge("autoscaling_max", 10, 1, **AUTOSCALING),
    *edge("replicas", 10, 11, **AUTOSCALING),
    *edge("replicas", 2, 1, **AUTOSCALING),
    *edge("autoscaling_cpu_target", 100, 101, **AUTOSCALING),
    *edge("autoscaling_cpu_target", 1, 0, **AUTOSCALING),
    *edge("autoscaling_requests_per_target", 0, -1, **AUTOSCALING),
    *edge("sticky_duration_seconds", 604800, 604801, enable_sticky_sessions=True),
    *edge("sticky_duration_seconds", 1, 0, enable_sticky_sessions=True),
    *edge("health_check_timeout_seconds", 9, 10, health_check_interval_seconds=10),
    *edge("graceful_shutdown_seconds", 1, 0),
    # The SIGTERM sequence: drain ((2 + 1) x 10 s) + graceful shutdown (20 s) must end before stop_timeout_seconds.
    *edge("stop_timeout_seconds", 51, 50),
    *edge("stop_timeout_seconds", 120, 121),
    # Fargate's 120 s cap bounds the sequence: a (2 + 1) x 30 s drain leaves less than 30 s for the graceful shutdown.
    Case(
        "stop_timeout_seconds",
        {"stop_timeout_seconds": 120, "health_check_interval_seconds": 30, "graceful_shutdown_seconds": 30},
        False,
    ),
    *edge("fargate_spot_percent", 100, 101),
    *edge("fargate_spot_percent", 0, -1),
    *edge("fargate_on_demand_base", 2, 1),
    # A Spot task stops two minutes after its notice: its deregistration must end before (AWS Knowledge Center).
    *edge("deregistration_delay_seconds", 119, 120, fargate_spot_percent=50),
    *edge("deregistration_delay_seconds", 3600, 3601),
    *edge("fargate_on_demand_base", 3, 4, replicas=3, fargate_spot_percent=50),
    *edge("fargate_on_demand_base", 2, 3, replicas=4, fargate_spot_percent=50, **AUTOSCALING),
    # With private-endpoints the tasks reach only this region's SSM and Secrets Manager endpoints.
    *edge(
        "secrets",
        '{"API_KEY": "arn:aws:secretsmanager:us-east-1:123456789012:secret:api-key-AbCdEf"}',
        '{"API_KEY": "arn:aws:secretsmanager:us-east-2:123456789012:secret:api-key-AbCdEf"}',
        networking="private-endpoints",
        aws_region="us-east-1",
    ),
    *edge(
        "secrets",
        '{"DATABASE_URL": "/hello/database-url"}',
        '{"DATABASE_URL": "arn:aws:ssm:eu-west-1:123456789012:parameter/hello/database-url"}',
        networking="private-endpoints",
        aws_region="us-east-1",
    ),
    *edge("alarm_email", "ops@example.com", "ops@example"),
    *edge("alarm_p99_latency_ms", 10, 9),
    *edge("alarm_5xx_rate_percent", 1, 0),
    *edge("alarm_5xx_rate_percent", 100, 101),
    *edge("alarm_min_requests_per_minute", 1, 0),
    *edge("enable_flow_logs", "false", "off"),
    *edge("deployment_strategy", "linear", "blue_green"),
    # The ECS API's range (rolling ignores the bakes); a release must also fit the CI deploy job, below.
    *edge("deployment_bake_minutes", 1440, 1441),
    # blue-green: 30 s start + 10 s check + bake + 30 s deregistration, rounded up, + 20 min margin <= 90 min
    *edge("deployment_bake_minutes", 68, 69, deployment_strategy="blue-green"),
    # canary: a 5-minute canary bake, then this bake; linear: three 25 % steps with this bake each, then 5 minutes
    *edge("deployment_bake_minutes", 63, 64, deployment_strategy="canary"),
    *edge("linear_step_bake_minutes", 21, 22, deployment_strategy="linear"),
    *edge("deployment_bake_minutes", 0, -1, deployment_strategy="blue-green"),
    *edge("canary_percent", 0.1, 0.05, deployment_strategy="canary"),
    *edge("canary_percent", 100, 100.1, deployment_strategy="canary"),
    *edge("canary_percent", 12.5, 12.25, deployment_strategy="canary"),
    *edge("canary_bake_minutes", 1440, 1441),
    *edge("linear_step_percent", 3, 2.9, deployment_strategy="linear", linear_step_bake_minutes=0),  # 33 steps
    *edge("linear_step_percent", 100, 100.1, deployment_strategy="linear"),
    *edge("linear_step_bake_minutes", 1440, 1441),
    *edge("test_traffic_header", "X-Release-Test: 1", "X-Release-Test 1", deployment_strategy="canary"),
    *edge("test_traffic_header", "X-" + "a" * 38 + ": 1", "X-" + "a" * 39 + ": 1", deployment_strategy="canary"),
    *edge("test_window_minutes", 0, -1, deployment_strategy="blue-green"),
    # blue-green: the window waits before the 5-minute bake; together they must fit the CI deploy job
    *edge("test_window_minutes", 63, 64, deployment_strategy="blue-green"),
    *edge("test_window_minutes", 0, 1, deployment_strategy="blue-green", test_traffic_header=""),  # nothing to test
    # An ALB http-header condition cannot match the host header (host conditions do), in any case.
    *edge("test_traffic_header", "Hosts: x", "Host: x", deployment_strategy="canary"),
    *edge("test_traffic_header", "X-Host: x", "hOsT: x", deployment_strategy="canary"),
    *edge("alb_idle_timeout_seconds", 1, 0),
    *edge("alb_idle_timeout_seconds", 4000, 4001),
    *edge("enable_waf", True, "maybe"),
    *edge("waf_rate_limit", 10, 9, enable_waf=True),
    *edge("waf_rate_limit", 2_000_000_000, 2_000_000_001, enable_waf=True),
    *edge("waf_rate_window_seconds", 600, 900, enable_waf=True),
    *edge("waf_rate_window_seconds", 60, 30, enable_waf=True),
    Case("waf_count_mode", {"waf_count_mode": True, "enable_waf": True}, True),
    Case("waf_count_mode", {"waf_count_mode": True, "enable_waf": False}, False),
    Case("waf_allow_large_bodies", {"waf_allow_large_bodies": True, "enable_waf": True}, True),
    Case("waf_allow_large_bodies", {"waf_allow_large_bodies": True, "enable_waf": False}, False),
    *edge("waf_allow_large_bodies", "false", "maybe", enable_waf=True),
    # Tracing: the collector sidecar takes 256 MiB of the task and listens on 4318 and 13133 beside the app.
    *edge("enable_tracing", True, "maybe", memory=1024),
    *edge("memory", 1024, 512, cpu=256, enable_tracing=True),
    *edge("container_port", 4319, 4318, enable_tracing=True, memory=1024),
    *edge("container_port", 13134, 13133, enable_tracing=True, memory=1024),
    *edge("tracing_sample_percent", 0, -0.1, enable_tracing=True, memory=1024),
    *edge("tracing_sample_percent", 100, 100.1, enable_tracing=True, memory=1024),
    *edge("tracing_sample_percent", 0.1, 0.05, enable_tracing=True, memory=1024),
    # IAM: a managed policy ARN (customer or AWS managed, with a path), a role path of 1..512 characters.
    *edge("permissions_boundary_arn", "arn:aws:iam::123456789012:policy/org/Boundary", "arn:aws:iam::1234:policy/B"),
    *edge("permissions_boundary_arn", "arn:aws:iam::aws:policy/PowerUserAccess", "arn:aws:iam::aws:role/X"),
    *edge("permissions_boundary_arn", "arn:aws-us-gov:iam::123456789012:policy/B", "arn:aws-gov:iam::1:policy/B"),
    *edge("permissions_boundary_arn", "arn:aws-cn:iam::123456789012:policy/B", "arn:aws:iam::123456789012:policy/Bé"),
    *edge("iam_role_path", "/" + "a" * 510 + "/", "/" + "a" * 511 + "/"),
    *edge("iam_role_path", "/teams/payments/", "/teams/payments"),
    *edge("iam_role_path", "/", "//"),
    # Environment variables: the grammar, none the stack or ECS sets, no credential, none also in secrets.
    *edge("environment", '{"FEATURE_FLAGS": "a,b"}', '{"2FA": "on"}'),
    *edge("environment", '{"PORTAL_URL": "https://x"}', '{"PORT": "9000"}'),
    *edge("environment", '{"AWS_MAX_ATTEMPTS": "5"}', '{"AWS_REGION": "eu-west-1"}'),
    *edge("environment", '{"API_TIMEOUT": "5"}', '{"API_TOKEN": "abc"}'),  # the policy pack's ECS.8 rule
    # ECS.8: AWS Config's secret keys, names ending in a credential word, credential-shaped values; not names that only
    # contain such a word.
    *edge("environment", '{"TOKEN_URL": "https://x", "PASSWORD_MIN_LENGTH": 12}', '{"ECS_ENGINE_AUTH_DATA": "{}"}'),
    *edge("environment", '{"OAUTH_TOKEN_ENDPOINT": "https://x"}', '{"AWS_ACCESS_KEY_ID": "x"}'),
    *edge("environment", '{"KEY_ID": "AKIA-not-a-key"}', '{"KEY_ID": "AKIAIOSFODNN7EXAMPLE"}'),
    # Names the image, Python or the loader read.
    *edge("environment", '{"APP_PATH": "/x"}', '{"PATH": "/tmp"}'),
    *edge("environment", '{"MY_PYTHONPATH": "/x"}', '{"PYTHONPATH": "/tmp"}'),
    *edge("environment", '{"OLD_PRELOAD": "x"}', '{"LD_PRELOAD": "/tmp/x.so"}'),
    # ECS's task definition size quota: 24 KiB of names and values at most.
    *edge("environment", json.dumps({"BIG": "x" * (24 * 1024 - 3)}), json.dumps({"BIG": "x" * (24 * 1024 - 2)})),
    *edge("environment", '{"LEVEL": "info"}', '{"DATABASE_URL": "x"}', secrets='{"DATABASE_URL": "/db/url"}'),
    *edge("secrets", '{"DB_URL": "/db/url"}', '{"PORT": "/db/port"}'),
    # EC2 IDs: 8 hex digits (older resources) or 17; subnet lists without repeats, none in both lists.
    *edge("vpc_id", "vpc-0c0ffee0", "vpc-0c0ffee", **{**EXISTING_VPC, "vpc_id": ""}),
    *edge(
        "public_subnet_ids",
        "subnet-0a1b2c3d,subnet-0c0ffee00000000b1",
        "subnet-0a1b2c3d,subnet-0a1b2c3d",
        **{**EXISTING_VPC, "public_subnet_ids": ""},
    ),
    *edge(
        "private_subnet_ids",
        "subnet-0c0ffee00000000a3",
        "subnet-0c0ffee00000000a1",
        **{**EXISTING_VPC, "private_subnet_ids": ""},
    ),
]
# Cookiecutter itself refuses a value outside a choice list, or a yes/no question's non-boolean answer (with its own
# traceback), before our hook runs.
CHOICE_QUESTIONS = {"deployment_strategy", "enable_waf"}

GENERATION_CASES: list[Case] = [
    *(
        case
        for case in CASES
        # stack config only, not asked (nor a rule an answer meets only beside a stack-only setting)
        if case.field not in STACK_ONLY_DEFAULTS
        and not set(case.answers) & set(STACK_ONLY_DEFAULTS)
        and (case.accepted or case.field not in CHOICE_QUESTIONS)
    ),
    *edge("project_name", "x", " "),
    *edge("project_slug", "a", "1a"),
    *edge("project_slug", "a" * 40, "a" * 41),
    *edge("project_slug", "a-b", "a--b"),
    *edge("stack_name", "prod.eu", "prod/eu"),
]
