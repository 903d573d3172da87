"""scripts/rollout.py against botocore's Stubber: moto does not implement ECS ListServiceDeployments (2024).

The Stubber checks every request's parameters against the ECS API model and answers what ECS would: the tests
play the sequences `pulumi up` can leave behind (a release in progress, one rolled back, one ECS reverted quietly).
"""

import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
import rollout
from botocore.stub import Stubber  # type: ignore[import-untyped]
from rollout import (
    CREATED_MARGIN,
    ENDED_BADLY,
    PAGE_SIZE,
    forget_deployment_shape,
    latest_deployment,
    redeploy,
    rollout_failure,
)

from conftest import PROJECT, run_program
from infra.forced_deployment import shape_parameter_name
from infra.image import release_urn
from infra.stack import build_stack
from infra.timing import release_seconds
from infra.validation import MAX_RELEASE_WAIT_MINUTES, parse_settings

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
                {"cluster": CLUSTER, "service": SERVICE, "maxResults": PAGE_SIZE}
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
    # When `pulumi up` fails (ECS rolled the release back), ECS's verdict and reason are printed before make stops.
    # With the recovery for a strategy changed outside Pulumi (make force-deployment), which the plan then refuses.
    assert lines[deploy].endswith(
        '|| { $(PYTHON) scripts/rollout.py $(STACK) --timeout 0; echo "$(FORCE_HINT)" >&2; exit 1; }'
    )


def revision_arn(number: str) -> str:
    return f"arn:aws:ecs:us-east-1:123456789012:service-revision/{CLUSTER}/{SERVICE}/{number}"


def test_redeploy_waits_for_the_deployment_it_started_to_end_not_for_the_last_one_listed() -> None:
    """`make redeploy` (the release preflight's fix) forces a new deployment and waits for that one, bakes included:
    right after UpdateService, ECS may still list only the previous, SUCCESSFUL deployment."""
    previous = deployments("SUCCESSFUL")["serviceDeployments"][0] | {"targetServiceRevisionArn": revision_arn("6666")}
    created = T0 + timedelta(hours=1)

    def listed(*statuses: str) -> dict[str, Any]:
        started = {"createdAt": created, "targetServiceRevisionArn": revision_arn("7777")}
        return {"serviceDeployments": [previous, *({**previous, **started, "status": s} for s in statuses)]}

    ecs = boto3.client("ecs", region_name="us-east-1")
    said: list[str] = []
    primary = {"id": "ecs-svc/7777", "status": "PRIMARY", "createdAt": created}
    since = {"after": created - CREATED_MARGIN}
    with Stubber(ecs) as stub:
        stub.add_response(
            "update_service",
            {"service": {"deployments": [primary, {"id": "ecs-svc/6666", "status": "ACTIVE"}]}},
            {"cluster": CLUSTER, "service": SERVICE, "forceNewDeployment": True},
        )
        for answer in (listed(), listed("IN_PROGRESS"), listed("SUCCESSFUL")):
            expected = {"cluster": CLUSTER, "service": SERVICE, "maxResults": PAGE_SIZE, "createdAt": since}
            stub.add_response("list_service_deployments", answer, expected)
        stub.add_response("describe_services", service_running(NEW), {"cluster": CLUSTER, "services": [SERVICE]})
        started = redeploy(ecs, CLUSTER, SERVICE)
        failure = rollout_failure(
            ecs, CLUSTER, SERVICE, NEW, timeout=60, say=said.append, started=started, poll_seconds=0
        )
        stub.assert_no_pending_responses()
    assert (started.revision, failure) == ("7777", None)
    assert [line.split(": ", 1)[1] for line in said] == ["deployment not listed yet", "deployment IN_PROGRESS"]


