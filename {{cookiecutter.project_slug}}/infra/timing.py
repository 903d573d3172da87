"""The deploy timing model: how fast a failing task is noticed and replaced, and how long a rolling deploy takes.

With health-check interval I, unhealthy threshold U, deregistration delay D and task start T (image pull plus app
start, the same for every stack compared): detection = U x I; replacement after a crash = U x I + T + I (a new
target needs one passing check); rolling deploy at maximum 200 % = T + I + D.
"""

from dataclasses import dataclass

TASK_START_SECONDS = 30  # a small image pulled and started on Fargate
# What the provider leaves in place when a stack does not set them (Pulumi's container template and awsx do not).
PROVIDER_DEFAULTS = {"interval": 30, "unhealthy_threshold": 3, "deregistration_delay": 300}


@dataclass(frozen=True)
class Timing:
    detection: int
    replacement: int
    rolling_deploy: int


def model(interval: int, unhealthy_threshold: int, deregistration_delay: int) -> Timing:
    detection = unhealthy_threshold * interval
    return Timing(
        detection=detection,
        replacement=detection + TASK_START_SECONDS + interval,
        rolling_deploy=TASK_START_SECONDS + interval + deregistration_delay,
    )


def provider_default_timing() -> Timing:
    return model(**PROVIDER_DEFAULTS)
