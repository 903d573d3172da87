"""`make acceptance`: deploy a throwaway copy of a stack, check what the template promises on it, always clean up.

    python scripts/acceptance.py --from STACK [--keep] [--no-domain] [--allow-prod] [--destroy-stale] [--name NAME]

1. Finds `acceptance-*` stacks earlier runs left behind and offers to destroy them (--destroy-stale: without asking).
2. Creates `acceptance-<id>` from STACK's config with the few changes a throwaway copy needs (scripts/ephemeral.py),
   and runs `pulumi up` with the policy pack.
3. Checks, each with a figure: the URL answers; enough distinct tasks answer, in two or more zones; a stopped task is
   replaced (against infra/timing.py's model); the dashboard exists and the alarms are OK; with WAF, a bad input is
   blocked; a release under paced load fails no request (and, for blue-green, canary and linear, the new
   revision's share at each step).
4. Destroys the stack and removes it: on success, on a failed check, on an error and on Ctrl-C (--keep: leaves it).
5. Writes acceptance-report.md and acceptance-report.json: the checks, their figures, each phase's duration, what the
   copy changed, and what the run cost at the cost estimate's prices.
Refuses a --name that names an existing stack or a prod* one: the cleanup destroys the stack of that name.
Exit status: 0 when every check passed and the stack was cleaned up, 1 otherwise, 130 after an interrupt.
"""

import argparse
import contextlib
import dataclasses
import json
import secrets
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
from acceptance_checks import (
    AWS_ACTIONS as CHECK_ACTIONS,
)
from acceptance_checks import (
    Check,
    PacedLoad,
    WeightWatcher,
    check_answers,
    check_outputs,
    check_release,
    check_replicas,
    check_self_healing,
    check_waf,
    load_rate,
    production_new_percent,
    shares_by_step,
    task_zones,
)
from ephemeral import (
    ACCEPTANCE_PREFIX,
    Copy,
    EphemeralStack,
    Pulumi,
    always_destroyed,
    copy_overrides,
    offer_stale_cleanup,
    read_stack_config,
    refuse_name,
    refuse_production,
)
from rollout import rollout_failure

ROOT = Path(__file__).resolve().parent.parent
# Its own call (the release rule before the rollout) and the checks'.
AWS_ACTIONS = sorted({"elasticloadbalancing:DescribeRules", *CHECK_ACTIONS})
sys.path.insert(0, str(ROOT))
from infra.cost import run_cost  # noqa: E402
from infra.timing import release_seconds, stopped_task_replacement_seconds, traffic_schedule  # noqa: E402
from infra.validation import Settings  # noqa: E402

HEAL_TIMEOUT_SECONDS = 600
ALARM_WAIT_SECONDS = 300
# After `pulumi up` returns (it waits for the service, and for non-rolling strategies through the bakes), how long
# scripts/rollout.py may wait for ECS to mark the release finished.
ROLLOUT_WAIT_SECONDS = 600


