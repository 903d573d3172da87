"""After `pulumi up`: did ECS finish the release the stack deployed, or roll it back? And why.

    python scripts/rollout.py STACK [--timeout SECONDS]    (default: the stack's modelled release plus the margin)
    python scripts/rollout.py STACK --redeploy     (`make redeploy`: one more release of the same revision)

`pulumi up` waits for the deployment it starts (`wait_for_steady_state`) and fails when ECS rolls it back, with ECS's
reason. This is the second look, for CI and `make up`: it waits for the service's latest deployment to end and exits
non-zero, printing ECS's `statusReason`, unless it is SUCCESSFUL and the service runs the task definition the stack
deployed (which also catches an `up` that did not touch the service after an earlier rollback, or one cut short).

`--redeploy` starts a forced new deployment of the current revision (what the release preflight asks for to move the
tasks back to the first target group) and waits for that deployment, bakes included: a canary or linear release can
take longer than `aws ecs wait services-stable`'s 10 minutes (40 checks, 15 s apart). Both wait as long as `pulumi up`
would for the stack's release (infra/timing.py's model, bakes and test window included, plus the margin).

A release ECS ended badly (ROLLBACK_*, STOPPED) also forgets the stack's record of its deployed strategies
(infra/forced_deployment.py): where the provider's wait fell back to counting tasks (an update whose deployment it
could not find), `pulumi up` may have written the record while a rollback returned the service to its previous
revision, strategy included; a record left saying "new" would make the next `make up` plan a strategy change without a
forced deployment, which the provider refuses. Without the record, the next `make up` forces one deployment and
records what it deployed. A deployment still going (the `--timeout 0` look after a failed `pulumi up`, or a wait that
ran out) keeps the record: it may yet land, and forgetting would make the next `make up` replace every task for
nothing.
"""

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from infra.forced_deployment import shape_parameter_name  # noqa: E402
from infra.stack_file import stack_file_settings  # noqa: E402
from infra.timing import update_timeout_minutes  # noqa: E402
from infra.validation import MAX_RELEASE_WAIT_MINUTES, InvalidSettings  # noqa: E402

# Every AWS API action this script may call (`--redeploy` adds REDEPLOY_ACTIONS); issue 22 derives its policy here.
AWS_ACTIONS = ["ecs:ListServiceDeployments", "ecs:DescribeServices", "ssm:DeleteParameter"]
REDEPLOY_ACTIONS = ["ecs:UpdateService"]

# ServiceDeploymentBrief.status: anything else than SUCCESSFUL, once it stops changing, means the release did not land.
ENDED_BADLY = {"ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"}
ENDED_BADLY |= {"STOPPED", "STOP_REQUESTED"}
STILL_GOING = {"PENDING", "IN_PROGRESS"}


class Failure(str):
    """Why the check failed, one line; `ecs_ended_release` when ECS itself ended the release badly (ENDED_BADLY), the
    only case that forgets the recorded strategies (not a deployment still going when the wait ran out)."""

    ecs_ended_release = False


def ended_badly(reason: str) -> Failure:
    failure = Failure(reason)
    failure.ecs_ended_release = True
    return failure


@dataclass(frozen=True)
class Started:
    """A deployment UpdateService started: its number (in its service revision's ARN) and when ECS created it."""

    revision: str
    created_at: datetime


# ListServiceDeployments promises no order: a deployment we started is looked for among those created since a little
# before it (the service deployment and the deployment UpdateService answers with are created moments apart).
CREATED_MARGIN = timedelta(minutes=5)
PAGE_SIZE = 100  # ListServiceDeployments' largest page; every page is read, since the newest may be on any of them


def latest_deployment(ecs: Any, cluster: str, service: str, started: Started | None = None) -> dict[str, Any] | None:
    """The service's newest deployment (ECS service deployments, 2024), or None for a service without any.

    With `started`, only the service deployment that targets its revision: ECS may list it a moment after UpdateService
    returns. (terraform-provider-aws finds the deployment its update started the same way.)
    """
    request: dict[str, Any] = {"cluster": cluster, "service": service, "maxResults": PAGE_SIZE}
    if started is not None:
        request["createdAt"] = {"after": started.created_at - CREATED_MARGIN}
    found: list[dict[str, Any]] = []
    while True:
        page = ecs.list_service_deployments(**request)
        found += page["serviceDeployments"]
        if not page.get("nextToken"):
            break
        request["nextToken"] = page["nextToken"]
    if started is not None:
        found = [item for item in found if started.revision in item.get("targetServiceRevisionArn", "")]
    return max(found, key=lambda deployment: deployment["createdAt"]) if found else None


