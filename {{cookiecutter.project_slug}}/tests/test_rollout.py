"""scripts/rollout.py against botocore's Stubber: moto does not implement ECS ListServiceDeployments (2024).

The Stubber checks every request's parameters against the ECS API model and answers what ECS would: the tests
play the sequences `pulumi up` can leave behind (a release in progress, one rolled back, one ECS reverted quietly).
"""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from botocore.stub import Stubber  # type: ignore[import-untyped]
from rollout import ENDED_BADLY, rollout_failure

CLUSTER, SERVICE = "hello-cluster", "hello-service"
NEW, OLD = (f"arn:aws:ecs:us-east-1:123456789012:task-definition/hello:{n}" for n in (8, 7))
T0 = datetime(2026, 11, 26, 12, tzinfo=UTC)


def deployments(*statuses: str, reason: str = "") -> dict[str, Any]:
    """ListServiceDeployments' answer: older deployments first here, as the API does not promise an order."""
    return {
        "serviceDeployments": [
            {
                "serviceDeploymentArn": f"arn:aws:ecs:us-east-1:123456789012:service-deployment/{CLUSTER}/{n}",
                "status": status,
                "createdAt": T0 + timedelta(minutes=n),
                **({"statusReason": reason} if reason and n == len(statuses) - 1 else {}),
            }
            for n, status in enumerate(statuses)
        ]
    }


def service_running(task_definition: str) -> dict[str, Any]:
    return {"services": [{"serviceName": SERVICE, "taskDefinition": task_definition}]}


def check(answers: list[tuple[str, dict[str, Any]]]) -> tuple[str | None, list[str]]:
    ecs = boto3.client("ecs", region_name="us-east-1")  # the Stubber answers before anything is signed or sent
    said: list[str] = []
    with Stubber(ecs) as stub:
        for operation, answer in answers:
            expected = (
                {"cluster": CLUSTER, "service": SERVICE, "maxResults": 20}
                if operation == "list_service_deployments"
                else {"cluster": CLUSTER, "services": [SERVICE]}
            )
            stub.add_response(operation, answer, expected)
        failure = rollout_failure(ecs, CLUSTER, SERVICE, NEW, timeout=60, say=said.append, poll_seconds=0)
        stub.assert_no_pending_responses()
    return failure, said


def test_a_release_that_lands_passes_after_waiting_for_its_bake() -> None:
    failure, said = check(
        [
            ("list_service_deployments", deployments("SUCCESSFUL", "IN_PROGRESS")),
            ("list_service_deployments", deployments("SUCCESSFUL", "IN_PROGRESS")),
            ("list_service_deployments", deployments("SUCCESSFUL", "SUCCESSFUL")),
            ("describe_services", service_running(NEW)),
        ]
    )
    assert failure is None
    assert len(said) == 2


@pytest.mark.parametrize("status", sorted(ENDED_BADLY))
def test_a_release_ecs_rolled_back_or_stopped_fails_with_one_line(status: str) -> None:
    reason = "ECS deployment circuit breaker: tasks failed to start."
    failure, _ = check([("list_service_deployments", deployments("SUCCESSFUL", status, reason=reason))])
    assert failure is not None and "\n" not in failure
    assert failure.startswith(f"ECS ended the release {status} ({reason})")


def test_the_newest_deployment_decides_whatever_order_the_list_comes_in() -> None:
    answer = deployments("SUCCESSFUL", "ROLLBACK_SUCCESSFUL")
    answer["serviceDeployments"].reverse()
    failure, _ = check([("list_service_deployments", answer)])
    assert failure is not None and "ROLLBACK_SUCCESSFUL" in failure


def test_a_service_steady_on_the_previous_task_definition_fails() -> None:
    # What pulumi up's steady-state wait accepts: a stable service, but not on the revision the stack deployed.
    failure, _ = check(
        [
            ("list_service_deployments", deployments("SUCCESSFUL")),
            ("describe_services", service_running(OLD)),
        ]
    )
    assert failure == f"the service runs {OLD}, not the stack's {NEW}: ECS rolled the release back"


def test_a_service_without_deployment_history_is_judged_by_its_task_definition() -> None:
    failure, _ = check(
        [("list_service_deployments", {"serviceDeployments": []}), ("describe_services", service_running(NEW))]
    )
    assert failure is None


def test_make_up_checks_the_rollout_after_pulumi_up() -> None:
    makefile = (Path(__file__).parent.parent / "Makefile").read_text()
    recipe = re.search(r"^up:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe is not None
    lines = [line.strip() for line in recipe[1].splitlines()]
    deploy = next(n for n, line in enumerate(lines) if line.startswith("pulumi up "))
    assert lines[deploy + 1] == "$(PYTHON) scripts/rollout.py $(STACK)"


def test_a_scale_only_update_starts_no_deployment_and_passes() -> None:
    """`pulumi config set replicas 6 && make up` (the runbook's scale row): no forced deployment, so ECS's newest
    deployment is still the last release, on the task definition the stack deployed."""
    failure, said = check(
        [("list_service_deployments", deployments("SUCCESSFUL")), ("describe_services", service_running(NEW))]
    )
    assert (failure, said) == (None, [])
