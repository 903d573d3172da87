"""What a workflow needs from the stack before its Pulumi job starts.

    python scripts/ci_stack.py STACK >> "$GITHUB_OUTPUT"

A job's runner (`runs-on`) and the region of its AWS credentials are fixed before the job runs, so the workflows'
first job reads them here, from the stack file of the commit being built: after `pulumi config set cpu_architecture
ARM64` or `pulumi config set aws:region eu-west-1` is committed, CI builds on an ARM runner or deploys to that region.
Only these two settings are read, by the program's own rules: the rest is the preview's to judge, with the secret
values this job cannot decrypt. Pulumi.yaml's project-level config counts too. A stack file that imports Pulumi ESC
environments (`environment:`) could take either value from there, which this job cannot read: it must then name
both itself, or the job fails rather than pick the wrong runner or region. Needs only PyYAML.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from infra.stack_file import read_stack_file  # noqa: E402
from infra.validation import DEFAULTS, InvalidSettings, parse_settings  # noqa: E402

# GitHub-hosted runners of each task architecture: the image builds natively, without emulation.
RUNNER_BY_ARCHITECTURE = {"X86_64": "ubuntu-24.04", "ARM64": "ubuntu-24.04-arm"}


def workflow_outputs(stack: str, root: Path = ROOT) -> dict[str, str]:
    found = read_stack_file(stack, root)
    keys = {"cpu_architecture": f"{found.project}:cpu_architecture", "aws_region": "aws:region"}
    # Under ESC only the stack file's own values are certain: an imported environment overrides Pulumi.yaml's.
    uncertain = found.secure | (set(keys.values()) - found.in_stack_file if found.uses_esc else set())
    unknown = [key for key in keys.values() if key in uncertain]
    if unknown:
        raise InvalidSettings(
            [
                f"{key} is not readable here ({'a secure value' if key in found.secure else 'the stack imports ESC'}"
                f" environments, which may set it): write it in Pulumi.{stack}.yaml as plain text, "
                f"e.g. pulumi config set {key.removeprefix(found.project + ':')} <value> --stack {stack}"
                for key in unknown
            ]
        )
    settings = parse_settings({name: found.config.get(key, DEFAULTS[name]) for name, key in keys.items()})
    return {"runner": RUNNER_BY_ARCHITECTURE[settings.cpu_architecture], "region": settings.aws_region}


def main() -> None:
    try:
        outputs = workflow_outputs(sys.argv[1])
    except InvalidSettings as invalid:
        sys.exit("\n".join(["cannot tell the runner and region from the stack's files:", *invalid.errors]))
    for name, value in outputs.items():
        print(f"{name}={value}")


if __name__ == "__main__":
    main()
