"""What a workflow needs from the stack before its Pulumi job starts.

    python scripts/ci_stack.py STACK >> "$GITHUB_OUTPUT"

A job's runner (`runs-on`) and the region of its AWS credentials are fixed before the job runs, so the workflows'
first job reads them here, from the stack file of the commit being built: after `pulumi config set cpu_architecture
ARM64` or `pulumi config set aws:region eu-west-1` is committed, CI builds on an ARM runner or deploys to that region.
Only these two settings are read, by the program's own rules: the rest is the preview's to judge, with the secret
values this job cannot decrypt. Needs only PyYAML.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from infra.stack_file import stack_file_config  # noqa: E402
from infra.validation import DEFAULTS, InvalidSettings, parse_settings  # noqa: E402

# GitHub-hosted runners of each task architecture: the image builds natively, without emulation.
RUNNER_BY_ARCHITECTURE = {"X86_64": "ubuntu-24.04", "ARM64": "ubuntu-24.04-arm"}


def workflow_outputs(stack: str) -> dict[str, str]:
    project, config = stack_file_config(stack)
    settings = parse_settings(
        {
            "cpu_architecture": config.get(f"{project}:cpu_architecture", DEFAULTS["cpu_architecture"]),
            "aws_region": config.get("aws:region", DEFAULTS["aws_region"]),
        }
    )
    return {"runner": RUNNER_BY_ARCHITECTURE[settings.cpu_architecture], "region": settings.aws_region}


def main() -> None:
    try:
        outputs = workflow_outputs(sys.argv[1])
    except InvalidSettings as invalid:
        sys.exit("\n".join(["invalid stack config:", *invalid.errors]))
    for name, value in outputs.items():
        print(f"{name}={value}")


if __name__ == "__main__":
    main()
