"""Answers at generation: the prompts' defaults are the program's, and bad answers are refused with nothing left."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import BIN, TEMPLATE, bake, defaults, menus, printed_command, project_module

VALIDATION = project_module("infra/validation.py")
ANSWER_DEFAULTS = VALIDATION.ANSWER_DEFAULTS

PROJECT_FIELDS = {"project_name", "project_slug", "description", "stack_name"}


def generate(tmp_path: Path, *answers: str) -> subprocess.CompletedProcess[str]:
    """The real cookiecutter CLI, non-interactive, into an empty folder."""
    command = [str(BIN / "cookiecutter"), "--no-input", "--output-dir", str(tmp_path), str(TEMPLATE), *answers]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def our_errors(stderr: str) -> list[str]:
    return [line.removeprefix("error: ") for line in stderr.splitlines() if line.startswith("error: ")]


def test_prompt_defaults_are_the_program_defaults() -> None:
    asked = {k: v for k, v in defaults().items() if not k.startswith("_") and k not in PROJECT_FIELDS}
    # A menu's default is its first entry.
    offered = {k: str(v[0] if isinstance(v, list) else v) for k, v in asked.items()}
    assert offered == {k: str(v) for k, v in ANSWER_DEFAULTS.items()}


# Each menu of cookiecutter.json and the validation module's tuple of the values it allows.
MENU_VALUES = {
    "cpu_architecture": VALIDATION.CPU_ARCHITECTURES,
    "networking": VALIDATION.NETWORKING_MODES,
    "deployment_strategy": VALIDATION.DEPLOYMENT_STRATEGIES,
}


def test_every_menu_offers_exactly_what_the_program_allows() -> None:
    assert menus() == MENU_VALUES.keys()
    for field, allowed in MENU_VALUES.items():
        assert tuple(defaults()[field]) == allowed, field


def test_every_question_has_a_readable_prompt() -> None:
    asked = [k for k in defaults() if not k.startswith("_")]
    assert sorted(defaults()["__prompts__"]) == sorted(asked)


def test_prompts_quote_the_prices_of_the_cost_estimate() -> None:
    """What a question says an answer costs is what the generated README's estimate computes (infra/cost.py)."""
    cost = project_module("infra/cost.py")
    month = cost.HOURS_PER_MONTH
    vcpu, gib = cost.FARGATE_PER_VCPU_HOUR, cost.FARGATE_PER_GB_HOUR
    nat = f"${cost.NAT_GATEWAY_PER_HOUR * month:.0f}/month"
    quoted = {
        "cpu_architecture": [f"{1 - vcpu['ARM64'] / vcpu['X86_64']:.0%} cheaper"],
        "cpu": [f"${vcpu['X86_64'] * month:.0f}/month per 1024"],
        "memory": [f"${gib['X86_64'] * month:.2f}/month per 1024"],
        "replicas": [f"256/512 on X86_64: ${(vcpu['X86_64'] / 4 + gib['X86_64'] / 2) * month:.0f}/month"],
        "networking": [
            f"({nat} each)",
            f"({nat};",
            f"(${cost.PUBLIC_IPV4_PER_HOUR * month:.2f}/month each;",
            f"(${cost.INTERFACE_ENDPOINT_PER_ZONE_HOUR * month:.2f}/month each per zone)",
        ],
        "az_count": [f"adds {nat}"],
        "enable_waf": [
            f"${cost.WAF_WEB_ACL_PER_MONTH + cost.WAF_RULES * cost.WAF_RULE_PER_MONTH:.0f}/month",
            f"${cost.WAF_PER_MILLION_REQUESTS:.2f} per million requests",
        ],
        "fargate_spot_percent": [
            f"about {cost.FARGATE_SPOT_DISCOUNT_ASSUMED:.0%} cheaper",
            f"on-demand base of {VALIDATION.DEFAULTS['fargate_on_demand_base']} ",
        ],
    }
    prompts = defaults()["__prompts__"]
    for field, prices in quoted.items():
        for price in prices:
            assert price in str(prompts[field]), (field, price)


def test_the_ranges_prompts_list_are_the_ranges_the_rules_allow() -> None:
    ranged = {key: re.search(r"(\d+)\.\.(\d+)", str(prompt)) for key, prompt in defaults()["__prompts__"].items()}
    ranges = {key: (int(found[1]), int(found[2])) for key, found in ranged.items() if found and key != "memory"}
    assert ranges  # memory's prompt lists examples per CPU, not one range
    for field, (low, high) in ranges.items():
        for value, allowed in [(low - 1, False), (low, True), (high, True), (high + 1, False)]:
            errors = VALIDATION.check_answers(
                {"project_name": "x", "project_slug": "x", "stack_name": "dev", **ANSWER_DEFAULTS, field: value}
            )
            out_of_range = any(error.startswith(f"{field}={value} is out of range") for error in errors)
            assert out_of_range != allowed, (field, value, errors)


def test_bad_answers_are_refused_together_and_nothing_is_left(tmp_path: Path) -> None:
    done = generate(tmp_path, "replicas=1", "memory=4096", "aws_region=eu-wset-1")
    assert done.returncode != 0
    assert list(tmp_path.iterdir()) == []
    assert our_errors(done.stderr) == [
        "aws_region=eu-wset-1 is not a known AWS region code: did you mean eu-west-1, us-west-1 or eu-west-3?",
        "replicas=1 is out of range (one replica is not highly available: a crash or deploy takes the service "
        "down): use 2..1000",
        "memory=4096 is not valid with cpu=256: choose 512, 1024 or 2048 (or raise cpu to 512)",
    ]


