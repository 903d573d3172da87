"""The Pulumi workflows take the runner architecture and the AWS region from the stack file of the commit they run.

A job's `runs-on` and its credentials' region are fixed before the job starts, so a first job reads both from
Pulumi.<stack>.yaml and the Pulumi job uses its outputs. Here the stack file is switched as `pulumi config set` would
switch it, that first job's step runs as the workflow runs it (bash, the workflow's env, a GITHUB_OUTPUT file), and the
Pulumi job's `runs-on` and `aws-region` are resolved from its outputs.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import PROJECT, ROOT

EXPRESSION = re.compile(r"\$\{\{\s*([\w.-]+)\s*(?:\|\|\s*'([^']*)'\s*)?\}\}")
PULUMI_JOBS = {
    "deploy.yml": "up",
    "preview.yml": "preview",
    "acceptance.yml": "acceptance",
    "preview-env.yml": "deploy",
}


def resolve(value: str, context: dict[str, Any]) -> str:
    """A workflow value with its `${{ a.b.c }}` lookups replaced from `context` (only plain lookups are used, or
    `${{ a.b || 'default' }}` for a value absent from the context, as a scheduled run's inputs)."""

    def lookup(match: re.Match[str]) -> str:
        found: Any = context
        for part in match[1].split("."):
            if match[2] is not None and part not in found:
                return match[2]
            found = found[part]
        return str(found)

    return EXPRESSION.sub(lookup, value)


def switched_project(tmp_path: Path, cpu_architecture: str, region: str) -> Path:
    """What the stack-reading step needs of the project, with the stack file as `pulumi config set` leaves it."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "scripts", project / "scripts")
    shutil.copytree(ROOT / "infra", project / "infra", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "Pulumi.yaml", project)
    [stack_file] = ROOT.glob("Pulumi.*.yaml")
    stack = yaml.safe_load(stack_file.read_text())
    stack["config"].update({"aws:region": region, f"{PROJECT}:cpu_architecture": cpu_architecture})
    # A value set with --secret: the job cannot decrypt it and must not need to.
    stack["config"][f"{PROJECT}:alarm_email"] = {"secure": "v1:c2VjcmV0"}
    (project / stack_file.name).write_text(yaml.safe_dump(stack))
    return project


def run_job_step(project: Path, workflow: dict[str, Any], step: dict[str, Any], tmp_path: Path) -> dict[str, str]:
    """One `run:` step as the runner runs it (bash -e, the workflow's env); what it wrote to GITHUB_OUTPUT."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    output = tmp_path / "github_output"
    output.touch()
    env = {
        **{
            name: resolve(
                str(value), {"inputs": {}, "github": {"run_id": "1", "event": {"pull_request": {"number": 7}}}}
            )
            for name, value in workflow["env"].items()
        },
        "GITHUB_OUTPUT": str(output),
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
    }
    command = ["bash", "-e", "-c", step["run"]]
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return dict(line.split("=", 1) for line in output.read_text().splitlines())


@pytest.mark.parametrize("workflow_file", sorted(PULUMI_JOBS))
@pytest.mark.parametrize(
    ("cpu_architecture", "region", "runner"),
    [("ARM64", "eu-west-1", "ubuntu-24.04-arm"), ("X86_64", "ap-northeast-1", "ubuntu-24.04")],
)
def test_a_switched_stack_builds_on_its_architecture_and_deploys_to_its_region(
    workflow_file: str, cpu_architecture: str, region: str, runner: str, tmp_path: Path
) -> None:
    workflow = yaml.safe_load((ROOT / ".github/workflows" / workflow_file).read_text())
    pulumi_job = workflow["jobs"][PULUMI_JOBS[workflow_file]]
    # The job the Pulumi job needs reads the stack file (preview-env.yml's destroy and sweep read it themselves).
    [(reader_name, reader)] = [
        (name, job)
        for name, job in workflow["jobs"].items()
        if any("scripts/ci_stack.py" in step.get("run", "") for step in job["steps"]) and name in pulumi_job["needs"]
    ]
    assert reader["permissions"] == {"contents": "read"}  # no id-token: only the Pulumi job assumes the AWS role
    [step] = [step for step in reader["steps"] if "scripts/ci_stack.py" in step.get("run", "")]
    # The step before it installs PyYAML at requirements.txt's pin (here the test's venv stands in for it).
    assert any("requirements.txt" in step.get("run", "") for step in reader["steps"])
    assert re.search(r"(?im)^pyyaml==", (ROOT / "requirements.txt").read_text())
    written = run_job_step(switched_project(tmp_path, cpu_architecture, region), workflow, step, tmp_path)
    steps = {"steps": {step["id"]: {"outputs": written}}, "github": {"run_id": "1"}}
    outputs = {name: resolve(value, steps) for name, value in reader["outputs"].items()}

    needs = {reader_name: {"outputs": outputs}}
    assert reader_name in pulumi_job["needs"]
    assert resolve(pulumi_job["runs-on"], {"needs": needs}) == runner
    credentials = [step for step in pulumi_job["steps"] if "configure-aws-credentials" in step.get("uses", "")]
    assert credentials
    assert all(resolve(step["with"]["aws-region"], {"needs": needs}) == region for step in credentials)


# Why the web ACL needs the refresh: infra/waf.py.
def test_every_pulumi_preview_and_up_refreshes_first() -> None:
    """Updating the web ACL sends the rules in the state (UpdateWebACL replaces the whole list): without a refresh
    they are the ACL's own (none), and an update deletes every WebAclRule's rule in AWS."""
    root = Path(__file__).parent.parent
    files = [root / "Makefile", *sorted((root / ".github/workflows").glob("*.yml"))]
    commands = {
        path.name: [
            line for line in path.read_text().splitlines() if re.match(r"\s*(run: )?pulumi (preview|up)\b", line)
        ]
        for path in files
    }
    assert {name: len(lines) for name, lines in commands.items()} == {
        "Makefile": 3,
        "ci.yml": 0,
        "deploy.yml": 1,
        "preview.yml": 1,
        # These run scripts/ephemeral.py, whose `up` refreshes too (tests/test_acceptance.py).
        "acceptance.yml": 0,
        "preview-env.yml": 0,
    }
    assert [line for lines in commands.values() for line in lines if "--refresh" not in line.split()] == []
