"""Modelled rollout and self-healing times of the generated stack's defaults against the provider's defaults.

The model and the defaults are the generated project's own (infra/timing.py, infra/validation.py).
Usage: .venv/bin/python bench/deploy_model.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "{{cookiecutter.project_slug}}"))
sys.dont_write_bytecode = True  # a .pyc inside the template would be rendered into every project
from infra.timing import TASK_START_SECONDS, model, provider_default_timing  # noqa: E402
from infra.validation import DEFAULTS  # noqa: E402


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


if __name__ == "__main__":
    main()
