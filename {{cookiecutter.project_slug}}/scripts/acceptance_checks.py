"""What `make acceptance` checks on a real stack, each check with a figure (scripts/acceptance.py runs them).

Every function takes what it needs (URLs, boto3 clients, numbers), so the HTTP ones run against the local HAProxy
cluster in the template's tests and the AWS ones against moto.
"""

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from verify import Target, desired_count, distinct_replicas, running_tasks

# Log4Shell in a header: AWSManagedRulesKnownBadInputsRuleSet's Log4JRCE_HEADER blocks it (infra/waf.py enables it).
KNOWN_BAD_HEADER = ("X-Api-Version", "${jndi:ldap://acceptance.invalid/a}")

# What the checks call through the clients they are given (bootstrap/permissions.py grants them to the deploy role,
# which acceptance.yml assumes).
AWS_ACTIONS = [
    "ecs:ListTasks",
    "ecs:DescribeTasks",
    "ecs:DescribeServices",
    "ecs:StopTask",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:DescribeRules",
    "cloudwatch:GetDashboard",
    "cloudwatch:DescribeAlarms",
]


@dataclass
class Check:
    """One promise checked: passed (None: recorded, not judged), its figure, the model's figure where there is one."""

    name: str
    passed: bool | None
    figure: str
    model: str = ""
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def get(client: httpx.Client, url: str, headers: dict[str, str] | None = None) -> httpx.Response | None:
    try:
        return client.get(url, headers=headers)
    except httpx.HTTPError:
        return None


def check_answers(url: str, health_path: str, https: bool) -> Check:
    """The URL answers on the health path and on `/`; with HTTPS, over a certificate that verifies and with http://
    redirected (301) to https://."""
    with httpx.Client(timeout=10, verify=True) as client:
        started = time.monotonic()
        health, root = get(client, url + health_path), get(client, url + "/")
        elapsed_ms = (time.monotonic() - started) * 500  # the mean of the two
        statuses = [response.status_code if response else "no answer" for response in (health, root)]
        passed = all(response is not None and response.status_code == 200 for response in (health, root))
        detail = f"{health_path}: {statuses[0]}, /: {statuses[1]}"
        if https:
            plain = get(client, "http://" + url.removeprefix("https://") + "/")
            redirected = plain is not None and plain.status_code == 301
            passed = passed and redirected and url.startswith("https://")
            detail += f"; certificate verified; http:// -> {plain.status_code if plain else 'no answer'}"
    return Check("answers", passed, f"HTTP {statuses[1]} in {elapsed_ms:.0f} ms", detail=detail)


def service_target(cluster: str, service: str) -> Target:
    """What verify.py's ECS helpers need to know of the service."""
    return Target(url="", health_path="", cluster=cluster, service=service, region="")


def task_zones(ecs: Any, cluster: str, service: str) -> dict[str, str]:
    """Each running task of the service -> its Availability Zone (DescribeTasks' `availabilityZone`)."""
    arns = running_tasks(ecs, service_target(cluster, service))
    zones: dict[str, str] = {}
    for start in range(0, len(arns), 100):  # DescribeTasks takes at most 100 tasks
        for task in ecs.describe_tasks(cluster=cluster, tasks=arns[start : start + 100])["tasks"]:
            zones[task["taskArn"]] = task.get("availabilityZone", "")
    return zones


def check_replicas(url: str, replicas: int, zones: dict[str, str]) -> Check:
    """At least `replicas` distinct tasks answer `/`, and the service's tasks run in at least two zones."""
    requests = max(30, 10 * replicas)
    seen = distinct_replicas(url + "/", requests)
    in_zones = {zone for zone in zones.values() if zone}
    passed = len(seen) >= replicas and len(in_zones) >= 2
    return Check(
        "replicas",
        passed,
        f"{len(seen)} distinct tasks answered {requests} requests; tasks in {len(in_zones)} zones",
        model=f">= {replicas} tasks, >= 2 zones",
        detail=", ".join(sorted(in_zones)),
        data={"replicas_seen": sorted(seen), "zones": sorted(in_zones)},
    )


def healthy_targets(elbv2: Any, target_group_arns: list[str], excluded: set[str]) -> int:
    """Healthy targets across the service's target groups, not counting `excluded` target ids (task IPs)."""
    healthy = 0
    for arn in target_group_arns:
        for description in elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]:
            target_id = description["Target"]["Id"]
            healthy += description["TargetHealth"]["State"] == "healthy" and target_id not in excluded
    return healthy


def service_target_groups(ecs: Any, cluster: str, service: str) -> list[str]:
    """The target groups ECS registers the service's tasks in: the primary and, with blue/green, the alternate."""
    [described] = ecs.describe_services(cluster=cluster, services=[service])["services"]
    groups = []
    for balancer in described.get("loadBalancers", []):
        groups.append(balancer["targetGroupArn"])
        alternate = balancer.get("advancedConfiguration", {}).get("alternateTargetGroupArn")
        if alternate:
            groups.append(alternate)
    return groups


