"""Property-based: any answers from the valid domain generate a project whose program builds under mocks;
any answers with one field made invalid are refused, naming that field."""

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import TEMPLATE, bake, menus, project_module, refused_by_cookiecutter
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rendered import check_deployment

validation = project_module("infra/validation.py")
TABLE: dict[int, tuple[int, ...]] = validation.FARGATE_MEMORY_BY_CPU
CERTIFICATE = "arn:aws:acm:{region}:123456789012:certificate/0b5e3c9a-1111-2222-3333-444455556666"
DOMAINS = {"api.example.com": ["", "example.com", "api.example.com"], "shop-1.eu.example.co": ["", "eu.example.co"]}
EXAMPLES = settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def fargate_zone_count(region: str) -> int:
    """How many zone IDs of the region Fargate runs in (us-west-1: two); 3, the most az_count asks, elsewhere."""
    return len(validation.FARGATE_ZONE_IDS.get(region, range(3)))


@st.composite
def valid_answers(draw: Any) -> dict[str, object]:
    cpu = draw(st.sampled_from(sorted(TABLE)))
    autoscaling = draw(st.booleans())
    low = draw(st.integers(2, 50))
    high = draw(st.integers(low, 200))
    region = draw(st.sampled_from(validation.AWS_REGIONS))
    domain = draw(st.sampled_from(["", *DOMAINS]))
    https = bool(domain) and draw(st.booleans())
    return {
        "aws_region": region,
        "replicas": draw(st.integers(low, high) if autoscaling else st.integers(2, 1000)),
        "cpu": str(cpu),
        "memory": str(draw(st.sampled_from(TABLE[cpu]))),
        "cpu_architecture": draw(st.sampled_from(validation.CPU_ARCHITECTURES)),
        "container_port": draw(st.integers(1, 65535)),
        "health_check_path": draw(st.from_regex(r"/[a-z0-9_~./-]{0,20}", fullmatch=True)),
        "networking": draw(st.sampled_from(validation.NETWORKING_MODES)),
        "az_count": draw(st.sampled_from([n for n in validation.AZ_COUNTS if n <= fargate_zone_count(region)])),
        "log_retention_days": draw(st.sampled_from(validation.LOG_RETENTION_DAYS)),
        "enable_https": https,
        "domain_name": domain,
        "hosted_zone_name": draw(st.sampled_from(DOMAINS[domain])) if domain else "",
        "certificate_arn": draw(st.sampled_from(["", CERTIFICATE.format(region=region)])) if https else "",
        "enable_autoscaling": autoscaling,
        "autoscaling_min": low,
        "autoscaling_max": high,
        "autoscaling_cpu_target": draw(st.integers(1, 100)),
        "autoscaling_requests_per_target": draw(st.integers(0, 100_000)),
        # Any share: the on-demand base (2) fits in every valid replica count and autoscaling minimum.
        "fargate_spot_percent": draw(st.integers(0, 100)),
        "enable_sticky_sessions": draw(st.booleans()),
        "sticky_duration_seconds": draw(st.integers(1, 604_800)),
        "deployment_strategy": draw(st.sampled_from(validation.DEPLOYMENT_STRATEGIES)),
    }


def outside(values: Any) -> Any:
    return st.integers(-(10**6), 10**6).filter(lambda value: value not in values)


INVALID: dict[str, Any] = {
    "replicas": st.one_of(st.integers(-100, 1), st.integers(1001, 10**6)),
    "cpu": outside(TABLE),
    "cpu_architecture": st.sampled_from(["x86_64", "ARM", "arm64", "AMD64", ""]),
    "networking": st.sampled_from(["private", "public", "nat", "PUBLIC-SUBNETS", ""]),
    "deployment_strategy": st.sampled_from(["blue_green", "BLUE_GREEN", "bluegreen", "Canary", "rolling-update", ""]),
    "az_count": outside(validation.AZ_COUNTS),
    "fargate_spot_percent": st.one_of(st.integers(-100, -1), st.integers(101, 10**6)),
    "aws_region": st.from_regex(r"[a-z]{2}-[a-z]{3,9}-[0-9]", fullmatch=True).filter(
        lambda region: region not in validation.AWS_REGIONS
    ),
    "container_port": st.one_of(st.integers(-100, 0), st.integers(65536, 10**6)),
    "health_check_path": st.sampled_from(["health", "/a b", "", "/x?y z", "//x y", "/x#y", "/x?\x01"]),
    "log_retention_days": outside(validation.LOG_RETENTION_DAYS),
    "domain_name": st.sampled_from(["-a.example.com", "a..example.com", "a_b.example.com", "com", "x" * 64 + ".com"]),
    "autoscaling_cpu_target": st.one_of(st.integers(-100, 0), st.integers(101, 10**4)),
    "autoscaling_requests_per_target": st.integers(-(10**6), -1),
    "sticky_duration_seconds": st.one_of(st.integers(-100, 0), st.integers(604_801, 10**8)),
    "certificate_arn": st.sampled_from(
        ["arn:aws:acm:us-east-1:1:certificate/x", "not-an-arn", "arn:aws:iam::1:role/x"]
    ),
}


@st.composite
def answers_with_one_invalid_field(draw: Any) -> tuple[str, dict[str, object]]:
    field = draw(st.sampled_from(sorted(INVALID)))
    return field, {**draw(valid_answers()), field: draw(INVALID[field])}


def generate(answers: dict[str, object], output: Path) -> Path:
    return Path(cookiecutter(str(TEMPLATE), no_input=True, extra_context=answers, output_dir=str(output)))


@pytest.mark.takes(30)
def test_valid_answers_generate_and_the_program_builds_them(cookies) -> None:
    stack_files: list[str] = []

    @EXAMPLES
    @given(valid_answers())
    def generates(answers: dict[str, object]) -> None:
        with tempfile.TemporaryDirectory() as output:
            project = generate(answers, Path(output))
            stack_file = (project / "Pulumi.dev.yaml").read_text()
        config = yaml.safe_load(stack_file)["config"]
        written = {key.split(":", 1)[1]: value for key, value in config.items() if not key.startswith("aws:")}
        assert validation.parse_settings({**written, "aws_region": config["aws:region"]}) == (
            validation.parse_settings(answers)
        )
        stack_files.append(stack_file)

    generates()
    # Every generated stack file, run through one generated project's program under mocks by that project's own
    # tests/test_stack_files.py (the policy pack, and every answer showing in the stack), in this process.
    host = bake(cookies)
    for index, stack_file in enumerate(stack_files):
        (host / f"Pulumi.example-{index}.yaml").write_text(stack_file)
    check_deployment(host)


@pytest.mark.takes(10)
def test_answers_with_one_invalid_field_are_refused_naming_it(capfd: pytest.CaptureFixture[str]) -> None:
    @EXAMPLES
    @given(answers_with_one_invalid_field())
    def refused(case: tuple[str, dict[str, object]]) -> None:
        field, answers = case
        output = Path(tempfile.mkdtemp())
        capfd.readouterr()
        with pytest.raises((FailedHookException, ValueError)) as refusal:
            generate(answers, output)
        errors = [line.removeprefix("error: ") for line in capfd.readouterr().err.splitlines() if "error: " in line]
        assert list(output.iterdir()) == []
        shutil.rmtree(output)
        if field in menus():
            assert refused_by_cookiecutter(field, refusal.value), refusal.value
        else:
            assert errors and all(error.startswith(f"{field}=") for error in errors), (field, errors)

    refused()
