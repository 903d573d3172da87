"""Modelled rollout, self-healing and release times of the generated stack's defaults against the provider's defaults.

The model and the defaults are the generated project's own (infra/timing.py, infra/validation.py). The last lines
printed are what the README's Figures section quotes (tests/test_readme_figures.py keeps them equal).
Usage: .venv/bin/python bench/deploy_model.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "{{cookiecutter.project_slug}}"))
if not sys.pycache_prefix:  # a .pyc inside the template would be rendered into every project
    sys.dont_write_bytecode = True
from infra.timing import (
    API_DEFAULTS,
    PROVIDER_DEFAULTS,
    PROVIDER_UPDATE_TIMEOUT_MINUTES,
    TASK_START_SECONDS,
    model,
    provider_default_timing,
    release_seconds,
    update_timeout_minutes,
)
from infra.validation import DEFAULTS, DEPLOYMENT_STRATEGIES, parse_settings

PHASES = [
    ("failure detection", "detection"),
    ("replacement after a crash", "replacement"),
    ("rolling deploy", "rolling_deploy"),
]
PROVIDER_RELEASE_SETTINGS = {
    "health_check_interval_seconds": PROVIDER_DEFAULTS["interval"],
    "deregistration_delay_seconds": PROVIDER_DEFAULTS["deregistration_delay"],
    "canary_percent": API_DEFAULTS["canary_percent"],
    "canary_bake_minutes": API_DEFAULTS["canary_bake_minutes"],
    "linear_step_percent": API_DEFAULTS["linear_step_percent"],
    "linear_step_bake_minutes": API_DEFAULTS["linear_step_bake_minutes"],
    # The 30 s interval drains more slowly than the stop timeout allows (a rule); release times do not depend on it.
    "stop_timeout_seconds": 120,
}


def figures() -> list[tuple[str, int, int]]:
    """(phase, seconds with the template's defaults, seconds with the provider's defaults)."""
    ours = model(
        interval=int(str(DEFAULTS["health_check_interval_seconds"])),
        unhealthy_threshold=int(str(DEFAULTS["unhealthy_threshold"])),
        deregistration_delay=int(str(DEFAULTS["deregistration_delay_seconds"])),
    )
    theirs = provider_default_timing()
    return [(label, getattr(ours, field), getattr(theirs, field)) for label, field in PHASES]


def releases() -> list[tuple[str, int, int, int]]:
    """(strategy, seconds with the template's defaults, seconds with the provider's, `pulumi up`'s timeout minutes)."""
    rows = []
    for strategy in DEPLOYMENT_STRATEGIES:
        ours = parse_settings({"deployment_strategy": strategy})
        theirs = parse_settings({"deployment_strategy": strategy, **PROVIDER_RELEASE_SETTINGS})
        rows.append((strategy, release_seconds(ours), release_seconds(theirs), update_timeout_minutes(ours)))
    return rows


def readme_sentence() -> str:
    (first, mine, default), *rest = figures()
    phases = [f"{first} {mine} s against the provider defaults' {default} s ({default / mine:.1f}x)"]
    phases += [f"{label} {mine} s against {default} s ({default / mine:.1f}x)" for label, mine, default in rest]
    staged = [row for row in releases() if row[0] != "rolling"]
    *firsts, last = [f"{timeout}" for *_, timeout in staged]
    return (
        f"`bench/deploy_model.py`: {', '.join(phases)}. Releases with their bakes: "
        + ", ".join(f"{strategy} {mine:,} s against {default:,} s" for strategy, mine, default, _ in staged)
        + f" (the ECS API's canary {API_DEFAULTS['canary_percent']:g} %/{API_DEFAULTS['canary_bake_minutes']} min"
        + f" and linear {API_DEFAULTS['linear_step_percent']:g} %/{API_DEFAULTS['linear_step_bake_minutes']} min);"
        + f" `pulumi up` waits {', '.join(firsts)} and {last} minutes for them instead of the provider's"
        + f" {PROVIDER_UPDATE_TIMEOUT_MINUTES}."
    )


def main() -> None:
    print(f"task start assumed: {TASK_START_SECONDS} s for both")
    print(f"{'':28}{'template':>10}{'provider':>10}{'ratio':>8}")
    for label, mine, default in figures():
        print(f"{label:28}{mine:>8} s{default:>8} s{default / mine:>7.1f}x")
    print()
    print("release, bakes included (provider column: interval 30 s, deregistration 300 s, the ECS API's canary and")
    print("linear defaults; the final bake is the template's for both); `pulumi up` waits the template's timeout")
    print(f"{'':28}{'template':>10}{'provider':>10}{'ratio':>8}{'timeout':>10}")
    for strategy, mine, default, timeout in releases():
        print(f"{strategy:28}{mine:>8} s{default:>8} s{default / mine:>7.1f}x{timeout:>7} min")
    print(f"\n{readme_sentence()}")


if __name__ == "__main__":
    main()
