"""`make acceptance` as the project's own files run it: the real script under a terminal's Ctrl-C and a CI runner's
cancel (with this project's stack), the workflows that run it, and what the README and the stack file say of it.

The lifecycle and the AWS checks themselves are in tests/test_acceptance.py, whose fake `pulumi` and helpers these
tests share; they read none of the project's rendered files, so only this module runs on every gated variant.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import ephemeral
import pytest
import yaml
from acceptance_fakes import NAME, calls, cleaned_up, outputs
from ephemeral import copy_overrides, read_stack_config
from moto import mock_aws

from conftest import ROOT
from infra.cost import acceptance_markdown
from infra.timing import (
    ACCEPTANCE_SETUP_MINUTES,
    acceptance_cleanup_job_minutes,
    acceptance_job_minutes,
    acceptance_run_minutes,
)
from infra.validation import parse_settings, pull_through_prefix, stack_resource_name


def test_ctrl_c_during_up_and_again_during_destroy_still_destroys_and_removes(
    fake_pulumi: Path, tmp_path: Path
) -> None:
    """The real script, interrupted as a terminal does: SIGINT to its whole process group."""
    generated = sorted(ROOT.glob("Pulumi.*.yaml"))[0].name.removeprefix("Pulumi.").removesuffix(".yaml")
    env = {**os.environ, "FAKE_PULUMI_PAUSE": "up=30,destroy=0.5"}
    script = [sys.executable, str(ROOT / "scripts" / "acceptance.py"), "--from", generated, "--name", NAME]
    run = started([*script, "--allow-prod", "--report-dir", str(tmp_path)], env)
    wait_for_file(fake_pulumi / "up.started", run)
    os.killpg(run.pid, signal.SIGINT)
    wait_for_file(fake_pulumi / "destroy.started", run)
    os.killpg(run.pid, signal.SIGINT)  # ignored: the destroy goes on (it runs in its own session)
    output, _ = run.communicate(timeout=60)
    assert run.returncode == 130, output
    made = calls(fake_pulumi)
    assert "up interrupted" in made  # Pulumi got one SIGINT and cancelled
    assert "destroy interrupted" not in made
    assert cleaned_up(fake_pulumi)
    assert "SIGINT ignored" in output
    assert json.loads((tmp_path / "acceptance-report.json").read_text())["error"].startswith("KeyboardInterrupt")


def test_a_ci_cancel_reaches_python_and_a_second_signal_hard_cancels_pulumi_before_the_destroy(
    fake_pulumi: Path, tmp_path: Path
) -> None:
    """The workflow's run step as the runner runs it (bash, a script file), cancelled as the runner cancels: SIGINT to
    the step's entry process only, then SIGTERM (7.5 s later on GitHub; here once Pulumi is seen finishing). Pulumi
    must get both (the second is its hard cancel) and be gone before the destroy starts."""
    [run] = [step for step in workflow("acceptance.yml")["jobs"]["acceptance"]["steps"] if "acceptance.py" in str(step)]
    generated = sorted(ROOT.glob("Pulumi.*.yaml"))[0].name.removeprefix("Pulumi.").removesuffix(".yaml")
    script = tmp_path / "step.sh"
    script.write_text(run["run"].replace(".venv/bin/python", sys.executable))
    env = {
        **os.environ,
        "FAKE_PULUMI_PAUSE": "up=30",
        "FAKE_PULUMI_GRACEFUL": "1",
        "SOURCE_STACK": generated,
        "ACCEPTANCE_STACK": NAME,
        "ALLOW_PROD": "yes",
    }
    # In the checkout, as in CI (the report lands there; removed below).
    step = started(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], env, cwd=ROOT)
    wait_for_file(fake_pulumi / "up.started", step)
    os.kill(step.pid, signal.SIGINT)
    deadline = time.monotonic() + 10
    while "up interrupted" not in calls(fake_pulumi):
        assert time.monotonic() < deadline, "the SIGINT never reached pulumi"
        time.sleep(0.05)
    os.kill(step.pid, signal.SIGTERM)
    output, _ = step.communicate(timeout=60)
    for report in ROOT.glob("acceptance-report.*"):
        report.unlink()
    made = calls(fake_pulumi)
    assert step.returncode == 130, output
    assert made.index("up hard-cancelled") < next(i for i, call in enumerate(made) if call.startswith("destroy"))
    assert "up finished" not in made
    assert cleaned_up(fake_pulumi)


def test_what_aws_creates_outside_pulumi_is_deleted_after_the_destroy() -> None:
    """Container Insights' performance log group and, with tracing, the pull through cache's repositories."""
    prefix = pull_through_prefix(stack_resource_name(ephemeral.project_name(), NAME))
    with mock_aws():
        logs, ecr = (boto3.client(name, region_name="us-east-1") for name in ("logs", "ecr"))
        cluster = outputs()["cluster_name"]
        logs.create_log_group(logGroupName=f"/aws/ecs/containerinsights/{cluster}/performance")
        logs.create_log_group(logGroupName="/aws/ecs/containerinsights/another-cluster/performance")
        for repository in (f"{prefix}/aws-observability/aws-otel-collector", "someone-elses/aws-otel-collector"):
            ecr.create_repository(repositoryName=repository)
        deleted = ephemeral.delete_leftovers(outputs(), NAME)
        assert deleted == [
            f"log group /aws/ecs/containerinsights/{cluster}/performance",
            f"ECR repository {prefix}/aws-observability/aws-otel-collector",
        ]
        assert [group["logGroupName"] for group in logs.describe_log_groups()["logGroups"]] == [
            "/aws/ecs/containerinsights/another-cluster/performance"
        ]
        assert [repo["repositoryName"] for repo in ecr.describe_repositories()["repositories"]] == [
            "someone-elses/aws-otel-collector"
        ]
        assert ephemeral.delete_leftovers(outputs(), NAME) == []  # a second cleanup finds nothing, and fails on nothing
    readme = (ROOT / "README.md").read_text()
    assert all(f"`{action}`" in readme for action in ephemeral.AWS_ACTIONS)  # what the run's role needs


def started(command: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.Popen[str]:
    """A process in its own session (as a terminal or a runner starts it), its output captured."""
    return subprocess.Popen(command, cwd=cwd, env=env, start_new_session=True, stdout=subprocess.PIPE, text=True)


def wait_for_file(path: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while not path.exists():
        assert process.poll() is None and time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.05)


def workflow(name: str) -> dict[Any, Any]:
    return dict(yaml.safe_load((ROOT / ".github/workflows" / name).read_text()))


def test_acceptance_workflow_is_bounded_by_the_release_model_and_always_destroys() -> None:
    found = workflow("acceptance.yml")
    job, cleanup = found["jobs"]["acceptance"], found["jobs"]["cleanup"]
    [run] = [step for step in job["steps"] if "scripts/acceptance.py" in step.get("run", "")]
    [destroy] = [step for step in cleanup["steps"] if "scripts/ephemeral.py destroy" in step.get("run", "")]
    [credentials] = [step for step in job["steps"] if "configure-aws-credentials" in step.get("uses", "")]
    [cleanup_credentials] = [step for step in cleanup["steps"] if "configure-aws-credentials" in step.get("uses", "")]
    # The run step holds two `up`s, the checks and its own destroy; the job adds its setup steps, which run under
    # the same credentials: they last as long as the job, not just the run step.
    assert run["timeout-minutes"] == acceptance_run_minutes()
    assert job["timeout-minutes"] == acceptance_job_minutes() == run["timeout-minutes"] + ACCEPTANCE_SETUP_MINUTES
    assert job["timeout-minutes"] <= 360  # GitHub-hosted runners' limit for a job
    assert credentials["with"]["role-duration-seconds"] == acceptance_job_minutes() * 60
    # A cancel or timeout signals only the step's entry process: python is it (exec), so Pulumi is stopped.
    assert run["run"].lstrip().startswith("exec .venv/bin/python") and destroy["run"].startswith("exec ")
    # The cleanup is a job of its own (not cancelled with the run), after it whatever happened, sized for a destroy.
    assert cleanup["needs"] == ["stack", "acceptance"] and cleanup["if"].startswith("always()")
    assert cleanup["timeout-minutes"] == acceptance_cleanup_job_minutes()
    assert cleanup_credentials["with"]["role-duration-seconds"] >= (cleanup["timeout-minutes"] - 5) * 60
    assert job["environment"] == cleanup["environment"] == "acceptance"
    assert "$ACCEPTANCE_STACK" in run["run"] and "$ACCEPTANCE_STACK" in destroy["run"]
    # One copy name per run, computed once by the `stack` job: re-running only the cleanup job (a new run_attempt)
    # destroys the copy the run made, not a stack of another name that never existed.
    copy = "${{ needs.stack.outputs.copy }}"
    assert run["env"]["ACCEPTANCE_STACK"] == destroy["env"]["ACCEPTANCE_STACK"] == copy
    assert found["jobs"]["stack"]["outputs"]["copy"] == "acceptance-gh-${{ github.run_id }}"
    assert "github.run_attempt" not in (ROOT / ".github/workflows/acceptance.yml").read_text()
    # The source stack is an input, so a prod* source (with allow_prod) is reachable; a scheduled run copies the
    # project's own stack.
    generated = sorted(ROOT.glob("Pulumi.*.yaml"))[0].name.removeprefix("Pulumi.").removesuffix(".yaml")
    assert found[True]["workflow_dispatch"]["inputs"]["stack"]["default"] == generated
    assert found["env"]["SOURCE_STACK"] == f"${{{{ inputs.stack || '{generated}' }}}}"
    assert found["concurrency"] == {"group": "acceptance", "cancel-in-progress": False}
    assert set(found[True]) == {"workflow_dispatch"}  # the weekly schedule is there, commented out
    assert found[True]["workflow_dispatch"]["inputs"]["allow_prod"]["default"] is False
    assert "${ALLOW_PROD:+--allow-prod}" in run["run"]
    assert "#   - cron:" in (ROOT / ".github/workflows/acceptance.yml").read_text()
    assert found["permissions"]["id-token"] == "write"


def test_preview_environments_deploy_on_the_label_and_are_destroyed_on_close_or_unlabel() -> None:
    found = workflow("preview-env.yml")
    assert set(found[True]["pull_request"]["types"]) >= {"labeled", "unlabeled", "closed", "synchronize"}
    deploy, destroy, sweep = (found["jobs"][name] for name in ("deploy", "destroy", "sweep"))
    assert 'scripts/ephemeral.py up "$STACK"' in " ".join(step.get("run", "") for step in deploy["steps"])
    [destroying] = [step for step in destroy["steps"] if "scripts/ephemeral.py destroy" in step.get("run", "")]
    assert 'destroy "$STACK" --wait-for-update' in destroying["run"]
    assert found["env"]["STACK"] == "pr-${{ github.event.pull_request.number }}"
    assert "'closed'" in destroy["if"] and "'unlabeled'" in destroy["if"]
    # A closed pull request deploys nothing, even labelled.
    assert "github.event.action != 'closed'" in found["jobs"]["stack"]["if"] and deploy["needs"] == "stack"
    assert any("gh pr comment" in step.get("run", "") for step in deploy["steps"])
    # No workflow-wide group (a later event would replace a pending destroy): deploys and destroys queue apart, and
    # the destroy needs no job a broken stack file fails; it runs the base branch's code.
    assert "concurrency" not in found and "needs" not in destroy
    assert deploy["concurrency"]["group"].startswith("preview-env-deploy-")
    assert destroy["concurrency"]["group"].startswith("preview-env-destroy-")
    assert destroy["steps"][0]["with"]["ref"].startswith("${{ github.event.pull_request.base.sha")
    # The daily sweep: pr-<n> stacks of pull requests no longer open with the label.
    assert set(found[True]) == {"pull_request", "schedule", "workflow_dispatch"}
    assert (
        "--open-prs" in sweep["steps"][-1]["run"]
        and "gh pr list --state open --label preview-env" in (sweep["steps"][-1]["run"])
    )
    assert {job["environment"] for job in (deploy, destroy, sweep)} == {"preview-env"}


def test_readme_states_what_a_typical_run_of_this_stack_costs() -> None:
    stack = sorted(ROOT.glob("Pulumi.*.yaml"))[0].name.removeprefix("Pulumi.").removesuffix(".yaml")
    assert acceptance_markdown(parse_settings(read_stack_config(stack))) in (ROOT / "README.md").read_text()


def test_a_source_with_a_secure_alarm_email_is_read_as_pulumi_reads_it(tmp_path: Path) -> None:
    """The source stack's files read by infra/stack_file.py's rules: a secure value is present but unknown (left out,
    not passed through as a `{secure: ...}` map that validation refuses), Pulumi.yaml's defaults count, and YAML
    1.2's `on` stays text."""
    [stack_file] = ROOT.glob("Pulumi.*.yaml")
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    project["config"] = {**(project.get("config") or {}), "replicas": {"default": 5}}
    (tmp_path / "Pulumi.yaml").write_text(yaml.safe_dump(project))
    source = yaml.safe_load(stack_file.read_text())
    source["config"][f"{project['name']}:alarm_email"] = {"secure": "v1:c2VjcmV0"}
    source["config"].pop(f"{project['name']}:replicas", None)
    source["config"][f"{project['name']}:environment"] = {"FEATURE": "on"}
    (tmp_path / "Pulumi.src.yaml").write_text(yaml.safe_dump(source).replace("'on'", "on"))
    config = read_stack_config("src", tmp_path)
    assert "alarm_email" not in config and config["replicas"] == 5 and config["environment"] == {"FEATURE": "on"}
    made = copy_overrides(config, NAME, "src")
    assert made.overrides["alarm_email"] == ""


