"""The timing model and the README's figures: against the provider's defaults, ours detect a failure 4.5x and roll out
4x faster, but bring a crashed task back only 2.5x faster (the task's start, the same for both, dominates)."""

import re

import pytest
import yaml

from conftest import ROOT
from infra.timing import (
    Shift,
    model,
    provider_default_timing,
    release_markdown,
    release_seconds,
    traffic_schedule,
    update_timeout_minutes,
)
from infra.validation import (
    CI_DEPLOY_JOB_MINUTES,
    CI_SETUP_MINUTES,
    DEFAULTS,
    MAX_RELEASE_WAIT_MINUTES,
    InvalidSettings,
    parse_settings,
)


def default_timing() -> tuple[int, int, int]:
    ours = model(
        interval=int(str(DEFAULTS["health_check_interval_seconds"])),
        unhealthy_threshold=int(str(DEFAULTS["unhealthy_threshold"])),
        deregistration_delay=int(str(DEFAULTS["deregistration_delay_seconds"])),
    )
    return ours.detection, ours.replacement, ours.rolling_deploy


def test_model_follows_the_documented_formulas() -> None:
    # Rolling: start 30 + one check 10 + deregistration 30 + the old task's drain (2 + 1) x 10 and shutdown 20.
    timing = model(interval=10, unhealthy_threshold=2, deregistration_delay=30, graceful_shutdown=20)
    assert (timing.detection, timing.replacement, timing.rolling_deploy) == (20, 60, 120)
    # The provider's checks drain in (3 + 1) x 30 s; with the 20 s shutdown ECS's 120 s stop timeout cuts it.
    provider = provider_default_timing()
    assert (provider.detection, provider.replacement, provider.rolling_deploy) == (90, 150, 480)


def test_defaults_detect_and_roll_out_4x_faster_or_more_and_replace_a_crashed_task_2_5x_faster() -> None:
    detection, replacement, rolling_deploy = default_timing()
    provider = provider_default_timing()
    assert round(provider.detection / detection, 1) == 4.5
    assert round(provider.replacement / replacement, 1) == 2.5
    assert round(provider.rolling_deploy / rolling_deploy, 1) == 4.0


def test_readme_states_the_modelled_figures() -> None:
    readme = (ROOT / "README.md").read_text()
    provider = provider_default_timing()
    rows = zip(default_timing(), (provider.detection, provider.replacement, provider.rolling_deploy), strict=True)
    for ours, theirs in rows:
        assert re.search(rf"\| {ours} s \| {theirs} s \| {theirs / ours:.1f}x \|", readme), (ours, theirs)


@pytest.mark.parametrize(
    ("settings", "schedule"),
    [
        ({"deployment_strategy": "rolling"}, []),
        ({"deployment_strategy": "blue-green", "deployment_bake_minutes": 7}, [Shift(100.0, 7)]),
        (
            {"deployment_strategy": "canary", "canary_percent": 2.5, "canary_bake_minutes": 4},
            [Shift(2.5, 4), Shift(100.0, 5)],
        ),
        (
            {"deployment_strategy": "linear", "linear_step_percent": 30, "linear_step_bake_minutes": 2},
            [Shift(30.0, 2), Shift(60.0, 2), Shift(90.0, 2), Shift(100.0, 5)],  # no step bake at 100 %
        ),
        ({"deployment_strategy": "linear", "linear_step_percent": 100}, [Shift(100.0, 5)]),
        (
            {"deployment_strategy": "linear", "linear_step_percent": 33.3},
            [Shift(33.3, 3), Shift(66.6, 3), Shift(99.9, 3), Shift(100.0, 5)],
        ),
    ],
)
def test_traffic_schedule_follows_the_strategy(settings: dict[str, object], schedule: list[Shift]) -> None:
    assert traffic_schedule(parse_settings(settings)) == schedule


@pytest.mark.parametrize(
    ("strategy", "seconds", "timeout"),
    [
        # start 30 + one check 10 + deregistration 30 + the old task's drain 30 and shutdown 20; the provider's timeout
        ("rolling", 120, 20),
        ("blue-green", 420, 27),  # + bake 5 min
        ("canary", 720, 32),  # + canary 5 min + bake 5 min
        ("linear", 960, 36),  # + 3 steps x 3 min before 100 % + bake 5 min
    ],
)
def test_release_time_and_the_wait_for_it(strategy: str, seconds: int, timeout: int) -> None:
    settings = parse_settings({"deployment_strategy": strategy})
    assert release_seconds(settings) == seconds
    assert update_timeout_minutes(settings) == timeout


def test_readme_states_the_release_times_of_its_stack() -> None:
    readme = (ROOT / "README.md").read_text()
    stack = re.search(r"<!-- diagram of stack (\S+):", readme)
    assert stack
    config = yaml.safe_load((ROOT / f"Pulumi.{stack[1]}.yaml").read_text())["config"]
    settings = {key.split(":", 1)[1]: value for key, value in config.items() if not key.startswith("aws:")}
    assert release_markdown(parse_settings({**settings, "aws_region": config["aws:region"]})) in readme


def test_the_ci_deploy_job_lasts_as_long_as_the_release_rule_assumes() -> None:
    # infra/validation.py refuses a release whose `pulumi up` wait would not fit this job, and its credentials.
    deploy = yaml.safe_load((ROOT / ".github/workflows/deploy.yml").read_text())
    job = deploy["jobs"]["up"]
    [credentials] = [step for step in job["steps"] if "configure-aws-credentials" in step.get("uses", "")]
    assert job["timeout-minutes"] == CI_DEPLOY_JOB_MINUTES
    assert credentials["with"]["role-duration-seconds"] == CI_DEPLOY_JOB_MINUTES * 60
    assert MAX_RELEASE_WAIT_MINUTES + CI_SETUP_MINUTES <= CI_DEPLOY_JOB_MINUTES


@pytest.mark.parametrize("strategy", ["blue-green", "canary", "linear"])
def test_the_longest_release_the_rules_allow_fits_the_ci_deploy_job(strategy: str) -> None:
    longest = {"deployment_strategy": strategy, "deployment_bake_minutes": 0}
    bake = 0
    while True:  # raise the final bake until the rules refuse it
        try:
            settings = parse_settings({**longest, "deployment_bake_minutes": bake + 1})
        except InvalidSettings as refused:
            assert "shorten the bakes" in str(refused)
            break
        bake += 1
    settings = parse_settings({**longest, "deployment_bake_minutes": bake})
    assert update_timeout_minutes(settings) == MAX_RELEASE_WAIT_MINUTES
