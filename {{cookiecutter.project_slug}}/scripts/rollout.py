"""After `pulumi up`: did ECS finish the release the stack deployed, or roll it back?

    python scripts/rollout.py STACK [--timeout 3600]

`pulumi up` returns once the ECS service is steady, and a service ECS rolled back (circuit breaker or alarm) is
steady too, on the old revision, so `pulumi up` alone reports success. This waits for the service's latest deployment
to end and exits non-zero unless it is SUCCESSFUL and the service runs the task definition the stack deployed.

A release that did not land also forgets the stack's record of its deployed strategies (infra/forced_deployment.py):
`pulumi up` wrote it, but a rollback returns the service to its previous revision, strategy included, and a record
left saying "new" would make the next `make up` plan a strategy change without a forced deployment, which the
provider refuses. Without the record, the next `make up` forces one deployment and records what it deployed.
"""

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from infra.forced_deployment import shape_parameter_name  # noqa: E402

# ServiceDeploymentBrief.status: anything else than SUCCESSFUL, once it stops changing, means the release did not land.
ENDED_BADLY = {"ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"}
ENDED_BADLY |= {"STOPPED", "STOP_REQUESTED"}
STILL_GOING = {"PENDING", "IN_PROGRESS"}


def latest_deployment(ecs: Any, cluster: str, service: str) -> dict[str, Any] | None:
    """The service's newest deployment (ECS service deployments, 2024), or None for a service without any."""
    found = ecs.list_service_deployments(cluster=cluster, service=service, maxResults=20)["serviceDeployments"]
    return max(found, key=lambda deployment: deployment["createdAt"]) if found else None


def rollout_failure(
    ecs: Any,
    cluster: str,
    service: str,
    task_definition: str,
    *,
    timeout: float,
    say: Callable[[str], None] = print,
    poll_seconds: float = 15,
) -> str | None:
    """None when the latest deployment succeeded on `task_definition`; otherwise one line saying what happened."""
    started = time.monotonic()
    while (deployment := latest_deployment(ecs, cluster, service)) and deployment["status"] in STILL_GOING:
        elapsed = time.monotonic() - started
        if elapsed > timeout:
            return f"the deployment is still {deployment['status']} after {elapsed:.0f} s: see the ECS console"
        say(f"  {elapsed:5.0f} s: deployment {deployment['status']}")
        time.sleep(poll_seconds)
    if deployment and deployment["status"] in ENDED_BADLY:
        reason = deployment.get("statusReason", "no reason given")
        return f"ECS ended the release {deployment['status']} ({reason}): the service runs the previous revision"
    [described] = ecs.describe_services(cluster=cluster, services=[service])["services"]
    if described["taskDefinition"] != task_definition:
        return (
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
    command = ["pulumi", "stack", "output", name, "--stack", stack]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stack")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the deployment to end")
    args = parser.parse_args()
    region = subprocess.run(
        ["pulumi", "config", "get", "aws:region", "--stack", args.stack], check=True, capture_output=True, text=True
    ).stdout.strip()
    ecs = boto3.client("ecs", region_name=region)
    cluster, service = stack_output(args.stack, "cluster_name"), stack_output(args.stack, "service_name")
    failure = rollout_failure(
        ecs, cluster, service, stack_output(args.stack, "task_definition_arn"), timeout=args.timeout
    )
    if failure:
        print(f"FAIL: {failure}")
        project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"]
        print(forget_deployment_shape(boto3.client("ssm", region_name=region), project, args.stack))
        return 1
    print(f"ok: {service} finished its release on the stack's task definition")
    return 0


if __name__ == "__main__":
    sys.exit(main())
