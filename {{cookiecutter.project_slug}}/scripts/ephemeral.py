"""Throwaway copies of a stack: created from its config, deployed, and always destroyed and removed.

One lifecycle for three callers: `make acceptance` (scripts/acceptance.py), the pull-request environments
(.github/workflows/preview-env.yml) and the cleanup of a copy kept with `--keep` or left by a run that died:

    python scripts/ephemeral.py up pr-42 --from dev      # create (or update) pr-42 from dev's config, print its URL
    python scripts/ephemeral.py destroy pr-42            # destroy pr-42's resources, then remove the stack
    python scripts/ephemeral.py stale [--destroy]        # acceptance-* stacks no run is updating

A copy changes only what a throwaway stack needs (`copy_overrides`): deletion protection off, the fewest replicas
the rules allow, no alarm email, and its own host name in the live stack's zone (or no domain), so it never
touches a record, certificate or name the live stack owns.
"""

import argparse
import contextlib
import json
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from infra.timing import acceptance_job_minutes  # noqa: E402
from infra.validation import Settings, fewest_replicas, is_production, parse_settings  # noqa: E402

ACCEPTANCE_PREFIX = "acceptance-"
# A stack updated this recently may belong to a run still going (`pulumi stack ls` names no owner): not stale yet.
# The longest run, its destroy included (infra/timing.py), plus an hour.
STALE_AFTER_HOURS = -(-acceptance_job_minutes() // 60) + 1
# After an interrupt, how long Pulumi may take to finish the operations in flight before it is stopped for good.
CANCEL_GRACE_SECONDS = 300


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
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=CANCEL_GRACE_SECONDS)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            raise
        if process.returncode != 0:
            raise PulumiFailed(list(args), process.returncode)
        return output or ""

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json", capture=True) or "null")


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
    """A stack file's settings (project keys without their namespace, plus aws_region), as the program reads them."""
    config = yaml.safe_load((root / f"Pulumi.{stack}.yaml").read_text())["config"]
    settings = {key.split(":", 1)[1]: value for key, value in config.items() if not key.startswith("aws:")}
    return {**settings, "aws_region": config.get("aws:region", "us-east-1")}


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
    settings = parse_settings({**source_config, **overrides})
    text = {key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in overrides.items()}
    return Copy(name, source, text, changes, settings)


def refuse_production(source: str, allow_production: bool) -> None:
    if is_production(source) and not allow_production:
        raise SystemExit(
            f"refusing to copy {source}: it is a production stack (prod*); its config may carry production-only "
            "settings. Pass --allow-prod to copy it anyway"
        )


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
        self.pulumi.run("stack", "init", self.name, "--copy-config-from", self.copy.source, "--no-select")
        self.created = True
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
        """Destroy every resource, then remove the stack; a failed destroy is tried once more.

        Before the second try: `pulumi cancel` ends an update a killed run left open (Pulumi Cloud keeps it open and
        refuses every other operation; a backend without one answers with an error, ignored), and `pulumi refresh`
        reads what exists. The stack is removed only once it holds nothing: `stack rm --force` would forget resources
        that still exist.
        """
        try:
            self.pulumi.run("destroy", "--stack", self.name, "--yes", "--skip-preview", "--continue-on-error")
        except PulumiFailed:
            self.pulumi.say("destroy failed: ending any update left open, refreshing, and trying once more")
            with contextlib.suppress(PulumiFailed):
                self.pulumi.run("cancel", "--yes", "--stack", self.name)
            self.pulumi.run("refresh", "--stack", self.name, "--yes", "--skip-preview")
            self.pulumi.run("destroy", "--stack", self.name, "--yes", "--skip-preview", "--continue-on-error")
        self.pulumi.run("stack", "rm", self.name, "--yes")


def cleanup_hint(name: str) -> str:
    return f"python scripts/ephemeral.py destroy {name}   (or: pulumi destroy --stack {name} --remove)"