def task_ips(ecs: Any, cluster: str, task_arn: str) -> set[str]:
    [task] = ecs.describe_tasks(cluster=cluster, tasks=[task_arn])["tasks"]
    return {
        detail["value"]
        for attachment in task.get("attachments", [])
        for detail in attachment.get("details", [])
        if detail["name"] == "privateIPv4Address"
    }


def check_self_healing(
    ecs: Any,
    elbv2: Any,
    cluster: str,
    service: str,
    url: str,
    *,
    model_seconds: int,
    timeout: float,
    poll_seconds: float = 5,
) -> Check:
    """Stop one task; measure until the target groups hold the full desired count of healthy targets without it.

    Requests sent meanwhile must all succeed: the stopped task drains (deregistered, then SIGTERM) and the others
    serve. Passes when the service heals within `timeout` and no request failed; the model's figure is set beside.
    """
    [victim, *_] = running_tasks(ecs, service_target(cluster, service))
    excluded = task_ips(ecs, cluster, victim)
    groups = service_target_groups(ecs, cluster, service)
    ecs.stop_task(cluster=cluster, task=victim, reason="make acceptance: self-healing check")
    started, failures, requests = time.monotonic(), 0, 0
    with httpx.Client(timeout=5) as client:
        while True:
            response = get(client, url + "/")
            requests += 1
            failures += response is None or response.status_code != 200  # a WAF 403 or a 404 fails too
            wanted = desired_count(ecs, service_target(cluster, service))
            healthy = healthy_targets(elbv2, groups, excluded)
            elapsed = time.monotonic() - started
            if healthy >= wanted:
                break
            if elapsed > timeout:
                return Check(
                    "self-healing",
                    False,
                    f"{healthy}/{wanted} healthy after {elapsed:.0f} s",
                    model=f"{model_seconds} s",
                    detail=f"{failures}/{requests} requests failed",
                )
            time.sleep(poll_seconds)
    return Check(
        "self-healing",
        failures == 0,
        f"{wanted} healthy targets again {elapsed:.0f} s after a task was stopped; "
        f"{failures}/{requests} requests failed",
        model=f"{model_seconds} s",
        data={"seconds": round(elapsed, 1), "failures": failures, "requests": requests},
    )


@dataclass
class Sample:
    at: float
    ok: bool
    release: str


class PacedLoad:
    """Paced GETs of `/` from `connections` threads (httpx), each answer noted with the release that served it.

    A failure is anything but the app's own 200 naming its release (a connection error, a timeout, a 5xx, and a WAF
    403 or a listener's 404 too): what the release-under-load check counts.
    """

    def __init__(self, url: str, requests_per_second: float, connections: int = 4) -> None:
        self.url = url
        self.pause = connections / requests_per_second
        self.connections = connections
        self.samples: list[Sample] = []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(connections)]

    def run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self.stopping.is_set():
                sent = time.monotonic()
                response = get(client, self.url)
                release = ""
                if response is not None and response.status_code == 200:
                    with contextlib.suppress(ValueError, AttributeError):  # the app answers a JSON object
                        release = str(response.json().get("release", ""))
                # Only the app's own answer counts: a WAF 403, a listener's 404 or 503 carry no release label.
                self.samples.append(Sample(sent, bool(release), release))
                self.stopping.wait(max(0.0, self.pause - (time.monotonic() - sent)))

    def __enter__(self) -> "PacedLoad":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=15)

    @property
    def failures(self) -> int:
        return sum(not sample.ok for sample in self.samples)


def load_rate(enable_waf: bool, waf_count_mode: bool, rate_limit: int, window_seconds: int) -> float:
    """Requests a second for the load: 20, or half what the WAF rate rule lets one client IP send."""
    if enable_waf and not waf_count_mode:
        return min(20.0, rate_limit / window_seconds / 2)
    return 20.0


class WeightWatcher:
    """Polls the share of production traffic the new revision is given (the rule's weights, as ECS sets them)."""

    def __init__(self, read_new_percent: Callable[[], float], poll_seconds: float = 2) -> None:
        self.read = read_new_percent
        self.poll = poll_seconds
        self.changes: list[tuple[float, float]] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stopping.is_set():
            percent = self.read()
            if not self.changes or self.changes[-1][1] != percent:
                self.changes.append((time.monotonic(), percent))
            self.stopping.wait(self.poll)

    def __enter__(self) -> "WeightWatcher":
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=15)