def test_make_redeploy_runs_the_waiting_redeploy() -> None:
    makefile = (Path(__file__).parent.parent / "Makefile").read_text()
    recipe = re.search(r"^redeploy:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe is not None
    assert [line.strip() for line in recipe[1].splitlines()] == ["$(PYTHON) scripts/rollout.py $(STACK) --redeploy"]


def test_the_newest_deployment_is_found_on_any_page() -> None:
    """ListServiceDeployments promises no order: a newer deployment on the second page decides."""
    first, second = deployments("SUCCESSFUL", "SUCCESSFUL"), deployments("SUCCESSFUL", "SUCCESSFUL", "ROLLBACK_FAILED")
    ecs = boto3.client("ecs", region_name="us-east-1")
    request = {"cluster": CLUSTER, "service": SERVICE, "maxResults": PAGE_SIZE}
    with Stubber(ecs) as stub:
        stub.add_response("list_service_deployments", {**first, "nextToken": "page-2"}, request)
        stub.add_response("list_service_deployments", second, {**request, "nextToken": "page-2"})
        newest = latest_deployment(ecs, CLUSTER, SERVICE)
        stub.assert_no_pending_responses()
    assert newest is not None and newest["status"] == "ROLLBACK_FAILED"


def pulumi_outputs(monkeypatch: pytest.MonkeyPatch, outputs: dict[str, str]) -> None:
    """`pulumi stack output NAME` and `pulumi config get aws:region` answered from `outputs` (exit 255 if absent)."""

    def pulumi(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        name = command[3]
        if name not in outputs:
            return subprocess.CompletedProcess(command, 255, "", f"error: current stack does not have output {name}")
        return subprocess.CompletedProcess(command, 0, outputs[name] + "\n", "")

    monkeypatch.setattr(subprocess, "run", pulumi)


def test_a_first_create_that_failed_early_gets_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pulumi_outputs(monkeypatch, {"aws:region": "us-east-1"})
    monkeypatch.setattr(boto3, "client", lambda *args, **kwargs: pytest.fail("no AWS call expected"))
    monkeypatch.setattr(sys, "argv", ["rollout.py", "dev", "--timeout", "0"])
    assert rollout.main() == 1
    assert capsys.readouterr().out == (
        "FAIL: stack dev has no service yet (its first `pulumi up` failed before creating it): "
        "see pulumi's error above\n"
    )


def test_redeploy_waits_as_long_as_pulumi_up_would_for_the_stacks_release(monkeypatch: pytest.MonkeyPatch) -> None:
    """A linear release with long bakes (allowed by validation) outlasts an hour; the wait follows the model."""
    settings = parse_settings(
        {"deployment_strategy": "linear", "linear_step_percent": 10, "linear_step_bake_minutes": 7}
    )
    assert release_seconds(settings) > 3600
    monkeypatch.setattr(rollout, "stack_file_settings", lambda stack: settings, raising=False)
    pulumi_outputs(
        monkeypatch,
        {"cluster_name": CLUSTER, "service_name": SERVICE, "task_definition_arn": NEW, "aws:region": "us-east-1"},
    )
    monkeypatch.setattr(rollout, "redeploy", lambda ecs, cluster, service: rollout.Started("7777", T0))
    waited: list[float] = []
    monkeypatch.setattr(rollout, "rollout_failure", lambda *args, timeout, **kwargs: waited.append(timeout))
    monkeypatch.setattr(sys, "argv", ["rollout.py", "dev", "--redeploy"])
    assert rollout.main() == 0
    assert waited[0] >= release_seconds(settings) + 10 * 60
    # A config the program refuses: the longest wait validation allows.
    monkeypatch.setattr(rollout, "stack_file_settings", lambda stack: parse_settings({"cpu": 3}), raising=False)
    assert rollout.main() == 0
    assert waited[1] == MAX_RELEASE_WAIT_MINUTES * 60


def test_a_scale_only_update_starts_no_deployment_and_passes() -> None:
    """`pulumi config set replicas 6 && make up` (the runbook's scale row): no forced deployment, so ECS's newest
    deployment is still the last release, on the task definition the stack deployed."""
    failure, said = check(
        [("list_service_deployments", deployments("SUCCESSFUL")), ("describe_services", service_running(NEW))]
    )
    assert (failure, said) == (None, [])


def test_a_release_that_did_not_land_forgets_the_recorded_strategies() -> None:
    """A rollback returns the service to its previous strategy; where `pulumi up` still recorded the new one (the
    provider's wait fell back to counting tasks), the verdict deletes the record, so the next `make up` forces a
    deployment instead of planning a strategy change the provider refuses."""
    ssm = boto3.client("ssm", region_name="us-east-1")
    name = shape_parameter_name(PROJECT, "dev")
    with Stubber(ssm) as stub:  # checks each request against the SSM API model
        stub.add_response("delete_parameter", {}, {"Name": name})
        stub.add_client_error("delete_parameter", "ParameterNotFound", expected_params={"Name": name})
        assert "the next `make up` forces one deployment" in forget_deployment_shape(ssm, PROJECT, "dev")
        assert "no record" in forget_deployment_shape(ssm, PROJECT, "dev")  # a second failure: nothing to forget
        stub.assert_no_pending_responses()


def test_make_force_deployment_deletes_the_record_the_program_reads() -> None:
    makefile = (Path(__file__).parent.parent / "Makefile").read_text()
    [record] = re.findall(r"^SHAPE_RECORD = (.+)$", makefile, re.MULTILINE)
    assert record.replace("$(STACK)", "dev") == shape_parameter_name(PROJECT, "dev")
    assert re.search(
        r"^force-deployment:.*\n\taws ssm delete-parameter .*--name \"\$\(SHAPE_RECORD\)\"", makefile, re.M
    )


@pytest.mark.parametrize(
    ("newest", "forgets"),
    [("IN_PROGRESS", False), ("PENDING", False), ("ROLLBACK_SUCCESSFUL", True), ("STOPPED", True)],
)
def test_only_a_release_ecs_ended_badly_forgets_the_record_never_one_still_going(
    monkeypatch: pytest.MonkeyPatch, newest: str, forgets: bool
) -> None:
    """`make up` runs `rollout.py --timeout 0` after any failed `pulumi up` (an error elsewhere, a cancel): a release
    still going may yet land, and forgetting its record would make the next `make up` replace every task."""
    pulumi_outputs(
        monkeypatch,
        {"cluster_name": CLUSTER, "service_name": SERVICE, "task_definition_arn": NEW, "aws:region": "us-east-1"},
    )
    ecs = boto3.client("ecs", region_name="us-east-1")
    forgotten: list[str] = []

    def forget(ssm: object, project: str, stack: str) -> str:
        forgotten.append(stack)
        return "forgot"

    monkeypatch.setattr(rollout, "forget_deployment_shape", forget)
    monkeypatch.setattr(boto3, "client", lambda service, **kwargs: ecs if service == "ecs" else None)
    monkeypatch.setattr(sys, "argv", ["rollout.py", "dev", "--timeout", "0"])
    with Stubber(ecs) as stub:
        request = {"cluster": CLUSTER, "service": SERVICE, "maxResults": PAGE_SIZE}
        stub.add_response("list_service_deployments", deployments("SUCCESSFUL", newest), request)
        assert rollout.main() == 1
        stub.assert_no_pending_responses()
    assert forgotten == (["dev"] if forgets else [])


# `make new-image-tag` (the push recovery of tests/test_image.py), beside the other Makefile recipes.
def test_make_new_image_tag_replaces_the_release_suffix_by_its_urn() -> None:
    urns: list[str] = []
    settings = parse_settings({})
    run_program(lambda: build_stack(PROJECT, settings).image.release.urn.apply(urns.append), stack="staging")
    assert urns == [release_urn("staging", PROJECT)]
    makefile = (Path(__file__).parent.parent / "Makefile").read_text()
    recipe = makefile.split("\nnew-image-tag:", 1)[1].split("\n\n", 1)[0]
    assert "pulumi up --stack $(STACK) --policy-pack policy --replace" in recipe
    assert 'release_urn("$(STACK)", "' + PROJECT + '")' in recipe