@dataclass
class Report:
    stack: str
    source: str
    changes: list[str]
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    phases: dict[str, float] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    cleanup: str = "not started"
    error: str = ""
    monthly_usd: float = 0.0
    run_usd: float = 0.0

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.phases[name] = round(time.monotonic() - started, 1)

    def check(self, name: str, run: Callable[[], Check]) -> None:
        """Run one check; an exception in it is that check's failure, and the other checks still run."""
        try:
            self.checks.append(run())
        except Exception as error:  # a check that cannot run has failed; the run goes on to clean up
            self.checks.append(Check(name, False, "could not run", detail=f"{type(error).__name__}: {error}"))

    @property
    def passed(self) -> bool:
        judged = [check.passed for check in self.checks if check.passed is not None]
        return bool(judged) and all(judged) and not self.error and self.cleanup in {"destroyed and removed", "kept"}

    def markdown(self) -> str:
        rows = [
            f"| {check.name} | {'-' if check.passed is None else 'pass' if check.passed else '**FAIL**'} "
            f"| {check.figure} | {check.model or '-'} | {check.detail or ''} |"
            for check in self.checks
        ]
        phases = [f"| {name} | {seconds:.0f} s |" for name, seconds in self.phases.items()]
        return "\n".join(
            [
                f"# Acceptance run: {'PASSED' if self.passed else 'FAILED'}",
                "",
                f"Stack `{self.stack}`, a copy of `{self.source}`, started {self.started}. Cleanup: {self.cleanup}.",
                *([f"\nError: {self.error}"] if self.error else []),
                "",
                "What the copy changed:",
                "",
                *(f"- {change}" for change in self.changes),
                "",
                "| check | result | figure | model | detail |",
                "|---|---|---|---|---|",
                *rows,
                "",
                "| phase | took |",
                "|---|---|",
                *phases,
                "",
                f"Cost of this run at the cost estimate's prices (`make cost`): ${self.run_usd:.2f} "
                f"(${self.monthly_usd:,.2f} a month, for {sum(self.phases.values()) / 3600:.2f} h).",
            ]
        )

    def write(self, directory: Path) -> None:
        (directory / "acceptance-report.md").write_text(self.markdown() + "\n")
        document = {**dataclasses.asdict(self), "passed": self.passed}
        (directory / "acceptance-report.json").write_text(json.dumps(document, indent=2) + "\n")


@dataclass
class Clients:
    ecs: Any
    elbv2: Any
    cloudwatch: Any

    @classmethod
    def for_region(cls, region: str) -> "Clients":
        return cls(*(boto3.client(service, region_name=region) for service in ("ecs", "elbv2", "cloudwatch")))


def release_under_load(stack: EphemeralStack, settings: Settings, outputs: dict[str, Any], clients: Clients) -> Check:
    """Change release_label, `pulumi up`, with paced requests throughout; shares per weight for non-rolling."""
    rate = load_rate(
        settings.enable_waf, settings.waf_count_mode, settings.waf_rate_limit, settings.waf_rate_window_seconds
    )
    new_release = "2"
    release = outputs.get("release_traffic") or {}
    watcher_source: Callable[[], float] = lambda: 0.0  # noqa: E731
    if release.get("production_rule_arn"):
        [before] = clients.elbv2.describe_rules(RuleArns=[release["production_rule_arn"]])["Rules"]
        [forward] = [action for action in before["Actions"] if action["Type"] == "forward"]
        # The new revision goes to the group that holds no production traffic now.
        [new_group] = [
            group["TargetGroupArn"] for group in forward["ForwardConfig"]["TargetGroups"] if not group.get("Weight")
        ]
        watcher_source = lambda: production_new_percent(  # noqa: E731
            clients.elbv2, release["production_rule_arn"], new_group
        )
    started = time.monotonic()
    with PacedLoad(outputs["url"] + "/", rate) as load, WeightWatcher(watcher_source) as watcher:
        stack.configure("release_label", new_release)
        stack.up()
        failure = rollout_failure(
            clients.ecs,
            outputs["cluster_name"],
            outputs["service_name"],
            stack.outputs()["task_definition_arn"],
            timeout=ROLLOUT_WAIT_SECONDS,
        )
    seconds = time.monotonic() - started
    schedule = [(shift.new_percent, shift.bake_minutes) for shift in traffic_schedule(settings)]
    steps = shares_by_step(load.samples, watcher.changes, new_release, settle=5.0) if schedule else []
    return check_release(
        load,
        seconds,
        model_seconds=release_seconds(settings),
        rollout_failure=failure,
        schedule=schedule,
        steps=steps,
    )


