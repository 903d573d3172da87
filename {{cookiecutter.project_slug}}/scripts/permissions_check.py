"""Warn when the deploy role, as `make bootstrap` last left it, lacks what this stack's config now needs.

Run by `make preview` and the preview workflow: it derives the deploy policy from the stack file (as the bootstrap
program does) and compares it with the `deploy_policies` output of the bootstrap stack of the same name. It only
warns (exit status 0): a preview needs none of these permissions, the next `make up` does.

    python scripts/permissions_check.py <stack>
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bootstrap.inventory import inventory
from bootstrap.permissions import Inventory, Scope, UnmappedResourceType, missing_from, policies


def bootstrap_output(stack: str, name: str) -> Any:
    """An output of bootstrap stack `stack`; None when there is no such stack or output (or no Pulumi CLI)."""
    command = ["pulumi", "-C", "bootstrap", "stack", "output", name, "--json", "--stack", stack]
    try:
        done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
    except OSError:
        return None
    return json.loads(done.stdout) if done.returncode == 0 and done.stdout.strip() else None


def gaps(found: Inventory, deployed: list[dict[str, Any]], scope: dict[str, Any]) -> list[str]:
    """What the deploy policy derived from this inventory allows and the deployed one does not."""
    needed = policies(
        found,
        Scope(
            scope["account"],
            scope["region"],
            tuple(scope["name_prefixes"]),
            scope["role_path"],
            scope["permissions_boundary_arn"],
            scope.get("vpc_id", ""),
        ),
        write=True,
    )
    return missing_from(deployed, needed)


def warn(message: str) -> None:
    prefix = "::warning::" if os.environ.get("GITHUB_ACTIONS") == "true" else "warning: "
    print(prefix + message, file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stack")
    stack = parser.parse_args().stack
    deployed, scope = bootstrap_output(stack, "deploy_policies"), bootstrap_output(stack, "scope")
    if deployed is None or scope is None:
        print(f"permissions check skipped: no bootstrap stack {stack!r} to compare with (`make bootstrap`)")
        return
    try:
        missing = gaps(inventory(stack), deployed, scope)
    except UnmappedResourceType as error:
        warn(f"the next `make bootstrap` would fail: {error}")
        return
    if missing:
        warn(
            f"the deploy role lacks {len(missing)} permission(s) stack {stack} now needs, so its next deploy would "
            f"fail: run `make bootstrap STACK={stack}` with admin credentials first. Missing: " + "; ".join(missing)
        )
    else:
        print(f"permissions check: the deploy role holds everything stack {stack} needs")


if __name__ == "__main__":
    main()
