"""After a deploy: is the service answering, from several replicas, with the stack's environment, and does it heal
when a task dies?

    python scripts/verify.py STACK [--requests 30] [--chaos] [--timeout 600]

Reads the URL, cluster, service and dashboard link from the stack's outputs (`pulumi stack output`) and the health
path from its config; shows the `environment` variables the service's task definition gives the app (read through the
ECS API), failing when they differ from the stack file's. With --chaos it stops one task through the ECS API and
watches the service return to its desired count while the URL keeps answering. Exits non-zero when a check fails.
"""

import argparse
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3  # type: ignore[import-untyped]
from release_preflight import ROOT, stack_settings

from infra.stack_file import read_stack_file
from infra.validation import InvalidSettings

# What the chaos and replica checks call (bootstrap/permissions.py grants them to the deploy role).
AWS_ACTIONS = ["ecs:ListTasks", "ecs:DescribeServices", "ecs:StopTask", "ecs:DescribeTaskDefinition"]
APP_CONTAINER = "app"  # the container's name in the task definition (infra: CONTAINER_NAME)


@dataclass
class Target:
    url: str
    health_path: str
    cluster: str
    service: str
    region: str
    dashboard_url: str = ""


def get_json(url: str, timeout: float = 5) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(200 <= response.status < 400)
    except OSError:
        return False


def distinct_replicas(url: str, requests: int) -> set[str]:
    """The replicas that answered `requests` GETs of the service's root."""
    return {str(get_json(url)["replica"]) for _ in range(requests)}


def running_tasks(ecs: Any, target: Target) -> list[str]:
    pages = ecs.get_paginator("list_tasks").paginate(
        cluster=target.cluster, serviceName=target.service, desiredStatus="RUNNING"
    )
    return [arn for page in pages for arn in page["taskArns"]]


def desired_count(ecs: Any, target: Target) -> int:
    [service] = ecs.describe_services(cluster=target.cluster, services=[target.service])["services"]
    return int(service["desiredCount"])


def chaos(
    ecs: Any, target: Target, timeout: float, say: Callable[[str], None] = print, poll_seconds: float = 5
) -> tuple[float, int, int]:
    """Stop one task; wait until the service runs its desired count again without it.

    Returns the seconds it took, and how many of the GETs made meanwhile failed, out of how many.
    """
    victim = running_tasks(ecs, target)[0]
    ecs.stop_task(cluster=target.cluster, task=victim, reason="scripts/verify.py --chaos")
    say(f"stopped task {victim.rsplit('/', 1)[-1]}")
    started, failures, checks = time.monotonic(), 0, 0
    while True:
        checks += 1
        failures += not answers(target.url)
        running = [arn for arn in running_tasks(ecs, target) if arn != victim]
        wanted = desired_count(ecs, target)
        elapsed = time.monotonic() - started
        say(f"  {elapsed:5.0f} s: {len(running)}/{wanted} tasks running, {failures}/{checks} requests failed")
        if len(running) >= wanted:
            return elapsed, failures, checks
        if elapsed > timeout:
            raise TimeoutError(f"the service did not return to {wanted} tasks within {timeout:.0f} s")
        time.sleep(poll_seconds)


def deployed_environment(ecs: Any, target: Target) -> dict[str, str]:
    """The app container's environment in the task definition the service runs now."""
    [service] = ecs.describe_services(cluster=target.cluster, services=[target.service])["services"]
    definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    [container] = [c for c in definition["containerDefinitions"] if c["name"] == APP_CONTAINER]
    return {variable["name"]: variable["value"] for variable in container.get("environment", [])}


def environment_report(
    configured: dict[str, str], deployed: dict[str, str], secure: tuple[str, ...] = ()
) -> tuple[str, list[str]]:
    """One line showing the configured variables as the service has them, and one problem per variable it lacks.
    `secure`: the names whose value is a `secure:` one in the stack file (present, value unknown here: not compared),
    or "*" when the whole map is."""
    shown = ", ".join(
        [f"{name}={deployed[name]}" for name in configured if name in deployed]
        + [f"{name}=(secure in the stack file, not compared)" for name in secure]
    )
    problems = [
        f"environment {name}={value} is in the stack file, but the service's task definition has "
        + (f"{name}={deployed[name]}" if name in deployed else f"no {name}")
        + " (run make up)"
        for name, value in configured.items()
        if deployed.get(name) != value
    ]
    return f"environment: {shown or 'none set (pulumi config set --path environment.NAME value)'}", problems


def stack_target(stack: str) -> Target:
    def output(name: str, required: bool = True) -> str:
        command = ["pulumi", "stack", "output", name, "--stack", stack]
        found = subprocess.run(command, check=required, capture_output=True, text=True)
        return found.stdout.strip() if found.returncode == 0 else ""

    def config(key: str, default: str) -> str:
        command = ["pulumi", "config", "get", key, "--stack", stack]
        found = subprocess.run(command, check=False, capture_output=True, text=True)
        return found.stdout.strip() if found.returncode == 0 else default

    return Target(
        url=output("url"),
        health_path=config("health_check_path", "/health"),
        cluster=output("cluster_name"),
        service=output("service_name"),
        region=config("aws:region", "us-east-1"),
        # Stacks last deployed before the dashboard existed have no such output yet.
        dashboard_url=output("dashboard_url", required=False),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stack")
    parser.add_argument("--requests", type=int, default=30, help="GETs to count distinct replicas with")
    parser.add_argument("--chaos", action="store_true", help="stop one task and watch the service heal")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the service to heal")
    args = parser.parse_args()
    target = stack_target(args.stack)
    if not answers(target.url + target.health_path):
        print(f"FAIL: {target.url}{target.health_path} does not answer")
        return 1
    print(f"ok: {target.url}{target.health_path} answers")
    replicas = distinct_replicas(target.url + "/", args.requests)
    print(f"ok: {len(replicas)} distinct replicas answered {args.requests} requests")
    print(f"dashboard: {target.dashboard_url or 'none yet (run make up)'}")
    ecs = boto3.client("ecs", region_name=target.region)
    try:
        configured = dict(stack_settings(args.stack).environment)
    except InvalidSettings as invalid:
        print("\n".join(["FAIL: cannot read the stack's settings:", *invalid.errors]))
        return 1
    secure = tuple(
        "*" if entry == "environment" else entry.removeprefix("environment.")
        for entry in read_stack_file(args.stack, ROOT).secure_settings()
        if entry == "environment" or entry.startswith("environment.")
    )
    shown, problems = environment_report(configured, deployed_environment(ecs, target), secure)
    print(shown)
    for problem in problems:
        print(f"FAIL: {problem}")
    if problems:
        return 1
    if args.chaos:
        seconds, failures, checks = chaos(ecs, target, args.timeout)
        print(f"ok: back to the desired count after {seconds:.0f} s; {failures} of {checks} requests failed meanwhile")
    return 0


if __name__ == "__main__":
    sys.exit(main())