@contextlib.contextmanager
def always_destroyed(stack: EphemeralStack, keep: bool = False) -> Iterator[EphemeralStack]:
    """Yield the stack; whatever happens inside (a failed check, an error, Ctrl-C), destroy and remove it after.

    With `keep`, leave it and print how to destroy it later. A destroy that fails is reported, never hidden.
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
                elif stack.created or stack_exists(stack.pulumi, stack.name):
                    stack.destroy()
                    stack.cleanup = "destroyed and removed"
                else:
                    stack.cleanup = "nothing to destroy"
            except (PulumiFailed, OSError) as failure:
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


def stale_stacks(summaries: list[dict[str, Any]], now: datetime, prefix: str = ACCEPTANCE_PREFIX) -> list[str]:
    """Acceptance stacks no run is updating and whose last update started over STALE_AFTER_HOURS ago.

    A stack without a last update is left alone: it was never updated (no resource; maybe a run between `stack init`
    and its first `up`) or its update is running (Pulumi then omits the time).
    """
    stale = []
    for summary in summaries:
        last = summary.get("lastUpdate")
        if not short_name(summary).startswith(prefix) or summary.get("updateInProgress") or not last:
            continue
        try:  # `pulumi stack ls --json` prints an ISO 8601 time in UTC
            updated = datetime.fromisoformat(str(last).replace("Z", "+00:00"))
        except ValueError:
            continue  # an age it cannot read is no reason to destroy anything
        if (now - updated).total_seconds() >= STALE_AFTER_HOURS * 3600:
            stale.append(short_name(summary))
    return stale


def offer_stale_cleanup(pulumi: Pulumi, destroy: bool | None, ask: Callable[[str], str] = input) -> list[str]:
    """Find stale acceptance stacks and destroy them: when `destroy`, or when the user says yes (None: ask)."""
    stale = stale_stacks(stack_summaries(pulumi), datetime.now(UTC))
    if not stale:
        return []
    pulumi.say(f"stale stacks from earlier runs: {', '.join(stale)}")
    if destroy is None:
        destroy = sys.stdin.isatty() and ask("destroy them now? [y/N] ").strip().lower() in {"y", "yes"}
    if not destroy:
        pulumi.say(f"left alone; each one: {cleanup_hint('<stack>')}")
        return []
    for name in stale:
        EphemeralStack(pulumi, Copy(name, "", {})).destroy()
    return stale


def deploy_environment(pulumi: Pulumi, name: str, source: str, allow_production: bool = False) -> dict[str, Any]:
    """A long-lived copy (pull-request environment): created on first use, updated after, destroyed on its own."""
    refuse_production(source, allow_production)
    copy = copy_overrides(read_stack_config(source), name, source)
    stack = EphemeralStack(pulumi, copy)
    if not stack_exists(pulumi, name):
        try:
            with interrupts_raise():
                stack.create()
        except BaseException:
            with interrupts_ignored(pulumi.say):
                stack.destroy()
            raise
    with interrupts_raise():
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
    stale = commands.add_parser("stale", help="acceptance-* stacks left behind")
    stale.add_argument("--destroy", action="store_true", help="destroy them without asking")
    args = parser.parse_args()
    pulumi = Pulumi()
    if args.command == "up":
        outputs = deploy_environment(pulumi, args.name, args.source, args.allow_prod)
        print(f"url: {outputs['url']}")
        if args.output_file:
            with args.output_file.open("a") as output:
                output.write(f"url={outputs['url']}\n")
    elif args.command == "destroy":
        if stack_exists(pulumi, args.name):
            with interrupts_ignored(pulumi.say):
                EphemeralStack(pulumi, Copy(args.name, "", {})).destroy()
        else:
            print(f"{args.name}: no such stack, nothing to destroy")
    else:
        offer_stale_cleanup(pulumi, True if args.destroy else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
