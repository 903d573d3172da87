"""scripts/verify.py offline: the HTTP checks against the app run for real, the ECS chaos check against moto.

moto stores ECS tasks but ignores `list_tasks`' serviceName filter, so the tests record the requests verify.py sends
(botocore's provide-client-params event) and check the filter there. The chaos check's URL is a stand-in for the ALB
in front of the moto service: it fails while the service runs fewer tasks than it wants (the worst case verify.py must
report), and it keeps every answer it gave, so a test can tell whether verify.py counted what it saw.
"""

import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from moto import mock_aws
from test_app import running_app
from verify import (
    Target,
    answers,
    chaos,
    deployed_environment,
    distinct_replicas,
    environment_report,
    running_tasks,
    stack_target,
)

CLUSTER, SERVICE, REPLICAS = "cluster", "service", 3
REPLACE_AFTER_SECONDS = 0.4  # the stand-in scheduler's delay: several polls see the service short of a task


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


def recorded_requests(client: Any) -> list[tuple[str, dict[str, Any]]]:
    """Every request `client` sends from now on: operation name and parameters, as AWS would receive them."""
    requests: list[tuple[str, dict[str, Any]]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        requests.append((model.name, dict(params)))

    client.meta.events.register("provide-client-params.ecs.*", record)
    return requests


def running(client: Any) -> int:
    return len(client.list_tasks(cluster=CLUSTER, desiredStatus="RUNNING")["taskArns"])


def replace_stopped_tasks(stop: threading.Event) -> None:
    """What ECS's scheduler does for a service: start tasks until the desired count runs again (a little later)."""
    client = boto3.client("ecs", region_name="us-east-1")  # its own client: its requests are not verify.py's
    while not stop.wait(0.05):
        missing = REPLICAS - running(client)
        if missing > 0 and not stop.wait(REPLACE_AFTER_SECONDS):
            client.run_task(cluster=CLUSTER, taskDefinition="app", count=missing, launchType="FARGATE")


class Front(ThreadingHTTPServer):
    """The ALB in front of the moto service: 200 while it runs its desired count, 503 while short; keeps each answer."""

    def __init__(self) -> None:
        self.client = boto3.client("ecs", region_name="us-east-1")
        self.statuses: list[int] = []
        front = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status = 200 if running(front.client) >= REPLICAS else 503
                front.statuses.append(status)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


def test_health_and_replicas_are_checked_over_http() -> None:
    with running_app(REPLICA_ID="replica-a") as (_, base):
        assert answers(base + "/health")
        assert not answers(base + "/missing")
        assert distinct_replicas(base + "/", 5) == {"replica-a"}


def test_a_health_path_with_a_query_string_is_checked_as_configured() -> None:
    # verify.py asks for url + health_check_path, query included, as the ALB does.
    with running_app(HEALTH_CHECK_PATH="/health?full=1") as (_, base):
        assert answers(base + "/health?full=1")


def test_chaos_stops_a_task_of_the_service_and_counts_the_failures_it_sees(ecs: Any) -> None:
    stop, front = threading.Event(), Front()
    threads = [
        threading.Thread(target=replace_stopped_tasks, args=(stop,)),
        threading.Thread(target=front.serve_forever),
    ]
    for thread in threads:
        thread.start()
    try:
        target = Target(front.url, "/health", CLUSTER, SERVICE, "us-east-1")
        deadline = time.monotonic() + 10
        while running(ecs) < REPLICAS:
            assert time.monotonic() < deadline, "the stand-in scheduler did not start the service's tasks"
            time.sleep(0.05)
        before = set(running_tasks(ecs, target))
        requests = recorded_requests(ecs)
        progress: list[str] = []
        seconds, failures, checks = chaos(ecs, target, timeout=30, say=progress.append, poll_seconds=0.1)
    finally:
        stop.set()
        front.shutdown()
        for thread in threads:
            thread.join()
        front.server_close()
    after = set(running_tasks(ecs, target))
    assert len(after) == REPLICAS
    [stopped] = before - after
    assert progress[0] == f"stopped task {stopped.rsplit('/', 1)[-1]}"
    # verify.py counted exactly what the front answered it: some requests failed while the task was being replaced
    assert (failures, checks) == (front.statuses.count(503), len(front.statuses))
    assert failures > 0
    assert seconds < 30
    # AWS filters by service (moto does not): verify.py must ask only for this service's tasks, and stop one of them
    listed = [params for operation, params in requests if operation == "ListTasks"]
    assert listed and all(
        params == {"cluster": CLUSTER, "serviceName": SERVICE, "desiredStatus": "RUNNING"} for params in listed
    )
    assert [params for operation, params in requests if operation == "StopTask"] == [
        {"cluster": CLUSTER, "task": stopped, "reason": "scripts/verify.py --chaos"}
    ]


def test_chaos_gives_up_when_the_service_does_not_heal(ecs: Any) -> None:
    ecs.run_task(cluster=CLUSTER, taskDefinition="app", count=REPLICAS, launchType="FARGATE")
    target = Target("http://127.0.0.1:9", "/health", CLUSTER, SERVICE, "us-east-1")
    with pytest.raises(TimeoutError, match="did not return to 3 tasks"):
        chaos(ecs, target, timeout=0.3, say=lambda _: None, poll_seconds=0.1)


def fake_pulumi(outputs: dict[str, str], config: dict[str, str]) -> Any:
    """Stands in for subprocess.run of the Pulumi CLI: `stack output NAME` and `config get KEY`."""

    def run(command: list[str], check: bool, **_: Any) -> subprocess.CompletedProcess[str]:
        known, key = outputs if command[1] == "stack" else config, command[3]
        if key not in known and check:
            raise subprocess.CalledProcessError(255, command)
        return subprocess.CompletedProcess(command, 0 if key in known else 255, known.get(key, ""), "")

    return run


def test_target_carries_the_stacks_dashboard_link(monkeypatch: pytest.MonkeyPatch) -> None:
    outputs = {"url": "http://lb", "cluster_name": "c", "service_name": "s"}
    dashboard = "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/x-dev"
    monkeypatch.setattr(subprocess, "run", fake_pulumi({**outputs, "dashboard_url": dashboard}, {}))
    assert stack_target("dev").dashboard_url == dashboard
    monkeypatch.setattr(subprocess, "run", fake_pulumi(outputs, {"aws:region": "eu-west-1"}))
    target = stack_target("dev")  # a stack deployed before the dashboard existed
    assert (target.dashboard_url, target.region, target.health_path) == ("", "eu-west-1", "/health")


def test_the_environment_shown_is_the_one_the_running_task_definition_gives_the_app(ecs: Any) -> None:
    environment = [{"name": "FEATURE_X", "value": "on"}, {"name": "PORT", "value": "8000"}]
    ecs.register_task_definition(
        family="app", containerDefinitions=[{"name": "app", "image": "app", "memory": 512, "environment": environment}]
    )
    ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition="app:2")
    deployed = deployed_environment(ecs, Target("http://lb", "/health", CLUSTER, SERVICE, "us-east-1"))
    assert deployed == {"FEATURE_X": "on", "PORT": "8000"}
    assert environment_report({"FEATURE_X": "on"}, deployed) == ("environment: FEATURE_X=on", [])
    shown, problems = environment_report({"FEATURE_X": "off", "DOWNSTREAM_URL": "https://x"}, deployed)
    assert shown == "environment: FEATURE_X=on"
    assert problems == [
        "environment FEATURE_X=off is in the stack file, but the service's task definition has FEATURE_X=on "
        "(run make up)",
        "environment DOWNSTREAM_URL=https://x is in the stack file, but the service's task definition has no "
        "DOWNSTREAM_URL (run make up)",
    ]
    assert environment_report({}, deployed)[0].startswith("environment: none set")