def run_checks(
    report: Report, stack: EphemeralStack, settings: Settings, outputs: dict[str, Any], clients: Clients
) -> None:
    url = outputs["url"]
    report.check("answers", lambda: check_answers(url, settings.health_check_path, settings.enable_https))
    if not report.checks[-1].passed:
        report.checks.append(Check("the rest", False, "skipped: the URL does not answer"))
        return
    cluster, service = outputs["cluster_name"], outputs["service_name"]
    report.check("replicas", lambda: check_replicas(url, settings.replicas, task_zones(clients.ecs, cluster, service)))
    report.check(
        "self-healing",
        lambda: check_self_healing(
            clients.ecs,
            clients.elbv2,
            cluster,
            service,
            url,
            model_seconds=stopped_task_replacement_seconds(settings),
            timeout=HEAL_TIMEOUT_SECONDS,
        ),
    )
    # Before the release: its rollback alarms must be OK when it starts (ECS fails a deployment while one is in
    # ALARM), so a task stopped just before cannot roll the release back; the release's own alarms are judged by
    # rollout.py after it.
    report.check(
        "outputs",
        lambda: check_outputs(clients.cloudwatch, outputs["dashboard_url"], outputs["alarm_names"], ALARM_WAIT_SECONDS),
    )
    if settings.enable_waf:
        report.check("waf", lambda: check_waf(url, settings.waf_count_mode))
    report.check("release under load", lambda: release_under_load(stack, settings, outputs, clients))


def run_acceptance(
    pulumi: Pulumi,
    copy: Copy,
    keep: bool,
    report_dir: Path,
    clients: Callable[[str], Clients] = Clients.for_region,
) -> Report:
    """The whole run for a prepared copy; the report is written whatever happens, after the cleanup."""
    assert copy.settings is not None
    report = Report(copy.name, copy.source, copy.changes)
    stack = EphemeralStack(pulumi, copy)
    body_ended = 0.0
    try:
        with always_destroyed(stack, keep):
            try:
                with report.phase("create"):
                    stack.create()
                with report.phase("deploy"):
                    stack.up()
                with report.phase("checks"):
                    run_checks(report, stack, copy.settings, stack.outputs(), clients(copy.settings.aws_region))
            except BaseException as error:
                report.error = f"{type(error).__name__}: {error}".rstrip(": ")
                raise
            finally:
                body_ended = time.monotonic()
    finally:
        report.cleanup = stack.cleanup
        if body_ended and stack.cleanup != "kept":
            report.phases["destroy"] = round(time.monotonic() - body_ended, 1)
        report.monthly_usd, report.run_usd = run_cost(copy.settings, sum(report.phases.values()) / 3600)
        report.write(report_dir)
        pulumi.say(report.markdown())
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="source", required=True, help="the stack whose config the copy starts from")
    parser.add_argument("--name", help=f"the copy's stack name (default: {ACCEPTANCE_PREFIX}<random id>)")
    parser.add_argument("--keep", action="store_true", help="leave the stack for inspection (prints how to destroy it)")
    parser.add_argument("--no-domain", action="store_true", help="leave the domain out instead of a host of its own")
    parser.add_argument("--allow-prod", action="store_true", help="allow copying a prod* stack")
    parser.add_argument("--destroy-stale", action="store_true", help="destroy stale acceptance stacks without asking")
    parser.add_argument("--report-dir", type=Path, default=ROOT)
    args = parser.parse_args()
    refuse_production(args.source, args.allow_prod)
    pulumi = Pulumi()
    name = args.name or f"{ACCEPTANCE_PREFIX}{secrets.token_hex(4)}"
    refuse_name(pulumi, name)  # before anything: the cleanup destroys the stack of this name
    offer_stale_cleanup(pulumi, True if args.destroy_stale else None)
    copy = copy_overrides(read_stack_config(args.source), name, args.source, keep_domain=not args.no_domain)
    try:
        report = run_acceptance(pulumi, copy, args.keep, args.report_dir)
    except KeyboardInterrupt:
        return 130
    except Exception:
        return 1
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