def redeploy(ecs: Any, cluster: str, service: str) -> Started:
    """Start a forced new deployment of the service's current revision."""
    updated = ecs.update_service(cluster=cluster, service=service, forceNewDeployment=True)["service"]
    [primary] = [deployment for deployment in updated["deployments"] if deployment["status"] == "PRIMARY"]
    return Started(str(primary["id"]).rsplit("/", 1)[-1], primary["createdAt"])  # id: "ecs-svc/1234567890"


def rollout_failure(
    ecs: Any,
    cluster: str,
    service: str,
    task_definition: str,
    *,
    timeout: float,
    say: Callable[[str], None] = print,
    poll_seconds: float = 15,
    started: Started | None = None,
) -> Failure | None:
    """None when the latest deployment (or the one `started`) succeeded on `task_definition`; otherwise one line
    saying what happened, with ECS's reason."""
    began = time.monotonic()
    while True:
        deployment = latest_deployment(ecs, cluster, service, started)
        status = deployment["status"] if deployment else "not listed yet"
        if not (status in STILL_GOING or (deployment is None and started is not None)):
            break
        elapsed = time.monotonic() - began
        if elapsed > timeout:
            return Failure(f"the deployment is still {status} after {elapsed:.0f} s: see the ECS console")
        say(f"  {elapsed:5.0f} s: deployment {status}")
        time.sleep(poll_seconds)
    if deployment and deployment["status"] in ENDED_BADLY:
        reason = deployment.get("statusReason", "no reason given")
        return ended_badly(
            f"ECS ended the release {deployment['status']} ({reason}): the service runs the previous revision"
        )
    [described] = ecs.describe_services(cluster=cluster, services=[service])["services"]
    if described["taskDefinition"] != task_definition:
        return Failure(
            f"the service runs {described['taskDefinition']}, not the stack's {task_definition}: "
            "ECS rolled the release back"
        )
    return None


def forget_deployment_shape(ssm: Any, project: str, stack: str) -> str:
    """Delete the stack's record of its deployed strategies (absent already: nothing to do); one line saying so."""
    name = shape_parameter_name(project, stack)
    try:
        ssm.delete_parameter(Name=name)
    except ssm.exceptions.ParameterNotFound:
        return f"no record of the deployed strategies ({name}) to forget"
    return f"forgot the record of the deployed strategies ({name}): the next `make up` forces one deployment"


def stack_output(stack: str, name: str) -> str:
    """One of the stack's outputs, or "" when it has none (a first create that failed before making the service)."""
    command = ["pulumi", "stack", "output", name, "--stack", stack]
    found = subprocess.run(command, check=False, capture_output=True, text=True)
    return found.stdout.strip() if found.returncode == 0 else ""


def release_wait_seconds(stack: str) -> float:
    """As long as `pulumi up` waits for this stack's release; a config the program refuses gets the longest allowed."""
    try:
        return update_timeout_minutes(stack_file_settings(stack)) * 60
    except InvalidSettings:
        return MAX_RELEASE_WAIT_MINUTES * 60


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stack")
    parser.add_argument(
        "--timeout", type=float, help="seconds to wait for the deployment to end (default: as `pulumi up` would)"
    )
    parser.add_argument(
        "--redeploy", action="store_true", help="first start a forced new deployment of the current revision"
    )
    args = parser.parse_args()
    outputs = {name: stack_output(args.stack, name) for name in ("cluster_name", "service_name", "task_definition_arn")}
    if not all(outputs.values()):
        print(
            f"FAIL: stack {args.stack} has no service yet (its first `pulumi up` failed before creating it): "
            "see pulumi's error above"
        )
        return 1
    cluster, service = outputs["cluster_name"], outputs["service_name"]
    timeout = release_wait_seconds(args.stack) if args.timeout is None else args.timeout
    region = subprocess.run(
        ["pulumi", "config", "get", "aws:region", "--stack", args.stack], check=True, capture_output=True, text=True
    ).stdout.strip()
    ecs = boto3.client("ecs", region_name=region)
    started = None
    if args.redeploy:
        started = redeploy(ecs, cluster, service)
        print(f"started a new deployment of {service} ({started.revision}); waiting for it to end, bakes included")
    failure = rollout_failure(ecs, cluster, service, outputs["task_definition_arn"], timeout=timeout, started=started)
    if failure:
        print(f"FAIL: {failure}")
        if failure.ecs_ended_release:
            project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"]
            print(forget_deployment_shape(boto3.client("ssm", region_name=region), project, args.stack))
        return 1
    print(f"ok: {service} runs the stack's task definition; its latest deployment ended SUCCESSFUL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
