"""Throwaway copies of a stack: created from its config, deployed, and always destroyed and removed.

One lifecycle for three callers: `make acceptance` (scripts/acceptance.py), the pull-request environments
(.github/workflows/preview-env.yml) and the cleanup of a copy kept with `--keep` or left by a run that died:

    python scripts/ephemeral.py up pr-42 --from dev      # create (or update) pr-42 from dev's config, print its URL
    python scripts/ephemeral.py destroy pr-42            # destroy pr-42's resources, then remove the stack
    python scripts/ephemeral.py stale [--destroy] [--open-prs 3,7]  # acceptance-* (and closed pr-*) stacks left

A copy changes only what a throwaway stack needs (`copy_overrides`): deletion protection off, the fewest replicas
the rules allow, no alarm email, and its own host name in the live stack's zone (or no domain), so it never
touches a record, certificate or name the live stack owns. It keeps the live stack's `secrets` and `environment`:
the copy talks to the same databases and APIs.
"""

import argparse
import contextlib
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import boto3  # type: ignore[import-untyped]
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from infra.stack_file import read_stack_file  # noqa: E402
from infra.timing import acceptance_job_minutes  # noqa: E402
from infra.validation import (  # noqa: E402
    ACM_FIRST_NAME_MAX_LENGTH,
    DEFAULTS,
    Settings,
    fewest_replicas,
    is_production,
    parse_settings,
    pull_through_prefix,
    stack_resource_name,
)