@pytest.mark.parametrize(
    ("state", "labels", "answer"),
    [("open", ["preview-env"], "true"), ("closed", ["preview-env"], "false"), ("open", ["other"], "false")],
)
def test_a_deploy_that_waited_asks_whether_the_pull_request_is_still_open_before_up(
    state: str, labels: list[str], answer: str, tmp_path: Path
) -> None:
    """A deploy queued or waiting for approval may start after the pull request closed and its destroy ran: the step
    before `up` asks GitHub now (here a stand-in `gh api` applies the step's
    --jq filter with jq to a pull request as the REST API returns it), and `up` and the comment run only on "true"."""
    deploy = workflow("preview-env.yml")["jobs"]["deploy"]
    names = [step.get("id") for step in deploy["steps"]]
    check = deploy["steps"][names.index("current")]
    assert names.index("current") < names.index("environment")
    gated = [
        step
        for step in deploy["steps"]
        if "ephemeral.py up" in step.get("run", "") or "gh pr comment" in step.get("run", "")
    ]
    assert len(gated) == 2 and all("steps.current.outputs.open == 'true'" in step["if"] for step in gated)
    assert "repos/$GH_REPO/pulls/$PR" in check["run"] and "preview-env" in check["run"]
    assert check["env"]["GH_TOKEN"] == "${{ github.token }}"  # noqa: S105 (an expression, not a secret)
    pull = tmp_path / "pull.json"
    pull.write_text(json.dumps({"number": 7, "state": state, "labels": [{"name": name} for name in labels]}))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(f'#!/bin/sh\n[ "$1 $2 $3" = "api repos/o/r/pulls/7 --jq" ] && exec jq "$4" {pull}\n')
    (bin_dir / "gh").chmod(0o755)
    output = tmp_path / "output"
    output.touch()
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "GITHUB_OUTPUT": str(output),
        "PR": "7",
        "GH_REPO": "o/r",
    }
    subprocess.run(["bash", "-e", "-c", check["run"]], env=env, check=True, capture_output=True)
    assert output.read_text() == f"open={answer}\n"


def test_the_readme_states_the_stale_age_and_the_deploy_roles_session_the_code_uses() -> None:
    readme = (ROOT / "README.md").read_text()
    # The deploy role's maximum session: the longest `role-duration-seconds` of the workflows (make bootstrap).
    longest = max(
        step["with"]["role-duration-seconds"]
        for name in ("deploy.yml", "acceptance.yml", "preview-env.yml")
        for job in workflow(name)["jobs"].values()
        for step in job["steps"]
        if "configure-aws-credentials" in step.get("uses", "")
    )
    assert f"that job's {longest:,} s" in readme
    assert readme.count(f"{ephemeral.STALE_AFTER_HOURS} hours") >= 3
    for claim in ("stale after {} hours", "touched for {} hours", "once it is {} hours old"):
        assert claim.format(ephemeral.STALE_AFTER_HOURS) in readme
