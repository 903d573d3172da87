"""`make acceptance` offline: the lifecycle with a fake `pulumi` on PATH (tests/fake_pulumi.py), the AWS checks
against moto.

The promise under test: whatever fails (each Pulumi step, each check, Ctrl-C), the copy is destroyed and its stack
removed, and the report says what happened. The HTTP checks run against the real load balancer in the template's
tests (tests/test_local_cluster.py and tests/test_release_traffic.py there). Ctrl-C and a CI cancel of the real
script, and what the workflows and README say of a run, are in tests/test_acceptance_files.py: the tests that read
the project's own files.
"""

import json
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import acceptance
import acceptance_checks
import boto3  # type: ignore[import-untyped]
import ephemeral
import pytest
from acceptance_checks import (
    Check,
    check_outputs,
    check_replicas,
    check_self_healing,
    production_new_percent,
    task_zones,
)
from acceptance_fakes import NAME, SOURCE, SOURCE_CONFIG, calls, cleaned_up, outputs
from ephemeral import (
    STALE_AFTER_HOURS,
    Copy,
    EphemeralStack,
    Pulumi,
    copy_overrides,
    offer_stale_cleanup,
    refuse_production,
    stale_stacks,
)
from moto import mock_aws

from conftest import PROJECT
from infra.cost import HOURS_PER_MONTH


def quiet(_: str) -> None:
    pass


def copy() -> Copy:
    return copy_overrides(SOURCE_CONFIG, NAME, SOURCE)


def passing(name: str) -> Any:
    return lambda *_, **__: Check(name, True, "ok")


@pytest.fixture
def checks_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every check passes without AWS (each test then breaks the one it is about)."""
    for function, name in [
        ("check_answers", "answers"),
        ("check_replicas", "replicas"),
        ("check_self_healing", "self-healing"),
        ("release_under_load", "release under load"),
        ("check_outputs", "outputs"),
    ]:
        monkeypatch.setattr(acceptance, function, passing(name))
    monkeypatch.setattr(acceptance, "task_zones", lambda *_: {})


def no_clients(_: str) -> acceptance.Clients:
    return acceptance.Clients(None, None, None)


def test_a_passing_run_destroys_removes_and_reports(fake_pulumi: Path, checks_pass: None, tmp_path: Path) -> None:
    report = acceptance.run_acceptance(Pulumi(say=quiet), copy(), False, tmp_path, no_clients)
    assert report.passed
    assert calls(fake_pulumi)[0] == f"stack init {NAME} --copy-config-from {SOURCE} --no-select"
    assert f"config set alb_deletion_protection false --stack {NAME}" in calls(fake_pulumi)
    # With the policy pack, and refreshed first like every `up` here (infra/waf.py says why; tests/test_workflows.py).
    assert f"up --stack {NAME} --yes --skip-preview --policy-pack policy --refresh" in calls(fake_pulumi)
    assert cleaned_up(fake_pulumi)
    document = json.loads((tmp_path / "acceptance-report.json").read_text())
    assert document["passed"] and document["cleanup"] == "destroyed and removed"
    assert [check["name"] for check in document["checks"]] == [
        "answers",
        "replicas",
        "self-healing",
        "outputs",
        "release under load",
    ]
    assert set(document["phases"]) == {"create", "deploy", "checks", "destroy"}
    # Seconds of run, priced as one started hour: the ALB, NAT and endpoints bill a partial hour as a full one.
    assert document["monthly_usd"] > 0
    assert document["run_usd"] == pytest.approx(document["monthly_usd"] / HOURS_PER_MONTH)
    assert "replicas=2: the fewest the rules allow" in (tmp_path / "acceptance-report.md").read_text()


@pytest.mark.parametrize("step", ["stack init", "config set", "up", "stack output"])
def test_a_failed_pulumi_step_still_destroys_and_removes(
    fake_pulumi: Path, checks_pass: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    monkeypatch.setenv("FAKE_PULUMI_FAIL", step)
    with pytest.raises(Exception, match=f"pulumi {step}"):
        acceptance.run_acceptance(Pulumi(say=quiet), copy(), False, tmp_path, no_clients)
    document = json.loads((tmp_path / "acceptance-report.json").read_text())
    assert not document["passed"] and f"pulumi {step}" in document["error"]
    if step == "stack init":  # Pulumi refused: this run created nothing, so it destroys nothing
        assert document["cleanup"] == "nothing to destroy" and calls(fake_pulumi)[-1].startswith("stack init")
    else:
        assert cleaned_up(fake_pulumi) and document["cleanup"] == "destroyed and removed"


@pytest.mark.parametrize("failing", ["check_answers", "check_replicas", "check_self_healing", "check_outputs"])
def test_a_check_that_fails_or_breaks_still_destroys_and_removes(
    fake_pulumi: Path, checks_pass: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    def broken(*_: object, **__: object) -> Check:
        raise RuntimeError("injected")

    monkeypatch.setattr(acceptance, failing, broken)
    report = acceptance.run_acceptance(Pulumi(say=quiet), copy(), False, tmp_path, no_clients)
    assert not report.passed
    assert any(check.detail == "RuntimeError: injected" for check in report.checks)
    assert cleaned_up(fake_pulumi)


def test_the_release_failing_midway_still_destroys_and_removes(
    fake_pulumi: Path, checks_pass: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The release's own `pulumi up` (the second) fails: a failed check, then the cleanup."""
    monkeypatch.setattr(acceptance, "release_under_load", lambda stack, *_: stack.up() or Check("r", True, "ok"))
    monkeypatch.setenv("FAKE_PULUMI_FAIL", "up#2")
    report = acceptance.run_acceptance(Pulumi(say=quiet), copy(), False, tmp_path, no_clients)
    [release] = [check for check in report.checks if check.name == "release under load"]
    assert not release.passed and "pulumi up" in release.detail
    assert cleaned_up(fake_pulumi)