ACCEPTANCE_PREFIX = "acceptance-"
# A stack updated this recently may belong to a run still going (`pulumi stack ls` names no owner): not stale yet.
# The longest run, its destroy included (infra/timing.py), plus an hour.
STALE_AFTER_HOURS = -(-acceptance_job_minutes() // 60) + 1
PULL_REQUEST_PREFIX = "pr-"
# What the cleanup calls besides Pulumi (delete_leftovers): the README lists them with the run's permissions.
AWS_ACTIONS = ["logs:DeleteLogGroup", "ecr:DescribeRepositories", "ecr:DeleteRepository"]
# After an interrupt, how long Pulumi may take to finish the operations in flight before it is stopped for good; a
# second interrupt cuts this short with Pulumi's own hard cancel (a second SIGINT), then a kill after HARD_GRACE.
CANCEL_GRACE_SECONDS = 300
HARD_CANCEL_GRACE_SECONDS = 30


class PulumiFailed(RuntimeError):
    def __init__(self, args: list[str], returncode: int) -> None:
        super().__init__(f"`pulumi {' '.join(args)}` failed (exit {returncode})")


class Pulumi:
    """The Pulumi CLI, run in the project directory.

    Each command runs in its own session, so a Ctrl-C in the terminal reaches only this script, which passes one
    SIGINT on (Pulumi then finishes the operations in flight and stops) and goes on to clean up; the cleanup's own
    commands never see the user's further Ctrl-Cs.
    """

    def __init__(self, cwd: Path = ROOT, say: Callable[[str], None] = print) -> None:
        self.cwd = cwd
        self.say = say

    def run(self, *args: str, capture: bool = False) -> str:
        command = ["pulumi", *args]
        process = subprocess.Popen(
            command, cwd=self.cwd, stdout=subprocess.PIPE if capture else None, text=True, start_new_session=True
        )
        try:
            output, _ = process.communicate()
        except BaseException:
            stop(process)
            raise
        if process.returncode != 0:
            raise PulumiFailed(list(args), process.returncode)
        return output or ""

    def json(self, *args: str, json_flag: bool = True) -> Any:
        return json.loads(self.run(*args, *(["--json"] if json_flag else []), capture=True) or "null")


def stop(process: subprocess.Popen[str]) -> None:
    """Stop a Pulumi command for good before anything else touches its stack.

    One SIGINT: Pulumi finishes the operations in flight and exits. A further interrupt while it does (a second Ctrl-C,
    a CI runner's SIGTERM after its SIGINT) is passed on as a second SIGINT, Pulumi's own hard cancel, and the wait
    goes on; only then a kill. Never returns while the process runs: a destroy must not race an update.
    """
    for sent, grace in ((signal.SIGINT, CANCEL_GRACE_SECONDS), (signal.SIGINT, HARD_CANCEL_GRACE_SECONDS)):
        if process.poll() is not None:
            return
        process.send_signal(sent)
        try:
            process.wait(timeout=grace)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            continue
    while process.poll() is None:
        process.kill()
        with contextlib.suppress(KeyboardInterrupt):
            process.wait()


Handler = Callable[[int, FrameType | None], None]


@contextlib.contextmanager
def interrupts_handled_by(handler: Handler) -> Iterator[None]:
    """SIGINT (Ctrl-C) and SIGTERM (a CI cancel, `kill`) go to `handler` inside the block."""
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, restored in previous.items():
            signal.signal(sig, restored)


def interrupts_raise() -> contextlib.AbstractContextManager[None]:
    """An interrupt stops the current step with KeyboardInterrupt (SIGTERM too, which would otherwise kill)."""

    def stop(signum: int, _: FrameType | None) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    return interrupts_handled_by(stop)


def interrupts_ignored(say: Callable[[str], None] = print) -> contextlib.AbstractContextManager[None]:
    """While cleaning up: a further interrupt would leave resources behind, so it is noted and ignored."""

    def note(signum: int, _: FrameType | None) -> None:
        say(f"{signal.Signals(signum).name} ignored: destroying the stack (`kill -9` would leave resources behind)")

    return interrupts_handled_by(note)


def read_stack_config(stack: str, root: Path = ROOT) -> dict[str, Any]:
    """A stack's settings (project keys without their namespace, plus aws_region) as `pulumi` reads its files
    (infra/stack_file.py: YAML 1.2, Pulumi.yaml's defaults). A secure value is present but unknown here: it is left
    out, so validation takes the setting's default in its place (`stack init --copy-config-from` copies the secret
    itself; a copy overrides alarm_email anyway)."""
    found = read_stack_file(stack, root)
    prefix = f"{found.project}:"
    settings = {key.removeprefix(prefix): value for key, value in found.config.items() if key.startswith(prefix)}
    return {**settings, "aws_region": found.config.get("aws:region") or DEFAULTS["aws_region"]}


@dataclass
class Copy:
    """What a throwaway copy of `source` changes, and why: the report lists these lines."""

    name: str
    source: str
    overrides: dict[str, str]
    changes: list[str] = field(default_factory=list)
    settings: Settings | None = None


def copy_overrides(source_config: dict[str, Any], name: str, source: str, keep_domain: bool = True) -> Copy:
    """The config a copy named `name` sets on top of `source`'s (pure: tests call it with any config)."""
    parse_settings(source_config)  # a broken source config stops here, with the program's own message
    overrides: dict[str, Any] = {"alb_deletion_protection": False, "alarm_email": "", "release_label": "1"}
    changes = [
        "alb_deletion_protection=false: the copy must be destroyable",
        "alarm_email='': the team's inbox gets no subscription confirmation from a throwaway stack",
        "release_label=1: the release check changes it to 2 and counts which answers came from which",
    ]
    if source_config.get("domain_name"):
        zone = parse_settings(source_config).zone_name
        if keep_domain:
            host = f"{name}.{zone}"
            if len(host) > ACM_FIRST_NAME_MAX_LENGTH:
                raise SystemExit(
                    f"the copy's host name {host} has {len(host)} characters; ACM allows {ACM_FIRST_NAME_MAX_LENGTH} "
                    "for a certificate's first name: give a shorter --name, or --no-domain"
                )
            overrides |= {"domain_name": host, "hosted_zone_name": zone, "certificate_arn": ""}
            changes.append(
                f"domain_name={host}: its own record in {zone} (and its own DNS-validated certificate with HTTPS), "
                "never the live stack's"
            )
        else:
            overrides |= {"domain_name": "", "hosted_zone_name": "", "certificate_arn": "", "enable_https": False}
            changes.append("no domain: the copy answers on its ALB's DNS name over HTTP (--no-domain)")
    before = parse_settings({**source_config, **overrides})
    replicas = fewest_replicas(before)
    overrides["replicas"] = replicas
    if before.enable_autoscaling:
        overrides["autoscaling_min"] = replicas
    changes.append(f"replicas={replicas}: the fewest the rules allow with this config")
    changes.append(
        f"unchanged: {source}'s secrets and environment variables; the copy's tasks reach the same databases and APIs"
    )
    settings = parse_settings({**source_config, **overrides})
    text = {key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in overrides.items()}
    return Copy(name, source, text, changes, settings)


def refuse_production(source: str, allow_production: bool) -> None:
    if is_production(source) and not allow_production:
        raise SystemExit(
            f"refusing to copy {source}: it is a production stack (prod*); its config may carry production-only "
            "settings. Pass --allow-prod to copy it anyway"
        )


def refuse_name(pulumi: "Pulumi", name: str) -> None:
    """A copy's name must be new and never a production name: the cleanup destroys what the run created."""
    if is_production(name):
        raise SystemExit(f"refusing the copy name {name}: prod* names belong to production stacks")
    if stack_exists(pulumi, name):
        raise SystemExit(f"refusing the copy name {name}: a stack of that name exists, and the run would destroy it")


class LeftBehind(RuntimeError):
    """`pulumi destroy` finished, but the state still lists operations an interrupted update never finished."""

    def __init__(self, name: str, pending: list[str]) -> None:
        super().__init__(
            f"{name} has {len(pending)} pending operation(s) an interrupted update left (Pulumi cannot tell whether "
            f"they created anything, so destroy skips them): {'; '.join(pending)}. The stack is kept: find each one "
            f"in the AWS console and delete it, then `pulumi stack export --stack {name}`, remove its "
            f"pending_operations, `pulumi stack import`, and run {cleanup_hint(name)}"
        )
        self.pending = pending


class EphemeralStack:
    """One throwaway stack: `create`, `up`, `outputs`, and `destroy`, which also removes the stack."""

    def __init__(self, pulumi: Pulumi, copy: Copy) -> None:
        self.pulumi = pulumi
        self.copy = copy
        self.created = False
        self.cleanup = "not started"  # then: kept, destroyed and removed, nothing to destroy, FAILED

    @property
    def name(self) -> str:
        return self.copy.name

    def create(self) -> None:
        try:
            self.pulumi.run("stack", "init", self.name, "--copy-config-from", self.copy.source, "--no-select")
        except PulumiFailed:
            raise  # Pulumi refused (a name taken, say): nothing of this run's to destroy
        except BaseException:
            self.created = True  # an init cut short may have made the stack, and its name was new (refuse_name)
            raise
        self.created = True
        self.configure_copy()

    def configure_copy(self) -> None:
        """The copy's config from the source stack's and the overrides, again at every run (idempotent): a stack's
        config file exists only where it was written (a CI runner's checkout), never in the backend."""
        self.pulumi.run("config", "cp", "--stack", self.copy.source, "--dest", self.name)
        for key, value in self.copy.overrides.items():
            self.configure(key, value)

    def configure(self, key: str, value: str) -> None:
        self.pulumi.run("config", "set", key, value, "--stack", self.name)

    def up(self) -> None:
        # --refresh as `make up`: an update of the web ACL sends the rules in the state (infra/waf.py).
        self.pulumi.run("up", "--stack", self.name, "--yes", "--skip-preview", "--policy-pack", "policy", "--refresh")

    def outputs(self) -> dict[str, Any]:
        return dict(self.pulumi.json("stack", "output", "--stack", self.name))

    def destroy(self) -> None:
        """Destroy every resource, delete what AWS made outside Pulumi, then remove the stack.

        A failed destroy is tried once more after `pulumi cancel` (which ends an update a killed run left open: Pulumi
        Cloud keeps it open and refuses every other operation; a backend without one answers with an error, ignored)
        and `pulumi refresh`. The stack is removed only once it holds nothing and no pending operation: `stack rm
        --force` would forget resources that still exist.
        """
        try:
            outputs = self.outputs()
        except (PulumiFailed, ValueError):
            outputs = {}
        try:
            self.pulumi.run("destroy", "--stack", self.name, "--yes", "--skip-preview", "--continue-on-error")
        except PulumiFailed:
            self.pulumi.say("destroy failed: ending any update left open, refreshing, and trying once more")
            with contextlib.suppress(PulumiFailed):
                self.pulumi.run("cancel", "--yes", "--stack", self.name)
            self.pulumi.run("refresh", "--stack", self.name, "--yes", "--skip-preview")
            self.pulumi.run("destroy", "--stack", self.name, "--yes", "--skip-preview", "--continue-on-error")
        for deleted in delete_leftovers(outputs, self.name):
            self.pulumi.say(f"deleted {deleted} (made by AWS, not by Pulumi)")
        pending = pending_operations(self.pulumi.json("stack", "export", "--stack", self.name, json_flag=False))
        if pending:
            raise LeftBehind(self.name, pending)
        self.pulumi.run("stack", "rm", self.name, "--yes")


def pending_operations(state: Any) -> list[str]:
    """`pulumi stack export`'s pending operations as `type urn (id)`: what an interrupted update may have created."""
    operations = ((state or {}).get("deployment") or {}).get("pending_operations") or []
    described = []
    for operation in operations:
        resource = operation.get("resource") or {}
        identity = f" (id {resource['id']})" if resource.get("id") else ""
        described.append(f"{operation.get('type', '?')} {resource.get('urn', '?')}{identity}")
    return described


def delete_leftovers(
    outputs: dict[str, Any], stack: str, clients: Callable[[str, str], Any] | None = None
) -> list[str]:
    """What AWS creates for a stack outside Pulumi, deleted after its destroy (names from outputs read before it).

    - Container Insights' performance log group, /aws/ecs/containerinsights/<cluster>/performance (ECS creates it
      for a cluster with Container Insights on, which infra/cluster.py turns on);
    - with tracing, the repositories ECR's pull through cache created under this stack's prefix (infra/tracing.py).
    """
    arn = str(outputs.get("task_definition_arn") or "")
    if not outputs.get("cluster_name") or arn.count(":") < 4:
        return []
    region = arn.split(":")[3]
    clients = clients or (lambda service, in_region: boto3.client(service, region_name=in_region))
    deleted = []
    logs = clients("logs", region)
    group = f"/aws/ecs/containerinsights/{outputs['cluster_name']}/performance"
    with contextlib.suppress(logs.exceptions.ResourceNotFoundException):
        logs.delete_log_group(logGroupName=group)
        deleted.append(f"log group {group}")
    ecr = clients("ecr", region)
    prefix = pull_through_prefix(stack_resource_name(project_name(), stack)) + "/"
    for page in ecr.get_paginator("describe_repositories").paginate():
        for repository in page["repositories"]:
            if repository["repositoryName"].startswith(prefix):
                ecr.delete_repository(repositoryName=repository["repositoryName"], force=True)
                deleted.append(f"ECR repository {repository['repositoryName']}")
    return deleted


def project_name(root: Path = ROOT) -> str:
    return str(yaml.safe_load((root / "Pulumi.yaml").read_text())["name"])


def cleanup_hint(name: str) -> str:
    return f"python scripts/ephemeral.py destroy {name}   (or: pulumi destroy --stack {name} --remove)"


@contextlib.contextmanager
def always_destroyed(stack: EphemeralStack, keep: bool = False) -> Iterator[EphemeralStack]:
    """Yield the stack; whatever happens inside (a failed check, an error, Ctrl-C), destroy and remove it after.

    Only a stack this run created (its name was refused unless new). With `keep`, leave it and print how to destroy it
    later. A destroy that fails, or leaves pending operations, is reported, never hidden.
    """
    try:
        with interrupts_raise():
            yield stack
    finally:
        with interrupts_ignored(stack.pulumi.say):
            try:
                if keep and stack.created:
                    stack.cleanup = "kept"
                    stack.pulumi.say(f"kept {stack.name}; destroy it later with: {cleanup_hint(stack.name)}")
                elif stack.created and stack_exists(stack.pulumi, stack.name):
                    stack.destroy()
                    stack.cleanup = "destroyed and removed"
                else:
                    stack.cleanup = "nothing to destroy"
            except (PulumiFailed, LeftBehind, OSError) as failure:
                stack.cleanup = f"FAILED ({failure})"
                stack.pulumi.say(f"CLEANUP FAILED ({failure}): resources may remain; run {cleanup_hint(stack.name)}")
                raise


def stack_summaries(pulumi: Pulumi) -> list[dict[str, Any]]:
    """`pulumi stack ls --json`: name, lastUpdate, updateInProgress, resourceCount... of this project's stacks."""
    return list(pulumi.json("stack", "ls") or [])


def short_name(summary: dict[str, Any]) -> str:
    return str(summary["name"]).rsplit("/", 1)[-1]  # Pulumi Cloud may print org/project/stack


def stack_exists(pulumi: Pulumi, name: str) -> bool:
    return any(short_name(summary) == name for summary in stack_summaries(pulumi))


@dataclass
class Stale:
    """Stacks left behind: `idle` ones (old enough) and `stuck` ones (an update open, of unknown age)."""

    idle: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)


