"""GitHub's OIDC identity provider and the trust policies of the roles GitHub Actions jobs assume.

A job's OIDC token names it in its `sub` claim (GitHub, "OpenID Connect reference"): a job that names a GitHub
environment carries `repo:<owner>/<repo>:environment:<name>`, a pull request's job `repo:<owner>/<repo>:pull_request`,
another job on a branch `repo:<owner>/<repo>:ref:refs/heads/<branch>`. The trust policies match `sub` exactly
(StringEquals, no wildcard) and `aud` to STS's, as AWS documents for GitHub (IAM User Guide, "Create a role for OpenID
Connect federation").
"""

import re
from typing import Any

ISSUER_HOST = "token.actions.githubusercontent.com"
ISSUER_URL = f"https://{ISSUER_HOST}"
AUDIENCE = "sts.amazonaws.com"  # what aws-actions/configure-aws-credentials asks GitHub for
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