def test_a_value_outside_a_menu_on_the_command_line_is_refused_naming_the_field(tmp_path: Path) -> None:
    """Cookiecutter refuses it itself, before any hook runs (docs/design-decisions.md): its last line names it."""
    done = generate(tmp_path, "cpu_architecture=arm64")
    assert done.returncode != 0
    assert list(tmp_path.iterdir()) == []
    assert done.stderr.splitlines()[-1] == (
        "ValueError: arm64 provided for choice variable cpu_architecture, but the choices are ['X86_64', 'ARM64']."
    )


PAYLOAD = "x'); import os; os.system('touch {marker}') #"


@pytest.mark.parametrize("field", ["project_name", "description", "domain_name", "health_check_path"])
def test_an_injected_payload_in_an_answer_is_never_executed(tmp_path: Path, field: str) -> None:
    marker = tmp_path / "executed"
    output = tmp_path / "out"
    output.mkdir()
    done = generate(output, f"{field}={PAYLOAD.format(marker=marker)}")
    assert not marker.exists()
    if field in ("project_name", "description"):  # free text: generated, the payload kept as plain text
        assert done.returncode == 0, done.stderr
        readme = next(output.iterdir()) / "README.md"
        assert "os.system(" in readme.read_text()
    else:  # refused by validation, naming the field
        assert done.returncode != 0
        assert our_errors(done.stderr)[0].startswith(f"{field}=x'); import os")


SHELL_PAYLOAD = "x'\"; touch {marker}; $(touch {marker}) `touch {marker}` {marker} \\"


def test_an_injected_payload_never_runs_from_the_command_printed_to_run_again(
    tmp_path: Path, user_env: dict[str, str]
) -> None:
    """The command a refused run prints, pasted into sh, runs no payload, and once fixed gives every answer back
    exactly."""
    marker = tmp_path / "executed"
    payload = PAYLOAD.format(marker=marker) + SHELL_PAYLOAD.format(marker=marker)
    fields = ["project_name", "description", "domain_name", "health_check_path"]
    answers = [f"{field}={payload}" for field in fields]
    done = subprocess.run(
        [str(BIN / "cookiecutter"), "--no-input", str(TEMPLATE), *answers, "replicas=1"],
        cwd=tmp_path,
        env=user_env,
        capture_output=True,
        text=True,
    )
    assert sorted(error.split("=")[0] for error in our_errors(done.stderr)) == [
        "domain_name",
        "health_check_path",
        "replicas",
    ]
    command = printed_command(done.stderr).splitlines()

    pasted = subprocess.run(["sh", "-c", "\n".join(command)], cwd=tmp_path, env=user_env, capture_output=True)
    assert pasted.returncode != 0
    assert not marker.exists()

    fixed = [*command[:-1], "    health_check_path=/health replicas=2 domain_name=''"]
    pasted = subprocess.run(["sh", "-c", "\n".join(fixed)], cwd=tmp_path, env=user_env, capture_output=True, text=True)
    assert pasted.returncode == 0, pasted.stderr
    assert not marker.exists()
    [project] = [path for path in tmp_path.iterdir() if (path / "README.md").exists()]
    readme = (project / "README.md").read_text()
    assert f"# {payload}\n\n{payload}\n" in readme


def test_a_long_project_name_gets_a_slug_within_limits(tmp_path: Path) -> None:
    done = generate(tmp_path, "project_name=Payments Platform Team Customer Notifications Service")
    assert done.returncode == 0, done.stderr
    [project] = tmp_path.iterdir()
    assert project.name == "payments-platform-team-customer-notifica"


QUERY_PATH = "/health?full=1&x=%2F"


def test_a_health_check_path_with_a_query_reaches_every_consumer_unchanged(cookies) -> None:
    project = bake(cookies, health_check_path=QUERY_PATH)
    # `make run`: the shell gets the path as one word (an unquoted & would start a background job).
    dry_run = subprocess.run(["make", "-n", "run"], cwd=project, capture_output=True, text=True, check=True).stdout
    [line] = [line for line in dry_run.splitlines() if line.startswith("cd app &&")]
    shown = subprocess.run(
        ["sh", "-c", re.sub(r"\S+ server\.py$", "printenv HEALTH_CHECK_PATH", line)],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.strip() == QUERY_PATH
    compose = yaml.safe_load((project / "compose.yaml").read_text())
    assert compose["services"]["app"]["environment"]["HEALTH_CHECK_PATH"] == QUERY_PATH
    assert f"option httpchk GET {QUERY_PATH}\n" in (project / "local/haproxy.cfg").read_text()
    if shutil.which("haproxy"):
        subprocess.run(["haproxy", "-c", "-f", "local/haproxy.cfg"], cwd=project, capture_output=True, check=True)


def test_the_options_page_names_every_setting() -> None:
    options = (TEMPLATE / "docs" / "options.md").read_text()
    assert [key for key in VALIDATION.DEFAULTS if f"`{key}`" not in options] == []
