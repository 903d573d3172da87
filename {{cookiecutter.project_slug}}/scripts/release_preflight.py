"""Before `pulumi preview`/`up`: refuse a change that would send production traffic to an empty target group, or
that would not reach ECS.

    python scripts/release_preflight.py STACK    (run by `make preview`, `make up` and the CI workflows)

With blue-green, canary or linear, ECS owns the production rule's weights and every other release leaves the tasks in
the second target group. Some config changes delete or recreate that rule or a target group: switching back to
`rolling` (the listener's default action forwards to the first group, the second is deleted) and any setting in
RELEASE_REPLACING_SETTINGS (infra/validation.py; today `enable_https`: the rules move to the other listener and start
again at 100 % on the first group). Either, while the first group holds no traffic, points users at a group without
tasks. This script compares the stack's config (Pulumi.STACK.yaml) with what the last deployment exported
(`release_traffic`), reads the rule's weights (elbv2 DescribeRules) only when such a change is pending, and exits
non-zero with the fix.

It also refuses a config that asks for no test-window hook (`deployment_strategy=rolling`, or
`test_window_minutes=0`) while the deployed service still has one (ecs DescribeServices, for every deployed stack):
ECS keeps the lifecycle hooks an UpdateService leaves out, and the provider leaves the list out when it is empty (and
rolling sends only the strategy), so the hook would stay, pause every later release and show as a diff on every
refreshed `up`; the message gives the command that clears it. A stack never deployed passes without AWS calls.
"""

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from infra.stack_file import stack_file_settings  # noqa: E402
from infra.validation import RELEASE_REPLACING_SETTINGS, InvalidSettings, Settings  # noqa: E402

# Every AWS API action this script may call (the deploy and preview roles need them; issue 22 derives its policy here).
AWS_ACTIONS = ["elasticloadbalancing:DescribeRules", "ecs:DescribeServices"]


def stack_settings(stack: str) -> Settings:
    """The settings `pulumi up` is about to apply: the stack file, parsed by the program's own rules."""
    return stack_file_settings(stack, ROOT)


def deployed_release(stack: str) -> dict[str, Any]:
    """What the last deployment exported about its release rules; empty for rolling or a stack never deployed."""
    command = ["pulumi", "stack", "output", "release_traffic", "--json", "--stack", stack]
    found = subprocess.run(command, check=False, capture_output=True, text=True)
    if found.returncode != 0 or not found.stdout.strip():
        return {}
    exported = json.loads(found.stdout)
    return exported if isinstance(exported, dict) else {}


def shown(value: object) -> str:
    """A setting's value as it is written in the stack file."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def pending_rule_change(deployed: dict[str, Any], desired: Settings) -> str:
    """Why the next `up` deletes or recreates the production rule or a target group, or "" when it keeps them."""
    if not deployed.get("production_rule_arn"):
        return ""
    if desired.deployment_strategy == "rolling":
        return "deployment_strategy=rolling deletes the production rule and the second target group"
    for key, effect in RELEASE_REPLACING_SETTINGS.items():
        # A deployment older than the key did not export it: the next `up` does.
        if key in deployed and getattr(desired, key) != deployed[key]:
            return f"{key}={shown(getattr(desired, key))} {effect}"
    return ""


def first_group_weight(elbv2: Any, deployed: dict[str, Any]) -> int:
    """The production rule's weight on the first target group, as ECS left it."""
    [rule] = elbv2.describe_rules(RuleArns=[deployed["production_rule_arn"]])["Rules"]
    weights = {
        group["TargetGroupArn"]: int(group.get("Weight", 0))
        for action in rule["Actions"]
        if action["Type"] == "forward"
        for group in action.get("ForwardConfig", {}).get("TargetGroups", [])
    }
    return weights.get(deployed["primary_target_group_arn"], 0)


def refusal(elbv2: Any, deployed: dict[str, Any], desired: Settings, stack: str) -> str:
    """The message that stops `up`, or "" when the change is safe."""
    change = pending_rule_change(deployed, desired)
    if not change:
        return ""
    weight = first_group_weight(elbv2, deployed)
    if weight == 100:
        return ""
    return (
        f"refused: {change}, but the first target group holds {weight} % of production traffic (the last release "
        "left the tasks in the second). Fix: keep the current config and run one more release of the current "
        f"revision, which moves them back, and wait for it to end, bakes included: `make redeploy STACK={stack}` "
        f"(`python scripts/rollout.py {stack} --redeploy`), then run this again."
    )


def wants_hook(desired: Settings) -> bool:
    """Whether the config gives the service a test-window hook (infra/release.py's deployment_configuration)."""
    return desired.deployment_strategy != "rolling" and desired.test_window_minutes > 0


def leftover_hook_refusal(ecs: Any, desired: Settings, cluster: str, service: str) -> str:
    """With no hook in the config: the message that stops `up` while the service keeps a lifecycle hook, else ""."""
    if wants_hook(desired):
        return ""  # the provider sends the hook the config asks for, which replaces ECS's list
    services = ecs.describe_services(cluster=cluster, services=[service])["services"]
    configuration = services[0].get("deploymentConfiguration", {}) if services else {}
    if not configuration.get("lifecycleHooks"):
        return ""
    # The service's own configuration with an explicit empty list: nothing else changes.
    cleared = json.dumps({**configuration, "lifecycleHooks": []}, separators=(",", ":"))
    asked = "deployment_strategy=rolling" if desired.deployment_strategy == "rolling" else "test_window_minutes=0"
    return (
        f"refused: {asked} asks for no test-window hook, but the service still has one and would keep pausing every "
        "release (ECS keeps the lifecycle hooks an update leaves out, and the provider leaves out an empty list). "
        f"Fix: `aws ecs update-service --cluster {cluster} --service {service} "
        f"--deployment-configuration {shlex.quote(cleared)}`, then run this again."
    )


def stack_output(stack: str, name: str) -> str:
    """One of the stack's outputs, or "" when it has none (never deployed, or a first create that failed early)."""
    command = ["pulumi", "stack", "output", name, "--stack", stack]
    found = subprocess.run(command, check=False, capture_output=True, text=True)
    return found.stdout.strip() if found.returncode == 0 else ""


def main() -> int:
    stack = sys.argv[1]
    try:
        desired = stack_settings(stack)
    except InvalidSettings as invalid:
        # Never a silent pass: the check did not run. (`pulumi` would refuse an invalid config too.)
        lines = ["release preflight: cannot read the stack's settings, so it checked nothing:", *invalid.errors]
        print("\n".join(lines), file=sys.stderr)
        return 1
    deployed = deployed_release(stack)
    messages = []
    rule_change = pending_rule_change(deployed, desired)
    if rule_change:
        elbv2 = boto3.client("elbv2", region_name=desired.aws_region)
        messages.append(refusal(elbv2, deployed, desired, stack))
    # Keyed on the service, not on a release output: a stack switched to rolling exports no rule, and keeps the hook.
    if not wants_hook(desired):
        cluster, service = stack_output(stack, "cluster_name"), stack_output(stack, "service_name")
        if cluster and service:
            ecs = boto3.client("ecs", region_name=desired.aws_region)
            messages.append(leftover_hook_refusal(ecs, desired, cluster, service))
    refused = [message for message in messages if message]
    for message in refused:
        print(message, file=sys.stderr)
    if refused:
        return 1
    print("ok: the release rules and the service's hooks can change as the config asks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