def left_behind(summary: dict[str, Any], open_pull_requests: set[int] | None) -> bool:
    name = short_name(summary)
    if name.startswith(ACCEPTANCE_PREFIX):
        return True
    number = name.removeprefix(PULL_REQUEST_PREFIX)
    return (
        open_pull_requests is not None and name != number and number.isdigit() and int(number) not in open_pull_requests
    )


def stale_stacks(summaries: list[dict[str, Any]], now: datetime, open_pull_requests: set[int] | None = None) -> Stale:
    """Acceptance stacks (and, given the open labelled pull requests, pr-<n> stacks of the others) left behind.

    Idle: the last update started over STALE_AFTER_HOURS ago (the longest run could not still be going). Stuck: an
    update is open (`updateInProgress`); `pulumi stack ls` then prints no time, so its age is unknown: a crashed run
    leaves it open on Pulumi Cloud until `pulumi cancel`, but it may also be a run going now. A stack without any
    update (never deployed: no resource) and a time that cannot be read are left alone.
    """
    stale = Stale()
    for summary in summaries:
        if not left_behind(summary, open_pull_requests):
            continue
        if summary.get("updateInProgress"):
            stale.stuck.append(short_name(summary))
            continue
        try:  # `pulumi stack ls --json` prints an ISO 8601 time in UTC
            updated = datetime.fromisoformat(str(summary.get("lastUpdate")).replace("Z", "+00:00"))
        except ValueError:
            continue  # no time, or one it cannot read, is no reason to destroy anything
        if (now - updated).total_seconds() >= STALE_AFTER_HOURS * 3600:
            stale.idle.append(short_name(summary))
    return stale


