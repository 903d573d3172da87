"""The bootstrap stack: GitHub's OIDC provider (found or created), the deploy and preview roles, their policies.

One bootstrap stack per application stack, with the same name: `make bootstrap STACK=<stack>` reads that stack's file
(`../Pulumi.<stack>.yaml`), runs its program under mocks to list what it registers (bootstrap/inventory.py) and gives
the deploy role exactly what those resource types need (bootstrap/permissions.py). Run it again after a
`pulumi config set` that switches a feature on; `make preview` warns while the deployed policy lacks something.
"""

import subprocess
import sys
from typing import Any

import pulumi
import pulumi_aws as aws

from bootstrap.github_oidc import (
    AUDIENCE,
    ISSUER_URL,
    check_repository,
    max_session,
    role_uses,
    trust_policy,
    trusted_subjects,
)
from bootstrap.inventory import PROJECT_DIR, from_json
from bootstrap.permissions import Inventory, Scope, name_prefixes, policies
from infra.stack_file import stack_file_config, stack_file_settings
from infra.validation import RoleGuardrails, resource_base_name, stack_resource_name

DEPLOY_VARIABLE = "AWS_DEPLOY_ROLE_ARN"
PREVIEW_VARIABLE = "AWS_PREVIEW_ROLE_ARN"
WORKFLOWS = PROJECT_DIR / ".github" / "workflows"


def ci_role_name(project: str, stack: str, kind: str) -> str:
    """`github-<project>-<stack>-<kind>`: outside the `<project>-*` names the deploy role may create and change."""
    return f"github-{stack_resource_name(project, stack, 64 - len('github--') - len(kind))}-{kind}"


def github_oidc_provider(project: str, stack: str) -> pulumi.Output[str]:
    """The account's provider for GitHub's issuer: the existing one if any (one per URL and account), else created.

    A provider this stack created carries its tag and stays managed here (the `import` option is a no-op while it is
    in the stack's state); one made by anyone else is only referred to. Created, it outlives `pulumi destroy` of this
    stack (retain_on_delete): other repositories' roles in the account may trust it by then.
    """
    owner = f"{project}/bootstrap/{stack}"
    try:
        found = aws.iam.get_open_id_connect_provider(url=ISSUER_URL)
    except Exception:  # the lookup fails when the account has no provider for the URL
        found = None
    if found is not None and found.tags.get("created-by") != owner:
        return pulumi.Output.from_input(found.arn)
    provider = aws.iam.OpenIdConnectProvider(
        "github",
        url=ISSUER_URL,
        client_id_lists=[AUDIENCE],
        tags={"created-by": owner},
        # No thumbprint: AWS verifies GitHub's certificate against its own trusted CAs (IAM User Guide,
        # "Create an OpenID Connect (OIDC) identity provider in IAM").
        opts=pulumi.ResourceOptions(retain_on_delete=True, import_=found.arn if found else None),
    )
    return provider.arn


def ci_role(
    name: str,
    kind: str,
    *,
    trust: pulumi.Output[Any],
    documents: list[dict[str, Any]],
    session: int,
    guardrails: RoleGuardrails,
) -> aws.iam.Role:
    role = aws.iam.Role(
        kind,
        name=name,
        path=guardrails.path,
        permissions_boundary=guardrails.permissions_boundary_arn or None,
        assume_role_policy=pulumi.Output.json_dumps(trust),
        max_session_duration=session,
        description=f"GitHub Actions {kind} jobs of one repository (bootstrap stack)",
        # A fixed name (the repository variable holds its ARN): a change IAM cannot make in place (the path) must
        # delete the old role before creating the new one.
        opts=pulumi.ResourceOptions(delete_before_replace=True),
    )
    for index, document in enumerate(documents):
        # A name prefix, not a name: IAM replaces a policy whose path or description changes, and the new one must
        # not collide with the old while both exist. Statements moving between documents are new policy versions.
        policy = aws.iam.Policy(
            f"{kind}-{index}",
            name_prefix=f"{name}-{index}-",
            path=guardrails.path,
            policy=pulumi.Output.json_dumps(document),
            description="derived from the resource types of the stack (bootstrap stack)",
        )
        aws.iam.RolePolicyAttachment(f"{kind}-{index}", role=role.name, policy_arn=policy.arn)
    return role


