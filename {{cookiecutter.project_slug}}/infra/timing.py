"""The deploy timing model: how fast a failing task is noticed and replaced, and how long a release takes.

With health-check interval I, unhealthy threshold U, deregistration delay D, graceful shutdown G and task start T
(image pull plus app start, the same for every stack compared): detection = U x I; replacement after a crash =
U x I + T + I (a new target needs one passing check); rolling deploy at maximum 200 % = T + I + D + S, where S, the
old task's stop sequence after its SIGTERM, is the drain (U + 1) x I plus G, cut at Fargate's 120 s stop timeout.

The other strategies start the new revision's tasks beside the old (T + I), then move production traffic by the
schedule below, holding each share for its bake time, and stop the old tasks after the last bake (D):
release = T + I + the schedule's bake minutes x 60 + D + S. ECS waits no bake after a linear step that reaches 100 %:
the final bake (deployment_bake_minutes) follows instead.
"""

import dataclasses
from dataclasses import dataclass

from infra import validation
from infra.validation import (
    DEPLOYMENT_STRATEGIES,
    PROVIDER_UPDATE_TIMEOUT_MINUTES,
    TASK_START_SECONDS,
    TIMEOUT_MARGIN_MINUTES,
    Settings,
    Shift,
    stop_sequence_seconds,
)

__all__ = ["PROVIDER_UPDATE_TIMEOUT_MINUTES", "TASK_START_SECONDS", "TIMEOUT_MARGIN_MINUTES", "Shift"]

# What the provider leaves in place when a stack does not set them (Pulumi's container template and awsx do not).
PROVIDER_DEFAULTS = {"interval": 30, "unhealthy_threshold": 3, "deregistration_delay": 300}
# Both columns run the same app, so the same graceful shutdown; the drain follows each column's health checks.
APP_GRACEFUL_SHUTDOWN_SECONDS = int(str(validation.DEFAULTS["graceful_shutdown_seconds"]))
# The ECS API's own defaults when a strategy's settings are left out (API_CanaryConfiguration,
# API_LinearConfiguration); bake_time_in_minutes has none documented, so the comparison uses ours.
API_DEFAULTS = {
    "canary_percent": 5.0,
    "canary_bake_minutes": 10,
    "linear_step_percent": 10.0,
    "linear_step_bake_minutes": 6,
}


@dataclass(frozen=True)
class Timing:
    detection: int
    replacement: int
    rolling_deploy: int


def model(
    interval: int,
    unhealthy_threshold: int,
    deregistration_delay: int,
    graceful_shutdown: int = APP_GRACEFUL_SHUTDOWN_SECONDS,
) -> Timing:
    detection = unhealthy_threshold * interval
    stop = stop_sequence_seconds(interval, unhealthy_threshold, graceful_shutdown)
    return Timing(
        detection=detection,
        replacement=detection + TASK_START_SECONDS + interval,
        rolling_deploy=TASK_START_SECONDS + interval + deregistration_delay + stop,
    )


def provider_default_timing() -> Timing:
    return model(**PROVIDER_DEFAULTS)


# The arithmetic lives in infra/validation.py, whose rule keeps a release inside the CI deploy job; these take Settings.


def traffic_schedule(settings: Settings) -> list[Shift]:
    """How ECS moves production traffic to the new revision for the stack's strategy (none for rolling)."""
    return validation.traffic_schedule(dataclasses.asdict(settings))


def release_seconds(settings: Settings) -> int:
    """Modelled time from `pulumi up` starting the deployment to the old revision stopped."""
    return validation.release_seconds(dataclasses.asdict(settings))


def update_timeout_minutes(settings: Settings) -> int:
    """How long `pulumi up` waits for the service: the modelled release, rounded up to minutes, plus the margin."""
    return validation.update_timeout_minutes(dataclasses.asdict(settings))