def offer_stale_cleanup(
    pulumi: Pulumi,
    destroy: bool | None,
    ask: Callable[[str], str] = input,
    open_pull_requests: set[int] | None = None,
    cancel_stuck: bool = False,
) -> list[str]:
    """Find stacks left behind and destroy them: when `destroy`, or when the user says yes (None: ask).

    A stuck stack (an update open, of unknown age) is destroyed after `pulumi cancel` only when asked for by name
    (`cancel_stuck`), or when the user says yes to it: it may be a run going now.
    """
    stale = stale_stacks(stack_summaries(pulumi), datetime.now(UTC), open_pull_requests)
    if stale.stuck:
        pulumi.say(
            f"stacks with an update open (`pulumi stack ls` gives no time, so their age is unknown; a crashed run "
            f"leaves one open until `pulumi cancel`): {', '.join(stale.stuck)}"
        )
    if not stale.idle and not stale.stuck:
        return []
    if stale.idle:
        pulumi.say(f"stale stacks from earlier runs: {', '.join(stale.idle)}")
    interactive = destroy is None and sys.stdin.isatty()
    if destroy is None:
        destroy = interactive and bool(stale.idle) and yes(ask("destroy the stale ones now? [y/N] "))
    if interactive and stale.stuck:
        cancel_stuck = yes(
            ask("is no run using those with an update open? cancel their update and destroy them? [y/N] ")
        )
    chosen = (stale.idle if destroy else []) + (stale.stuck if cancel_stuck else [])
    if not chosen:
        pulumi.say(f"left alone; each one: {cleanup_hint('<stack>')}")
        return []
    for name in chosen:
        if name in stale.stuck:
            pulumi.run("cancel", "--yes", "--stack", name)
        EphemeralStack(pulumi, Copy(name, "", {})).destroy()
    return chosen