def shares_by_step(
    samples: list[Sample], changes: list[tuple[float, float]], new_release: str, settle: float = 0.0
) -> list[tuple[float, float, int]]:
    """For each weight the rule held: (scheduled new %, measured % of answers from the new release, answers).

    Answers sent within `settle` seconds after a change are left out (the load balancer applies a change within
    moments, not at the instant it is read).
    """
    steps = []
    for index, (since, percent) in enumerate(changes):
        until = changes[index + 1][0] if index + 1 < len(changes) else float("inf")
        during = [sample for sample in samples if since + settle <= sample.at < until and sample.ok]
        if during:
            new = sum(sample.release == new_release for sample in during)
            steps.append((percent, round(100.0 * new / len(during), 1), len(during)))
    return steps


def production_new_percent(elbv2: Any, rule_arn: str, new_group: str) -> float:
    """The weight, in percent, the production rule gives `new_group` (elbv2 DescribeRules)."""
    [rule] = elbv2.describe_rules(RuleArns=[rule_arn])["Rules"]
    [forward] = [action for action in rule["Actions"] if action["Type"] == "forward"]
    groups = forward["ForwardConfig"]["TargetGroups"]
    total = sum(group.get("Weight", 0) for group in groups) or 1
    return (
        100.0 * float(sum(group.get("Weight", 0) for group in groups if group["TargetGroupArn"] == new_group)) / total
    )


def check_release(
    load: PacedLoad,
    seconds: float,
    *,
    model_seconds: int,
    rollout_failure: str | None,
    schedule: list[tuple[float, int]],
    steps: list[tuple[float, float, int]],
) -> Check:
    """A harmless release under paced load: no request failed and ECS finished it (no rollback).

    For a non-rolling strategy the measured share of the new release at each weight is recorded beside the
    configured schedule (recorded, not judged: the weights are read every few seconds, not at each request).
    """
    passed = load.failures == 0 and rollout_failure is None and len(load.samples) > 0
    detail = rollout_failure or "ECS finished the release on the new task definition"
    if schedule:
        detail += "; schedule " + ", ".join(f"{percent:g} % for {minutes} min" for percent, minutes in schedule)
        detail += "; measured " + ", ".join(f"{share:g} % at weight {weight:g} ({n})" for weight, share, n in steps)
    return Check(
        "release under load",
        passed,
        f"{load.failures} of {len(load.samples)} requests failed; release took {seconds:.0f} s",
        model=f"{model_seconds} s",
        detail=detail,
        data={"failures": load.failures, "requests": len(load.samples), "steps": steps},
    )


def dashboard_name(dashboard_url: str) -> str:
    return dashboard_url.rsplit("#dashboards/dashboard/", 1)[-1]


def check_outputs(
    cloudwatch: Any, dashboard_url: str, alarm_names: list[str], wait_seconds: float, poll_seconds: float = 15
) -> Check:
    """The dashboard the output links exists (GetDashboard: the console URL itself needs a signed-in browser), and
    every alarm reaches OK within `wait_seconds` (new alarms start INSUFFICIENT_DATA until their first evaluation)."""
    name = dashboard_name(dashboard_url)
    try:
        cloudwatch.get_dashboard(DashboardName=name)
        dashboard = True
    except (cloudwatch.exceptions.DashboardNotFoundError, cloudwatch.exceptions.ResourceNotFound):
        dashboard = False
    started = time.monotonic()
    while True:
        alarms = cloudwatch.describe_alarms(AlarmNames=alarm_names)["MetricAlarms"] if alarm_names else []
        states = {alarm["AlarmName"]: alarm["StateValue"] for alarm in alarms}
        not_ok = {alarm: state for alarm, state in states.items() if state != "OK"}
        if (not not_ok and len(states) == len(alarm_names)) or time.monotonic() - started > wait_seconds:
            break
        time.sleep(poll_seconds)
    missing = sorted(set(alarm_names) - set(states))
    passed = dashboard and not not_ok and not missing
    return Check(
        "outputs",
        passed,
        f"dashboard {'found' if dashboard else 'MISSING'}; {len(states) - len(not_ok)}/{len(alarm_names)} alarms OK",
        detail="; ".join(
            [*(f"{alarm}: {state}" for alarm, state in not_ok.items()), *(f"{m}: missing" for m in missing)]
        ),
    )


def check_waf(url: str, count_mode: bool) -> Check:
    """A request carrying a known-bad input (Log4Shell in a header) is blocked (403); in count mode it passes."""
    header, value = KNOWN_BAD_HEADER
    with httpx.Client(timeout=10) as client:
        response = get(client, url + "/", {header: value})
    status = response.status_code if response is not None else None
    passed = status == 403 if not count_mode else status == 200
    expected = "200 (count mode: counted, not blocked)" if count_mode else "403"
    return Check("waf", passed, f"known-bad input answered {status or 'nothing'}", model=expected)