def _duration(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{seconds} s" if minutes == 0 else f"{minutes} min {rest} s" if rest else f"{minutes} min"


def _schedule_text(schedule: list[Shift]) -> str:
    if not schedule:
        return "tasks replaced as they pass health checks"
    if len(schedule) > 2:
        first, last = schedule[0], schedule[-1]
        return f"{first.new_percent:g} % more every {first.bake_minutes} min, then 100 % for {last.bake_minutes} min"
    return ", then ".join(f"{shift.new_percent:g} % for {shift.bake_minutes} min" for shift in schedule)


def release_markdown(settings: Settings) -> str:
    """Each strategy's modelled release time for this stack's settings and with the provider's and API's defaults."""
    provider = dataclasses.replace(
        settings,
        health_check_interval_seconds=PROVIDER_DEFAULTS["interval"],
        deregistration_delay_seconds=PROVIDER_DEFAULTS["deregistration_delay"],
        canary_percent=API_DEFAULTS["canary_percent"],
        canary_bake_minutes=int(API_DEFAULTS["canary_bake_minutes"]),
        linear_step_percent=API_DEFAULTS["linear_step_percent"],
        linear_step_bake_minutes=int(API_DEFAULTS["linear_step_bake_minutes"]),
    )
    rows = []
    for strategy in DEPLOYMENT_STRATEGIES:
        ours = dataclasses.replace(settings, deployment_strategy=strategy)
        theirs = dataclasses.replace(provider, deployment_strategy=strategy)
        label = f"**{strategy}** (this stack)" if strategy == settings.deployment_strategy else strategy
        rows.append(
            f"| {label} | {_schedule_text(traffic_schedule(ours))} | {_duration(release_seconds(ours))} "
            f"| {_schedule_text(traffic_schedule(theirs))} | {_duration(release_seconds(theirs))} |"
        )
    return "\n".join(
        [
            "| strategy | traffic to the new revision | release | with provider and API defaults | release |",
            "|---|---|---|---|---|",
            *rows,
        ]
    )


def stopped_task_replacement_seconds(settings: Settings) -> int:
    """A task stopped through the ECS API (not crashed) is replaced at once: task start plus one passing check."""
    timing = model(
        settings.health_check_interval_seconds,
        settings.unhealthy_threshold,
        settings.deregistration_delay_seconds,
        settings.graceful_shutdown_seconds,
    )
    return timing.replacement - timing.detection


# `make acceptance` in CI (.github/workflows/acceptance.yml; a test keeps the workflow equal to these). The run step:
# two `pulumi up`s (the copy's creation and the release), each bounded like the deploy job by the release rule in
# infra/validation.py, the checks (the self-healing wait and the alarms' wait are their longest parts), and its own
# destroy. The job adds its setup steps (checkout, Python, the Pulumi CLI, `make install`), which run under the same
# credentials; a separate cleanup job (not cancelled with the run) destroys again whatever the run left.
ACCEPTANCE_CHECK_MINUTES = 20
ACCEPTANCE_DESTROY_MINUTES = 40
ACCEPTANCE_SETUP_MINUTES = 15


def acceptance_run_minutes() -> int:
    return 2 * validation.CI_DEPLOY_JOB_MINUTES + ACCEPTANCE_CHECK_MINUTES + ACCEPTANCE_DESTROY_MINUTES


def acceptance_job_minutes() -> int:
    return ACCEPTANCE_SETUP_MINUTES + acceptance_run_minutes()


def acceptance_cleanup_job_minutes() -> int:
    return ACCEPTANCE_SETUP_MINUTES + ACCEPTANCE_DESTROY_MINUTES


# What a typical `make acceptance` run spends outside the release, for the README's cost of a run (estimates for a
# small image, not measured here: the report of a real run has the real figures). Creating the copy waits for NAT
# gateways, the ALB, a DNS-validated certificate when HTTPS is on, and the service's first steady state.
TYPICAL_CREATE_MINUTES = 15
TYPICAL_CHECK_MINUTES = 5
TYPICAL_DESTROY_MINUTES = 10


def typical_acceptance_minutes(settings: Settings) -> int:
    release = -(-release_seconds(settings) // 60)
    return TYPICAL_CREATE_MINUTES + TYPICAL_CHECK_MINUTES + release + TYPICAL_DESTROY_MINUTES
