"""The timing model and the README's figures: against the provider's defaults, ours detect a failure 4.5x and roll out
5.1x faster, but bring a crashed task back only 2.5x faster (the task's start, the same for both, dominates)."""

import re

from conftest import ROOT
from infra.timing import model, provider_default_timing
from infra.validation import DEFAULTS


def default_timing() -> tuple[int, int, int]:
    ours = model(
        interval=int(str(DEFAULTS["health_check_interval_seconds"])),
        unhealthy_threshold=int(str(DEFAULTS["unhealthy_threshold"])),
        deregistration_delay=int(str(DEFAULTS["deregistration_delay_seconds"])),
    )
    return ours.detection, ours.replacement, ours.rolling_deploy


def test_model_follows_the_documented_formulas() -> None:
    timing = model(interval=10, unhealthy_threshold=2, deregistration_delay=30)
    assert (timing.detection, timing.replacement, timing.rolling_deploy) == (20, 60, 70)
    provider = provider_default_timing()
    assert (provider.detection, provider.replacement, provider.rolling_deploy) == (90, 150, 360)


def test_defaults_detect_and_roll_out_over_4x_faster_and_replace_a_crashed_task_2_5x_faster() -> None:
    detection, replacement, rolling_deploy = default_timing()
    provider = provider_default_timing()
    assert round(provider.detection / detection, 1) == 4.5
    assert round(provider.replacement / replacement, 1) == 2.5
    assert round(provider.rolling_deploy / rolling_deploy, 1) == 5.1


def test_readme_states_the_modelled_figures() -> None:
    readme = (ROOT / "README.md").read_text()
    provider = provider_default_timing()
    rows = zip(default_timing(), (provider.detection, provider.replacement, provider.rolling_deploy), strict=True)
    for ours, theirs in rows:
        assert re.search(rf"\| {ours} s \| {theirs} s \| {theirs / ours:.1f}x \|", readme), (ours, theirs)
