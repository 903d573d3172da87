"""Before `pulumi preview`/`up`: refuse a change that would send production traffic to an empty target group.

    python scripts/release_preflight.py STACK    (run by `make preview`, `make up` and the CI workflows)

With blue-green, canary or linear, ECS owns the production rule's weights and every other release leaves the tasks in
the second target group. Two config changes delete or recreate that rule: switching back to `rolling` (the listener's
default action forwards to the first group, the second is deleted) and turning HTTPS on or off (the rules move to the
other listener and start again at 100 % on the first group). Either one, while the first group holds no traffic,
points users at a group without tasks. This script compares the stack's config (Pulumi.STACK.yaml) with what the last
deployment exported (`release_traffic`), reads the rule's weights (elbv2 DescribeRules) only when such a change is
pending, and exits non-zero with the fix. Anything else, including a stack never deployed, passes without AWS calls.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from infra.stack_file import stack_file_settings  # noqa: E402
from infra.validation import InvalidSettings, Settings  # noqa: E402


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


def pending_rule_change(deployed: dict[str, Any], desired: Settings) -> str:
    """Why the next `up` deletes or recreates the production rule, or "" when it keeps it."""
    if not deployed.get("production_rule_arn"):
        return ""
    if desired.deployment_strategy == "rolling":
        return "deployment_strategy=rolling deletes the production rule and the second target group"
    if desired.enable_https != deployed.get("enable_https"):
        return (
            f"enable_https={str(desired.enable_https).lower()} moves the release rules to the other listener, "
            "recreating them at 100 % on the first target group"
        )
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


def refusal(elbv2: Any, deployed: dict[str, Any], desired: Settings, cluster: str, service: str) -> str:
    """The message that stops `up`, or "" when the change is safe."""
    change = pending_rule_change(deployed, desired)
    if not change:
        return ""
    weight = first_group_weight(elbv2, deployed)
    if weight == 100:
        return ""
    return (
        f"refused: {change}, but the first target group holds {weight} % of production traffic (the last release "
        "left the tasks in the second). Fix: keep the current config and run one more release, which moves them "
        f"back: `aws ecs update-service --cluster {cluster} --service {service} --force-new-deployment`, "
        f"`aws ecs wait services-stable --cluster {cluster} --services {service}` (it waits out the bakes), "
        "then run this again."
    )


def main() -> int:
    stack = sys.argv[1]
    try:
        desired = stack_settings(stack)
    except InvalidSettings:
        return 0  # `pulumi` refuses this config itself, with every error (a secret value is not read here)
    deployed = deployed_release(stack)
    if not pending_rule_change(deployed, desired):
        return 0

    def output(name: str) -> str:
        command = ["pulumi", "stack", "output", name, "--stack", stack]
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()

    elbv2 = boto3.client("elbv2", region_name=desired.aws_region)
    message = refusal(elbv2, deployed, desired, output("cluster_name"), output("service_name"))
    if message:
        print(message, file=sys.stderr)
        return 1
    print("ok: the first target group serves all production traffic; the release rules can change")
    return 0


if __name__ == "__main__":
    sys.exit(main())
