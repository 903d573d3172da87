"""scripts/verify.py offline: the HTTP checks against the app run for real, the ECS chaos check against moto."""

import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from moto import mock_aws
from test_app import running_app
from verify import Target, answers, chaos, distinct_replicas, running_tasks

CLUSTER, SERVICE, REPLICAS = "cluster", "service", 3


@pytest.fixture
def ecs() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("ecs", region_name="us-east-1")
        client.create_cluster(clusterName=CLUSTER)
        # No awsvpc network mode: moto cannot run awsvpc tasks, and verify.py does not look at networking.
        client.register_task_definition(
            family="app", containerDefinitions=[{"name": "app", "image": "app", "memory": 512}]
        )
        client.create_service(
            cluster=CLUSTER, serviceName=SERVICE, taskDefinition="app", desiredCount=REPLICAS, launchType="FARGATE"
        )
        yield client


def replace_stopped_tasks(ecs: Any, stop: threading.Event) -> None:
    """What ECS's scheduler does for a service: start tasks until the desired count runs again."""
    while not stop.wait(0.05):
        missing = REPLICAS - len(ecs.list_tasks(cluster=CLUSTER, desiredStatus="RUNNING")["taskArns"])
        if missing > 0:
            ecs.run_task(cluster=CLUSTER, taskDefinition="app", count=missing, launchType="FARGATE")


def test_health_and_replicas_are_checked_over_http() -> None:
    with running_app(REPLICA_ID="replica-a") as (_, base):
        assert answers(base + "/health")
        assert not answers(base + "/missing")
        assert distinct_replicas(base + "/", 5) == {"replica-a"}


def test_chaos_stops_a_task_and_waits_for_the_service_to_heal(ecs: Any) -> None:
    stop = threading.Event()
    scheduler = threading.Thread(target=replace_stopped_tasks, args=(ecs, stop))
    scheduler.start()
    try:
        with running_app() as (_, base):
            target = Target(base, "/health", CLUSTER, SERVICE, "us-east-1")
            deadline = time.monotonic() + 10
            while len(running_tasks(ecs, target)) < REPLICAS:
                assert time.monotonic() < deadline, "the stand-in scheduler did not start the service's tasks"
                time.sleep(0.05)
            before = set(running_tasks(ecs, target))
            progress: list[str] = []
            seconds, failures, checks = chaos(ecs, target, timeout=30, say=progress.append, poll_seconds=0.1)
    finally:
        stop.set()
        scheduler.join()
    after = set(running_tasks(ecs, target))
    assert len(after) == REPLICAS
    assert len(before - after) == 1  # exactly the stopped task is gone
    assert progress[0].startswith("stopped task ")
    assert failures == 0 and checks >= 1
    assert seconds < 30


def test_chaos_gives_up_when_the_service_does_not_heal(ecs: Any) -> None:
    ecs.run_task(cluster=CLUSTER, taskDefinition="app", count=REPLICAS, launchType="FARGATE")
    target = Target("http://127.0.0.1:9", "/health", CLUSTER, SERVICE, "us-east-1")
    with pytest.raises(TimeoutError, match="did not return to 3 tasks"):
        chaos(ecs, target, timeout=0.3, say=lambda _: None, poll_seconds=0.1)
