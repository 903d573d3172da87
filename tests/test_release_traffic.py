"""Blue/green, canary and linear releases on a real load balancer: two target groups of the generated app behind
HAProxy, whose rule weights are rewritten the way ECS rewrites the ALB's, on the schedule of the project's own
timing model, under wrk load.

1. The test route (the stack's header) reaches only the new revision while production stays on the old.
2. A canary sends its configured share to the new revision, then all of it; a linear release steps as configured.
3. A rollback returns all traffic to the old revision.
No request fails at any step. Shares are measured from HAProxy's per-group response counters and must be within
TOLERANCE percentage points of the schedule.
4. `make acceptance`'s release measurement (scripts/acceptance_checks.py) gets the same answer from the outside: its
   paced client (httpx) reads which revision answered each request (the app's `release`), a watcher polls the
   production rule's weight: the shares rise with the weight, no traffic before and all after are within
   TOLERANCE_OUTSIDE, 0 failed (a partial weight is only required to reach both revisions: a client on a loaded
   machine reads it late; the balancer's own counters hold it to TOLERANCE).
"""

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cluster import Load
from conftest import PROJECT_TEMPLATE, project_module
from release_cluster import ReleaseCluster, Revisions, replica_behind

VALIDATION = project_module("infra/validation.py")
TIMING = project_module("infra/timing.py")
REPLICAS = 2
SECONDS_PER_BAKE_MINUTE = 1.0  # the schedule's minutes, run as seconds
TOLERANCE = 3.0
# Seen from outside, as on AWS: a client that reads the weight every 0.1 s and sends up to 100 requests a second (fewer
# on a busy machine: 40 a step at worst measured), so a few requests of each step fall beside the weight read for them.
# Under half the 25-point linear step: each measured share is nearest its own step.
TOLERANCE_OUTSIDE = 12.0
sys.path.append(str(PROJECT_TEMPLATE / "scripts"))  # the acceptance checks import verify.py as a sibling
CHECKS = project_module("scripts/acceptance_checks.py")
pytestmark = pytest.mark.skipif(
    not (shutil.which("haproxy") and shutil.which("wrk")) and os.environ.get("CI") != "true",
    reason="needs haproxy and wrk (apt-get install haproxy wrk)",
)


@pytest.fixture(scope="module")
def revisions(default_project: Path) -> Iterator[Revisions]:
    started = Revisions(default_project / "app", REPLICAS)
    yield started
    started.stop()


def release(cluster: ReleaseCluster, schedule: list[Any]) -> list[tuple[float, float, int]]:
    """Shift production traffic step by step, holding each for its bake: (scheduled, measured share, responses)."""
    measured = []
    for shift in schedule:
        cluster.shift("production", shift.new_percent)
        share, responses = cluster.share_while(shift.bake_minutes * SECONDS_PER_BAKE_MINUTE)
        measured.append((shift.new_percent, share, responses))
    return measured


def start_green_and_test_it(cluster: ReleaseCluster, url: str) -> tuple[set[str], float]:
    """ECS's first stages: the new revision's tasks start in the empty group, then the test rule points at them."""
    cluster.register("green")
    cluster.wait_healthy("green")
    cluster.shift("test", 100)
    header, value = cluster.test_header
    tested = {replica_behind(url, {header: value}) for _ in range(20)}
    production_share, _ = cluster.share_while(0.6)
    return tested, production_share


@pytest.mark.takes(15)
@pytest.mark.parametrize(
    "settings",
    [
        {"deployment_strategy": "canary", "canary_percent": 20, "canary_bake_minutes": 2, "deployment_bake_minutes": 1},
        {
            "deployment_strategy": "linear",
            "linear_step_percent": 25,
            "linear_step_bake_minutes": 1,
            "deployment_bake_minutes": 1,
        },
    ],
    ids=["canary", "linear"],
)
def test_release_moves_traffic_as_scheduled_and_fails_no_request(
    revisions: Revisions, settings: dict[str, object]
) -> None:
    parsed = VALIDATION.parse_settings(settings)
    schedule = TIMING.traffic_schedule(parsed)
    with ReleaseCluster(revisions, parsed.test_header) as cluster:
        url = f"http://127.0.0.1:{cluster.port}/"
        load = Load(url)
        before, _ = cluster.share_while(0.6)
        tested, during_test = start_green_and_test_it(cluster, url)
        with (
            CHECKS.PacedLoad(url, requests_per_second=100, connections=8) as paced,
            CHECKS.WeightWatcher(cluster.new_percent, poll_seconds=0.1) as watcher,
        ):
            measured = release(cluster, schedule)
        cluster.deregister("blue")  # after the final bake ECS takes the old revision out, then stops it
        after, _ = cluster.share_while(0.6)
        result = load.stop()
    outside = CHECKS.shares_by_step(paced.samples, watcher.changes, "green", settle=0.3)
    assert [weight for weight, _, _ in outside] == [0.0] * (outside[0][0] == 0.0) + [
        shift.new_percent for shift in schedule
    ]
    for weight, share, responses in outside:
        assert responses > 20, (weight, responses)
        if weight in (0.0, 100.0):
            assert abs(share - weight) <= TOLERANCE_OUTSIDE, (weight, share, responses)
        else:  # a client on a loaded machine reads a partial weight late (20 % measured as 6 % once): both revisions
            assert 0.0 < share < 100.0, (weight, share, responses)  # answered, and HAProxy's own counters above
    shares = [share for _, share, _ in sorted(outside)]  # hold the schedule to TOLERANCE
    assert shares == sorted(shares), outside
    assert paced.failures == 0
    assert before == 0.0
    # The test route reaches the new revision only (which of its replicas answers is the balancer's business).
    assert tested and tested <= {f"green{index}" for index in range(REPLICAS)}
    assert during_test == 0.0
    assert [scheduled for scheduled, _, _ in measured] == [shift.new_percent for shift in schedule]
    for scheduled, share, responses in measured:
        assert responses > 100, (scheduled, responses)
        assert abs(share - scheduled) <= TOLERANCE, (scheduled, share)
    assert after == 100.0
    assert result.requests > 1000
    assert result.failures == 0


@pytest.mark.takes(10)
def test_rollback_returns_all_traffic_to_the_old_revision(revisions: Revisions) -> None:
    parsed = VALIDATION.parse_settings({"deployment_strategy": "canary", "canary_percent": 30})
    [canary, _] = TIMING.traffic_schedule(parsed)
    with ReleaseCluster(revisions, parsed.test_header) as cluster:
        url = f"http://127.0.0.1:{cluster.port}/"
        load = Load(url)
        start_green_and_test_it(cluster, url)
        cluster.shift("production", canary.new_percent)
        during_canary, _ = cluster.share_while(1.0)
        # An alarm fires: ECS points both rules back at the old revision, then stops the new one.
        cluster.shift("production", 0)
        cluster.shift("test", 0)
        # 1.2 s counted after the settle: only wrk runs here, so about 350 responses against the floor of 100.
        after_rollback, responses = cluster.share_while(1.5)
        cluster.deregister("green")
        result = load.stop()
    assert abs(during_canary - canary.new_percent) <= TOLERANCE
    assert after_rollback == 0.0 and responses > 100
    assert result.failures == 0