def yes(answer: str) -> bool:
    return answer.strip().lower() in {"y", "yes"}


def wait_for_open_update(pulumi: Pulumi, name: str, timeout: float, poll: float = 30.0) -> None:
    """Before destroying a pull-request environment: let a deploy in flight finish (its job is bounded), so the
    destroy neither fails on the stack's lock nor cancels it midway; after `timeout` the destroy goes on."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(
        short_name(summary) == name and summary.get("updateInProgress") for summary in stack_summaries(pulumi)
    ):
        pulumi.say(f"{name}: an update is in progress; waiting for it before destroying")
        time.sleep(poll)


def deploy_environment(pulumi: Pulumi, name: str, source: str, allow_production: bool = False) -> dict[str, Any]:
    """A long-lived copy (pull-request environment): created on first use, updated after, destroyed on its own.

    Every run sets the copy's config again from the source stack's and the overrides: the runner that created it
    kept its config file, the next one starts from a checkout without it.
    """
    refuse_production(source, allow_production)
    if is_production(name):
        raise SystemExit(f"refusing the copy name {name}: prod* names belong to production stacks")
    copy = copy_overrides(read_stack_config(source), name, source)
    stack = EphemeralStack(pulumi, copy)
    with interrupts_raise():
        if stack_exists(pulumi, name):
            stack.configure_copy()
        else:
            try:
                stack.create()
            except BaseException:
                if stack.created:  # not after an init Pulumi refused: the stack is not this run's
                    with interrupts_ignored(pulumi.say):
                        stack.destroy()
                raise
        stack.up()
        return stack.outputs()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="create or update a copy of a stack (a pull-request environment)")
    up.add_argument("name")
    up.add_argument("--from", dest="source", required=True, help="the stack whose config the copy starts from")
    up.add_argument("--allow-prod", action="store_true", help="allow copying a prod* stack")
    up.add_argument("--output-file", type=Path, help="also write the URL here as url=<url> (GITHUB_OUTPUT)")
    destroy = commands.add_parser("destroy", help="destroy a copy's resources, then remove the stack")
    destroy.add_argument("name")
    destroy.add_argument(
        "--wait-for-update", type=float, default=0, metavar="MINUTES", help="first let an update in flight finish"
    )
    stale = commands.add_parser("stale", help="acceptance-* (and closed pr-*) stacks left behind")
    stale.add_argument("--destroy", action="store_true", help="destroy the idle ones without asking")
    stale.add_argument("--cancel-stuck", action="store_true", help="also cancel the open update of stuck ones, destroy")
    stale.add_argument("--open-prs", help="comma-separated open pull requests with the label: other pr-<n> are stale")
    args = parser.parse_args()
    pulumi = Pulumi()
    if args.command == "up":
        outputs = deploy_environment(pulumi, args.name, args.source, args.allow_prod)
        print(f"url: {outputs['url']}")
        if args.output_file:
            with args.output_file.open("a") as output:
                output.write(f"url={outputs['url']}\n")
    elif args.command == "destroy":
        if is_production(args.name):
            raise SystemExit(f"refusing to destroy {args.name}: a production stack is never a throwaway copy")
        wait_for_open_update(pulumi, args.name, args.wait_for_update * 60)
        if stack_exists(pulumi, args.name):
            with interrupts_ignored(pulumi.say):
                EphemeralStack(pulumi, Copy(args.name, "", {})).destroy()
        else:
            print(f"{args.name}: no such stack, nothing to destroy")
    else:
        numbers = None if args.open_prs is None else {int(n) for n in args.open_prs.split(",") if n.strip()}
        offer_stale_cleanup(
            pulumi, True if args.destroy else None, open_pull_requests=numbers, cancel_stuck=args.cancel_stuck
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