def test_a_failed_destroy_is_retried_after_a_refresh_and_never_forced(
    fake_pulumi: Path, checks_pass: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_PULUMI_FAIL", "destroy")
    acceptance.run_acceptance(Pulumi(say=quiet), copy(), False, tmp_path, no_clients)
    made = calls(fake_pulumi)
    assert [call.split(" --")[0] for call in made[-6:]] == [
        "destroy",
        "cancel",
        "refresh",
        "destroy",
        "stack export",
        f"stack rm {NAME}",
    ]
    assert not any("--force" in call for call in made)


def test_keep_leaves_the_stack_and_says_how_to_destroy_it(fake_pulumi: Path, checks_pass: None, tmp_path: Path) -> None:
    said: list[str] = []
    report = acceptance.run_acceptance(Pulumi(say=said.append), copy(), True, tmp_path, no_clients)
    assert report.cleanup == "kept" and report.passed
    assert not any(call.startswith(("destroy", "stack rm")) for call in calls(fake_pulumi))
    assert any(f"python scripts/ephemeral.py destroy {NAME}" in line for line in said)


def test_an_existing_or_production_name_is_refused_before_anything(
    fake_pulumi: Path, checks_pass: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--from dev --name staging` once destroyed staging: now refused before any Pulumi command that changes
    anything, and a stack init Pulumi refuses destroys nothing."""
    listed = [{"name": SOURCE}, {"name": "staging", "resourceCount": 60}]
    (fake_pulumi / "stacks.json").write_text(json.dumps(listed))
    for name in ("staging", "prod-copy"):
        monkeypatch.setattr(sys, "argv", ["acceptance.py", "--from", SOURCE, "--name", name])
        monkeypatch.setattr(acceptance, "read_stack_config", lambda _: SOURCE_CONFIG)
        with pytest.raises(SystemExit, match=f"refusing the copy name {name}"):
            acceptance.main()
    assert all(call == "stack ls --json" for call in calls(fake_pulumi))
    monkeypatch.setenv("FAKE_PULUMI_FAIL", "stack init")  # as Pulumi answers for a name taken
    with pytest.raises(ephemeral.PulumiFailed):
        acceptance.run_acceptance(Pulumi(say=quiet), copy_overrides(SOURCE_CONFIG, "staging", SOURCE), False, tmp_path)
    assert json.loads((tmp_path / "acceptance-report.json").read_text())["cleanup"] == "nothing to destroy"
    assert not any(call.startswith(("destroy", "stack rm")) for call in calls(fake_pulumi))


def test_pending_operations_after_the_destroy_keep_the_stack_and_are_reported(
    fake_pulumi: Path, checks_pass: None, tmp_path: Path
) -> None:
    """An `up` killed mid-create leaves pending creates that destroy skips: the stack stays, each one is listed."""
    urn = f"urn:pulumi:{NAME}::{PROJECT}::aws:lb/loadBalancer:LoadBalancer::{PROJECT}-alb"
    pending = [{"resource": {"urn": urn, "type": "aws:lb/loadBalancer:LoadBalancer"}, "type": "creating"}]
    (fake_pulumi / "export.json").write_text(json.dumps({"version": 3, "deployment": {"pending_operations": pending}}))
    with pytest.raises(ephemeral.LeftBehind):
        acceptance.run_acceptance(Pulumi(say=quiet), copy(), False, tmp_path, no_clients)
    assert json.loads((tmp_path / "acceptance-report.json").read_text())["cleanup"].startswith("FAILED")
    assert not any(call.startswith("stack rm") for call in calls(fake_pulumi))
    assert f"creating {urn}" in (tmp_path / "acceptance-report.md").read_text()


def test_each_run_sets_a_pull_request_environments_config_again(
    fake_pulumi: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stack file exists only on the runner that created pr-7: the next run, on a fresh checkout, derives it."""
    monkeypatch.setattr(ephemeral, "read_stack_config", lambda _: SOURCE_CONFIG)
    pulumi = Pulumi(say=quiet)
    ephemeral.deploy_environment(pulumi, "pr-7", SOURCE)
    (fake_pulumi / "config" / "pr-7.json").unlink()  # the next push's runner
    ephemeral.deploy_environment(pulumi, "pr-7", SOURCE)
    first, second = (json.loads(line)["config"] for line in (fake_pulumi / "up-configs.jsonl").read_text().splitlines())
    assert first == second and second["alb_deletion_protection"] == "false" and second["aws_region"] == "us-east-1"


def test_a_copy_host_name_longer_than_acm_allows_is_refused_up_front() -> None:
    config = {**SOURCE_CONFIG, "domain_name": "app." + "z" * 40 + ".example.com"}
    with pytest.raises(SystemExit, match="ACM allows 64"):
        copy_overrides(config, NAME, SOURCE)
    assert copy_overrides(config, NAME, SOURCE, keep_domain=False).overrides["domain_name"] == ""


def test_the_release_check_counts_only_the_apps_own_answers(answering_url: str) -> None:
    """A WAF's 403, a listener's 404, an empty 200: none carries a release label, each is a failed request."""
    with acceptance_checks.PacedLoad(answering_url + "/", 50) as load:
        deadline = time.monotonic() + 10  # a few answers, however busy the machine
        while len(load.samples) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert len(load.samples) >= 5 and load.failures == len(load.samples)


def test_stale_stacks_are_old_idle_acceptance_stacks_only() -> None:
    now = datetime(2026, 12, 2, 12, tzinfo=UTC)
    summaries: list[dict[str, Any]] = [
        {"name": "dev", "lastUpdate": "2026-11-01T00:00:00Z"},
        {"name": "acceptance-old", "lastUpdate": (now - timedelta(days=2)).isoformat()},
        {"name": "org/proj/acceptance-cloud", "lastUpdate": (now - timedelta(hours=STALE_AFTER_HOURS)).isoformat()},
        {"name": "acceptance-long-run", "lastUpdate": (now - timedelta(hours=STALE_AFTER_HOURS - 1)).isoformat()},
        {"name": "acceptance-recent", "lastUpdate": (now - timedelta(minutes=20)).isoformat()},
        {"name": "acceptance-running", "lastUpdate": "2026-11-01T00:00:00Z", "updateInProgress": True},
        {"name": "acceptance-never-deployed"},
        {"name": "pr-12", "lastUpdate": "2026-11-01T00:00:00Z"},
    ]
    found = stale_stacks(summaries, now)
    assert found.idle == ["acceptance-old", "acceptance-cloud"]
    # A crashed run's update stays open on Pulumi Cloud (no time given): offered, after `pulumi cancel`.
    assert found.stuck == ["acceptance-running"]
    # Given the open pull requests with the label, the other pr-<n> stacks are left behind too.
    assert stale_stacks(summaries, now, open_pull_requests={12}).idle == found.idle
    assert stale_stacks(summaries, now, open_pull_requests={3}).idle == [*found.idle, "pr-12"]


def test_a_second_run_offers_to_destroy_stale_stacks(fake_pulumi: Path) -> None:
    old = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    listed = [{"name": SOURCE}, {"name": "acceptance-left", "lastUpdate": old, "resourceCount": 60}]
    (fake_pulumi / "stacks.json").write_text(json.dumps(listed))
    pulumi = Pulumi(say=quiet)
    assert offer_stale_cleanup(pulumi, destroy=False) == []
    assert not any(call.startswith("destroy") for call in calls(fake_pulumi))
    assert offer_stale_cleanup(pulumi, destroy=True) == ["acceptance-left"]
    assert calls(fake_pulumi)[-3:] == [
        "destroy --stack acceptance-left --yes --skip-preview --continue-on-error",
        "stack export --stack acceptance-left",
        "stack rm acceptance-left --yes",
    ]


def test_pull_request_environments_use_the_same_lifecycle(fake_pulumi: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`ephemeral.py up pr-7` creates the copy once, updates it on the next push; `destroy pr-7` removes it."""
    monkeypatch.setattr(ephemeral, "read_stack_config", lambda _: SOURCE_CONFIG)
    pulumi = Pulumi(say=quiet)
    assert ephemeral.deploy_environment(pulumi, "pr-7", SOURCE)["url"] == outputs()["url"]
    ephemeral.deploy_environment(pulumi, "pr-7", SOURCE)
    made = calls(fake_pulumi)
    assert sum(call.startswith("stack init pr-7") for call in made) == 1
    assert sum(call.startswith("up --stack pr-7") for call in made) == 2
    EphemeralStack(pulumi, Copy("pr-7", "", {})).destroy()
    assert calls(fake_pulumi)[-1] == "stack rm pr-7 --yes"


def test_copy_changes_only_what_a_throwaway_stack_needs() -> None:
    made = copy_overrides({**SOURCE_CONFIG, "alarm_email": "ops@example.com"}, NAME, SOURCE)
    assert made.overrides == {
        "alb_deletion_protection": "false",
        "alarm_email": "",
        "release_label": "1",
        "replicas": "2",
    }
    assert made.settings is not None and made.settings.replicas == 2


def test_copy_keeps_the_on_demand_base_and_moves_the_scaling_floor() -> None:
    spot = {"fargate_spot_percent": 50, "fargate_on_demand_base": 3, "replicas": 6}
    assert copy_overrides(spot, NAME, SOURCE).overrides["replicas"] == "3"
    scaling = {"enable_autoscaling": True, "autoscaling_min": 4, "autoscaling_max": 10, "replicas": 5}
    made = copy_overrides(scaling, NAME, SOURCE).overrides
    assert (made["replicas"], made["autoscaling_min"]) == ("2", "2")


def test_copy_gets_its_own_host_name_and_certificate_in_the_live_zone() -> None:
    live = {"enable_https": True, "domain_name": "api.example.com", "certificate_arn": CERTIFICATE}
    made = copy_overrides(live, NAME, SOURCE)
    assert made.overrides["domain_name"] == f"{NAME}.example.com"
    assert made.overrides["hosted_zone_name"] == "example.com"
    assert made.overrides["certificate_arn"] == ""  # the live certificate names the live host only
    assert made.settings is not None and made.settings.enable_https


def test_copy_without_a_domain_answers_on_its_alb_over_http() -> None:
    live = {"enable_https": True, "domain_name": "api.example.com"}
    made = copy_overrides(live, NAME, SOURCE, keep_domain=False)
    assert made.settings is not None
    assert (made.settings.domain_name, made.settings.enable_https) == ("", False)


CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0a1b-4c2d-8e3f-0a1b2c3d4e5f"


def test_a_production_stack_is_refused_without_the_flag() -> None:
    with pytest.raises(SystemExit, match="refusing to copy prod-eu: it is a production stack"):
        refuse_production("prod-eu", allow_production=False)
    refuse_production("prod-eu", allow_production=True)
    refuse_production("dev", allow_production=False)


# The AWS side of the checks, against moto.


@pytest.fixture(scope="module")
def aws() -> Iterator[dict[str, Any]]:
    """One moto account for these tests (starting one costs seconds): each test names its own resources."""
    with mock_aws():
        yield {name: boto3.client(name, region_name="us-east-1") for name in ("ecs", "elbv2", "cloudwatch", "ec2")}


def test_outputs_check_finds_the_dashboard_and_waits_for_every_alarm_to_be_ok(aws: dict[str, Any]) -> None:
    cloudwatch, names = aws["cloudwatch"], outputs()["alarm_names"]
    for name in names:
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            MetricName="HTTPCode_Target_5XX_Count",
            Namespace="AWS/ApplicationELB",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
        )
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="INSUFFICIENT_DATA", StateReason="new alarm")
    dashboard_url = outputs()["dashboard_url"]
    missing = check_outputs(cloudwatch, dashboard_url, names, wait_seconds=0)
    assert not missing.passed and missing.figure.startswith("dashboard MISSING; 0/2 alarms OK")
    cloudwatch.put_dashboard(DashboardName=f"{PROJECT}-{NAME}", DashboardBody='{"widgets": []}')
    cloudwatch.set_alarm_state(AlarmName=names[0], StateValue="OK", StateReason="test")
    cloudwatch.set_alarm_state(AlarmName=names[1], StateValue="ALARM", StateReason="test")
    one_firing = check_outputs(cloudwatch, dashboard_url, names, wait_seconds=0)
    assert not one_firing.passed and f"{names[1]}: ALARM" in one_firing.detail
    cloudwatch.set_alarm_state(AlarmName=names[1], StateValue="OK", StateReason="test")
    assert check_outputs(cloudwatch, dashboard_url, names, wait_seconds=0).passed


def test_zones_come_from_describe_tasks_and_two_are_needed(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    ecs = aws["ecs"]
    ecs.create_cluster(clusterName="zones")
    ecs.register_task_definition(family="app", containerDefinitions=[{"name": "app", "image": "app", "memory": 512}])
    ecs.create_service(cluster="zones", serviceName="svc", taskDefinition="app", desiredCount=2, launchType="FARGATE")
    ecs.run_task(cluster="zones", taskDefinition="app", count=2, launchType="FARGATE")  # moto starts none itself
    zones = task_zones(ecs, "zones", "svc")
    monkeypatch.setattr(acceptance_checks, "distinct_replicas", lambda *_: {"task-a", "task-b"})
    assert len(zones) == 2  # every running task of the service, described
    # moto leaves out `availabilityZone`, which ECS sets on every task: no zone known is a failure, not a pass.
    assert not check_replicas_with(zones).passed
    assert check_replicas_with({"a": "us-east-1a", "b": "us-east-1b"}).figure.endswith("tasks in 2 zones")
    assert not check_replicas_with({"a": "us-east-1a", "b": "us-east-1a"}).passed


def check_replicas_with(zones: dict[str, str]) -> Check:
    return check_replicas("http://unused", 2, zones)


def test_new_revision_share_is_read_from_the_production_rule(aws: dict[str, Any]) -> None:
    ec2, elbv2 = aws["ec2"], aws["elbv2"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{index}.0/24", AvailabilityZone=f"us-east-1{zone}")["Subnet"]
        for index, zone in enumerate("ab")
    ]
    alb = elbv2.create_load_balancer(Name="alb", Subnets=[subnet["SubnetId"] for subnet in subnets])
    listener = elbv2.create_listener(
        LoadBalancerArn=alb["LoadBalancers"][0]["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}],
    )["Listeners"][0]["ListenerArn"]
    blue, green = (
        elbv2.create_target_group(Name=name, Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip")["TargetGroups"][0][
            "TargetGroupArn"
        ]
        for name in ("blue", "green")
    )
    forward = {"TargetGroups": [{"TargetGroupArn": blue, "Weight": 80}, {"TargetGroupArn": green, "Weight": 20}]}
    rule = elbv2.create_rule(
        ListenerArn=listener,
        Priority=10,
        Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
        Actions=[{"Type": "forward", "ForwardConfig": forward}],
    )["Rules"][0]["RuleArn"]
    assert production_new_percent(elbv2, rule, green) == 20.0
    assert production_new_percent(elbv2, rule, blue) == 80.0


# The workflows that run the same code in CI.


class Scheduler(threading.Thread):
    """What ECS and the ALB do after a StopTask, against moto: the stopped task's target leaves its group at once,
    and `delay` later a new task runs and its target is healthy."""

    def __init__(self, aws: dict[str, Any], cluster: str, group: str, targets: dict[str, str], delay: float) -> None:
        super().__init__(daemon=True)
        self.ecs, self.elbv2 = aws["ecs"], aws["elbv2"]
        self.cluster, self.group, self.targets, self.delay = cluster, group, targets, delay
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.05):
            running = set(self.ecs.list_tasks(cluster=self.cluster, desiredStatus="RUNNING")["taskArns"])
            for arn in set(self.targets) - running:
                self.elbv2.deregister_targets(TargetGroupArn=self.group, Targets=[{"Id": self.targets.pop(arn)}])
                self.stopping.wait(self.delay)
                [task] = self.ecs.run_task(cluster=self.cluster, taskDefinition="app", launchType="FARGATE")["tasks"]
                self.targets[task["taskArn"]] = f"10.0.9.{len(self.targets) + 10}"
                self.elbv2.register_targets(TargetGroupArn=self.group, Targets=[{"Id": self.targets[task["taskArn"]]}])


def service_behind_a_target_group(aws: dict[str, Any], name: str) -> tuple[str, list[str]]:
    """A moto ECS service `svc` of two running tasks in cluster `name`, behind target group `name`; the group's ARN
    and the tasks' ARNs (their targets are not registered yet)."""
    ecs, elbv2 = aws["ecs"], aws["elbv2"]
    vpc = aws["ec2"].create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group = elbv2.create_target_group(Name=name, Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip")
    group_arn = group["TargetGroups"][0]["TargetGroupArn"]
    ecs.create_cluster(clusterName=name)
    ecs.register_task_definition(family="app", containerDefinitions=[{"name": "app", "image": "app", "memory": 512}])
    balancer = {"targetGroupArn": group_arn, "containerName": "app", "containerPort": 80}
    ecs.create_service(
        cluster=name,
        serviceName="svc",
        taskDefinition="app",
        desiredCount=2,
        launchType="FARGATE",
        loadBalancers=[balancer],
    )
    tasks = ecs.run_task(cluster=name, taskDefinition="app", count=2, launchType="FARGATE")["tasks"]
    return group_arn, [task["taskArn"] for task in tasks]


@pytest.fixture
def answering_url() -> Iterator[str]:
    """The ALB in front of the service: answers every request (the self-healing check counts failures through it)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_self_healing_stops_a_task_and_times_the_return_to_the_full_healthy_count(
    aws: dict[str, Any], answering_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    group, tasks = service_behind_a_target_group(aws, "heals")
    targets = {task: f"10.0.0.{index + 1}" for index, task in enumerate(tasks)}
    # moto's Fargate tasks carry no ENI attachment: give each task its target's IP, as DescribeTasks does on AWS, so
    # the stopped task's target never counts (else the check could end before the scheduler deregistered it).
    ips = dict(targets)
    monkeypatch.setattr(acceptance_checks, "task_ips", lambda ecs, cluster, task: {ips[task]} if task in ips else set())
    aws["elbv2"].register_targets(TargetGroupArn=group, Targets=[{"Id": ip} for ip in targets.values()])
    scheduler = Scheduler(aws, "heals", group, targets, delay=0.5)
    scheduler.start()
    try:
        healed = check_self_healing(
            aws["ecs"], aws["elbv2"], "heals", "svc", answering_url, model_seconds=40, timeout=30, poll_seconds=0.1
        )
    finally:
        scheduler.stopping.set()
        scheduler.join()
    assert healed.passed, healed
    assert healed.data["seconds"] >= 0.5 and healed.data["failures"] == 0 and healed.model == "40 s"
    assert len(aws["ecs"].list_tasks(cluster="heals", desiredStatus="STOPPED")["taskArns"]) == 1  # one, no more


def test_self_healing_fails_when_the_service_does_not_heal_in_time(aws: dict[str, Any], answering_url: str) -> None:
    group, _ = service_behind_a_target_group(aws, "stuck")
    aws["elbv2"].register_targets(TargetGroupArn=group, Targets=[{"Id": "10.0.0.1"}])  # one healthy target, never two
    stuck = check_self_healing(
        aws["ecs"], aws["elbv2"], "stuck", "svc", answering_url, model_seconds=40, timeout=0.3, poll_seconds=0.1
    )
    assert not stuck.passed and stuck.figure.startswith("1/2 healthy after")
