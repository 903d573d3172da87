"""Modelled rollout, self-healing and release times of the generated stack's defaults against the provider's defaults.

The model and the defaults are the generated project's own (infra/timing.py, infra/validation.py).
Usage: .venv/bin/python bench/deploy_model.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "{{cookiecutter.project_slug}}"))
sys.dont_write_bytecode = True  # a .pyc inside the template would be rendered into every project
from infra.timing import (  # noqa: E402
    API_DEFAULTS,
    PROVIDER_DEFAULTS,
    TASK_START_SECONDS,
    model,
    provider_default_timing,
    release_seconds,
    update_timeout_minutes,
)
from infra.validation import DEFAULTS, DEPLOYMENT_STRATEGIES, parse_settings  # noqa: E402


def main() -> None:
    ours = model(
        interval=int(str(DEFAULTS["health_check_interval_seconds"])),
        unhealthy_threshold=int(str(DEFAULTS["unhealthy_threshold"])),
        deregistration_delay=int(str(DEFAULTS["deregistration_delay_seconds"])),
    )
    theirs = provider_default_timing()
    print(f"task start assumed: {TASK_START_SECONDS} s for both")
    print(f"{'':28}{'template':>10}{'provider':>10}{'ratio':>8}")
    for label, field in [
        ("failure detection", "detection"),
        ("replacement after a crash", "replacement"),
        ("rolling deploy", "rolling_deploy"),
    ]:
        mine, default = getattr(ours, field), getattr(theirs, field)
        print(f"{label:28}{mine:>8} s{default:>8} s{default / mine:>7.1f}x")
    print()
    print("release, bakes included (provider column: interval 30 s, deregistration 300 s, the ECS API's canary and")
    print("linear defaults; the final bake is the template's for both); `pulumi up` waits the template's timeout")
    print(f"{'':28}{'template':>10}{'provider':>10}{'ratio':>8}{'timeout':>10}")
    provider = {
        "health_check_interval_seconds": PROVIDER_DEFAULTS["interval"],
        "deregistration_delay_seconds": PROVIDER_DEFAULTS["deregistration_delay"],
        "canary_percent": API_DEFAULTS["canary_percent"],
        "canary_bake_minutes": API_DEFAULTS["canary_bake_minutes"],
        "linear_step_percent": API_DEFAULTS["linear_step_percent"],
        "linear_step_bake_minutes": API_DEFAULTS["linear_step_bake_minutes"],
    }
    for strategy in DEPLOYMENT_STRATEGIES:
        mine_settings = parse_settings({"deployment_strategy": strategy})
        mine = release_seconds(mine_settings)
        default = release_seconds(parse_settings({"deployment_strategy": strategy, **provider}))
        timeout = update_timeout_minutes(mine_settings)
        print(f"{strategy:28}{mine:>8} s{default:>8} s{default / mine:>7.1f}x{timeout:>7} min")


if __name__ == "__main__":
    main()
