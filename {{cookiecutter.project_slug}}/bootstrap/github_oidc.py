"""GitHub's OIDC identity provider and the trust policies of the roles GitHub Actions jobs assume.

A job's OIDC token names it in its `sub` claim (GitHub, "OpenID Connect reference"): a job that names a GitHub
environment carries `repo:<owner>/<repo>:environment:<name>`, a pull request's job `repo:<owner>/<repo>:pull_request`,
another job on a branch `repo:<owner>/<repo>:ref:refs/heads/<branch>`. The trust policies match `sub` exactly
(StringEquals, no wildcard) and `aud` to STS's, as AWS documents for GitHub (IAM User Guide, "Create a role for OpenID
Connect federation").
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ISSUER_HOST = "token.actions.githubusercontent.com"
ISSUER_URL = f"https://{ISSUER_HOST}"
AUDIENCE = "sts.amazonaws.com"  # what aws-actions/configure-aws-credentials asks GitHub for
DEFAULT_BRANCH = "main"  # where scheduled runs run, and the only branch a manual run may assume a role from
MAX_SESSION_SECONDS = 12 * 3600  # IAM's maximum session duration for a role
DEFAULT_SESSION_SECONDS = 3600  # what configure-aws-credentials asks for without role-duration-seconds
ROLE_VARIABLE = re.compile(r"\$\{\{\s*vars\.(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
INPUT_DEFAULT = re.compile(r"\$\{\{\s*inputs\.[\w-]+\s*\|\|\s*'([^']+)'\s*\}\}")
# GitHub owner (user or organisation) and repository names.
REPOSITORY_PATTERN = re.compile(r"(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/(?P<name>[A-Za-z0-9._-]{1,100})")


def check_repository(repository: str) -> str | None:
    """A one-line error for a value that is not `<owner>/<repo>`, else None."""
    if REPOSITORY_PATTERN.fullmatch(repository) and repository.split("/")[1] not in (".", ".."):
        return None
    return (
        f"github_repository={repository!r} is not a GitHub repository: use <owner>/<repo> as GitHub spells it "
        "(e.g. acme/payments-api), letters, digits, '-', '.', '_'"
    )


def deploy_subject(repository: str, environment: str) -> str:
    return f"repo:{repository}:environment:{environment}"


def pull_request_subject(repository: str) -> str:
    return f"repo:{repository}:pull_request"


def trust_policy(provider_arn: str, subjects: list[str]) -> dict[str, Any]:
    """Only tokens from GitHub's issuer, for STS, whose subject is exactly one of these, may assume the role."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{ISSUER_HOST}:aud": AUDIENCE,
                        f"{ISSUER_HOST}:sub": subjects[0] if len(subjects) == 1 else sorted(subjects),
                    }
                },
            }
        ],
    }


@dataclass(frozen=True)
class RoleUse:
    """A workflow job's step that assumes a role named by a repository variable, and what its token carries."""

    workflow: str
    job: str
    variable: str
    subjects: tuple[str, ...]
    session_seconds: int
    source_stack: str = ""  # an ephemeral copy's workflow: the stack it copies (the workflow's env SOURCE_STACK)
    runs_pull_requests: bool = False  # the workflow runs pull requests' code (a branch policy cannot hold it)


def job_subjects(workflow: dict[Any, Any], job: dict[str, Any], repository: str) -> tuple[str, ...]:
    """The `sub` claims a job's tokens carry, in GitHub's default format (one per branch a push runs on)."""
    environment = job.get("environment")
    if environment:
        return (deploy_subject(repository, environment if isinstance(environment, str) else environment["name"]),)
    triggers = workflow["on"] if "on" in workflow else workflow[True]  # YAML 1.1 reads a bare `on` as true
    triggers = {triggers: None} if isinstance(triggers, str) else dict(triggers)
    subjects = set()
    for event, settings in triggers.items():
        if event in ("pull_request", "pull_request_target"):
            subjects.add(pull_request_subject(repository))
        elif event == "push":
            branches = (settings or {}).get("branches")
            if not branches or any(set(branch) & set("*?[!") for branch in branches):
                raise ValueError(f"a push job that assumes a role must name its branches exactly, not {branches}")
            subjects.update(f"repo:{repository}:ref:refs/heads/{branch}" for branch in branches)
        elif event in ("workflow_dispatch", "schedule"):
            subjects.add(f"repo:{repository}:ref:refs/heads/{DEFAULT_BRANCH}")
        else:
            raise ValueError(f"no OIDC subject known for a job triggered by {event!r}: give the job an environment")
    return tuple(sorted(subjects))


def role_uses(workflows: Path, repository: str) -> list[RoleUse]:
    """Every step of every workflow that assumes a role through aws-actions/configure-aws-credentials."""
    uses = []
    for path in sorted(workflows.glob("*.yml")):
        workflow = yaml.safe_load(path.read_text())
        source_stack = copied_stack(str((workflow.get("env") or {}).get("SOURCE_STACK", "")))
        triggers = workflow.get("on", workflow.get(True)) or {}
        runs_pull_requests = any(
            event in ([triggers] if isinstance(triggers, str) else triggers)
            for event in ("pull_request", "pull_request_target")
        )
        for job_name, job in workflow.get("jobs", {}).items():
            for step in job.get("steps", []):
                if not str(step.get("uses", "")).startswith("aws-actions/configure-aws-credentials@"):
                    continue
                named = ROLE_VARIABLE.fullmatch(str(step.get("with", {}).get("role-to-assume", "")).strip())
                if not named:
                    continue  # a role given otherwise is not one of ours
                seconds = int(step["with"].get("role-duration-seconds", DEFAULT_SESSION_SECONDS))
                subjects = job_subjects(workflow, job, repository)
                uses.append(
                    RoleUse(path.name, job_name, named["name"], subjects, seconds, source_stack, runs_pull_requests)
                )
    return uses


def copied_stack(source: str) -> str:
    """The stack an ephemeral copy's workflow copies: its SOURCE_STACK, or the default of a dispatch input
    (`${{ inputs.stack || 'dev' }}`). Another stack given as the input is copied under the same role the workflow
    names, so the role that trusts the workflow is the default stack's."""
    default = INPUT_DEFAULT.fullmatch(source.strip())
    return default.group(1) if default else source


def uses_for_stack(uses: list[RoleUse], repository: str, stack: str) -> list[RoleUse]:
    """The jobs one bootstrap stack's roles trust: in a GitHub environment, only the stack's own (`<stack>`), or the
    ephemeral copies' environments (acceptance, preview-env) of workflows that copy this stack (SOURCE_STACK). So
    prod's deploy role refuses dev's deploy job and the copies of dev. Jobs with no environment (pull requests'
    previews) are kept: their subject names no stack."""
    own = deploy_subject(repository, stack)
    return [
        use
        for use in uses
        if use.source_stack == stack
        or not any(":environment:" in subject for subject in use.subjects)
        or use.subjects == (own,)
    ]


def trusted_subjects(uses: list[RoleUse], variable: str) -> list[str]:
    return sorted({subject for use in uses if use.variable == variable for subject in use.subjects})


def max_session(uses: list[RoleUse], variable: str) -> int:
    """The longest session any job asks of the role: IAM refuses a request above the role's maximum."""
    longest = max([DEFAULT_SESSION_SECONDS] + [use.session_seconds for use in uses if use.variable == variable])
    if longest > MAX_SESSION_SECONDS:
        raise ValueError(f"role-duration-seconds={longest} for {variable} is above IAM's 12 hours (43200)")
    return longest