def list_resources(stack: str) -> Inventory:
    """The application stack's inventory, from another process: a Pulumi program cannot run one under mocks itself."""
    command = [sys.executable, "-m", "bootstrap.inventory", stack]
    listed = subprocess.run(command, cwd=PROJECT_DIR, check=True, capture_output=True, text=True)
    return from_json(listed.stdout)


def account_scope(scope: Scope) -> dict[str, Any]:
    return {
        "account": scope.account,
        "region": scope.region,
        "name_prefixes": list(scope.name_prefixes),
        "role_path": scope.role_path,
        "permissions_boundary_arn": scope.permissions_boundary_arn,
        "vpc_id": scope.vpc_id,
    }


def main() -> None:
    config = pulumi.Config()
    repository = config.require("github_repository")
    if error := check_repository(repository):
        raise pulumi.RunError(error)
    stack = pulumi.get_stack()
    project, _ = stack_file_config(stack, PROJECT_DIR)
    # The stack's settings by the program's own rules; issue 23's role path and boundary apply to these roles too.
    app = stack_file_settings(stack, PROJECT_DIR)
    region, guardrails = app.aws_region, app.role_guardrails
    # Who may assume each role, and for how long: what the workflow jobs that name its variable ask for.
    try:
        uses = role_uses(WORKFLOWS, repository)
        sessions = {variable: max_session(uses, variable) for variable in (DEPLOY_VARIABLE, PREVIEW_VARIABLE)}
    except ValueError as error:
        raise pulumi.RunError(f".github/workflows: {error}") from None
    deploy_subjects = trusted_subjects(uses, DEPLOY_VARIABLE)
    preview_subjects = trusted_subjects(uses, PREVIEW_VARIABLE)
    if not deploy_subjects or not preview_subjects:
        raise pulumi.RunError(f"no workflow job assumes {DEPLOY_VARIABLE} and {PREVIEW_VARIABLE}: nothing to trust")
    inventory = list_resources(stack)
    account = aws.get_caller_identity().account_id
    prefixes = name_prefixes(project, resource_base_name(project))
    scope = Scope(account, region, prefixes, guardrails.path, guardrails.permissions_boundary_arn, app.vpc_id)
    provider_arn = github_oidc_provider(project, stack)
    deploy_documents = policies(inventory, scope, write=True)
    deploy = ci_role(
        ci_role_name(project, stack, "deploy"),
        "deploy",
        trust=provider_arn.apply(lambda arn: trust_policy(arn, deploy_subjects)),
        documents=deploy_documents,
        session=sessions[DEPLOY_VARIABLE],
        guardrails=guardrails,
    )
    preview = ci_role(
        ci_role_name(project, stack, "preview"),
        "preview",
        trust=provider_arn.apply(lambda arn: trust_policy(arn, preview_subjects)),
        documents=policies(inventory, scope, write=False),
        session=sessions[PREVIEW_VARIABLE],
        guardrails=guardrails,
    )
    pulumi.export("github_oidc_provider_arn", provider_arn)
    pulumi.export("deploy_role_arn", deploy.arn)
    pulumi.export("preview_role_arn", preview.arn)
    # Read by scripts/permissions_check.py (`make preview`): what the deploy role holds, and the scope it was made for.
    pulumi.export("deploy_policies", deploy_documents)
    pulumi.export("scope", account_scope(scope))
    pulumi.export("deploy_subjects", deploy_subjects)
    # GitHub puts no branch in an environment job's subject: each environment must admit only protected branches.
    environments = [subject.rsplit(":environment:", 1)[1] for subject in deploy_subjects if ":environment:" in subject]
    pulumi.export(
        "github_environment_commands",
        [
            f"gh api -X PUT repos/{repository}/environments/{environment} "
            "-F 'deployment_branch_policy[protected_branches]=true' "
            "-F 'deployment_branch_policy[custom_branch_policies]=false'"
            for environment in environments
        ],
    )
    pulumi.export(
        "github_variables",
        pulumi.Output.all(deploy.arn, preview.arn).apply(
            lambda arns: [
                f"gh variable set {DEPLOY_VARIABLE} --repo {repository} --body {arns[0]}",
                f"gh variable set {PREVIEW_VARIABLE} --repo {repository} --body {arns[1]}",
            ]
        ),
    )
