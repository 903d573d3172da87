"""The deploy and preview policies `make bootstrap` derives for every Pulumi.<stack>.yaml of this project.

Each stack file is run once under mocks (conftest.deploy_stack_file, the same run test_stack_files.py reads); the
template's suite runs these tests in every variant of its matrix against that one run. The policy-wide checks (action
names and ARN formats against the Service Authorization Reference, IAM grammar, trust) are in test_bootstrap.py.
"""

import fnmatch
from pathlib import Path
from typing import Any

import pytest

from bootstrap.permissions import (
    ACCESS,
    MANAGED_POLICIES_PER_ROLE,
    MANAGED_POLICY_CHARACTERS,
    Inventory,
    Scope,
    allows,
    inventory_of,
    name_prefixes,
    policies,
    size,
    unmapped,
)
from conftest import ACCOUNT, PROJECT, ROOT, Deployment, deploy_stack_file, stack_file_config
from infra.validation import Settings, parse_settings, resource_base_name

STACK_FILES = sorted(ROOT.glob("Pulumi.*.yaml"))


def inventory(deployment: Deployment) -> Inventory:
    return inventory_of(
        [(resource.type, resource.name, resource.inputs) for resource in deployment.resources],
        [invoke.token for invoke in deployment.invokes],
    )


def settings_of(stack_file: Path) -> Settings:
    config = stack_file_config(stack_file)
    raw = {key.split(":", 1)[1]: value for key, value in config.items() if not key.startswith("aws:")}
    return parse_settings({**raw, "aws_region": config["aws:region"]})


def scope_of(settings: Settings) -> Scope:
    prefixes = name_prefixes(PROJECT, resource_base_name(PROJECT))
    return Scope(
        ACCOUNT,
        settings.aws_region,
        prefixes,
        settings.iam_role_path,
        settings.permissions_boundary_arn,
        settings.vpc_id,
    )


def deploy_policies(stack_file: Path) -> list[dict[str, Any]]:
    return policies(inventory(deploy_stack_file(stack_file)), scope_of(settings_of(stack_file)), write=True)


def actions(documents: list[dict[str, Any]]) -> set[str]:
    return {action for document in documents for statement in document["Statement"] for action in statement["Action"]}


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=[path.name for path in STACK_FILES])
def test_every_resource_type_and_lookup_the_stack_registers_has_iam_permissions(stack_file: Path) -> None:
    missing = unmapped(inventory(deploy_stack_file(stack_file)))
    assert not missing, (
        f"{stack_file.name} registers or looks up {missing}, which bootstrap/permissions.py ACCESS does not map to "
        "IAM actions: the deploy role could not create them. Add each with its read and write actions "
        "(Service Authorization Reference)"
    )


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=[path.name for path in STACK_FILES])
def test_every_registered_type_contributes_its_actions_to_the_deploy_policy(stack_file: Path) -> None:
    found = inventory(deploy_stack_file(stack_file))
    granted = actions(deploy_policies(stack_file))
    for key in found.types | found.invokes:
        needed = {action for item in ACCESS[key].read + ACCESS[key].write for action in item.actions}
        assert needed <= granted, f"{key}: {sorted(needed - granted)} missing from the deploy policy"


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=[path.name for path in STACK_FILES])
def test_the_deploy_policy_holds_only_what_the_settings_switch_on(stack_file: Path) -> None:
    settings = settings_of(stack_file)
    services = {action.split(":")[0] for action in actions(deploy_policies(stack_file))}
    assert ("wafv2" in services) is settings.enable_waf
    assert ("acm" in services) is (settings.enable_https and not settings.certificate_arn)
    assert ("route53" in services) is bool(settings.domain_name)
    assert ("application-autoscaling" in services) is settings.enable_autoscaling


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=[path.name for path in STACK_FILES])
def test_pass_role_names_each_stack_role_and_the_service_it_is_passed_to(stack_file: Path) -> None:
    passes = [
        statement
        for document in deploy_policies(stack_file)
        for statement in document["Statement"]
        if "iam:PassRole" in statement["Action"]
    ]
    roles = {resource.name for resource in deploy_stack_file(stack_file).of_type("aws:iam/role:Role")}
    assert passes, "the stack's task definition passes its roles to ECS"
    for statement in passes:
        assert statement["Action"] == ["iam:PassRole"], "PassRole shares no statement with other actions"
        assert statement["Condition"]["StringEquals"]["iam:PassedToService"].endswith(".amazonaws.com")
        for arn in statement["Resource"]:
            assert any(arn == f"arn:aws:iam::{ACCOUNT}:role/{role}-*" for role in roles), arn


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=[path.name for path in STACK_FILES])
def test_the_deploy_policy_fits_iam_managed_policy_limits(stack_file: Path) -> None:
    documents = deploy_policies(stack_file)
    largest = max(size(document) for document in documents)
    assert len(documents) <= MANAGED_POLICIES_PER_ROLE, f"{len(documents)} managed policies"
    assert largest <= MANAGED_POLICY_CHARACTERS, f"{largest} characters"


def covers(template: str, arn: str) -> bool:
    """Whether a grant's ARN template is about this kind of resource (its placeholders taken as wildcards)."""
    for placeholder in ("{region}", "{account}", "{role_path}", "{name}", "{prefix}", "{domain}"):
        template = template.replace(placeholder, "*")
    return fnmatch.fnmatchcase(arn, template)


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=[path.name for path in STACK_FILES])
def test_the_deploy_policy_reaches_every_resource_the_stack_registers_by_its_arn(stack_file: Path) -> None:
    """Each resource's ARN (as the mocks make it up, in AWS's shapes) is allowed every write action of its type
    whose grants are about that kind of resource: a name the stack gives outside the scoped prefixes fails here."""
    unreached = unreached_resources(deploy_stack_file(stack_file), deploy_policies(stack_file))
    assert not unreached, unreached


def unreached_resources(deployment: Deployment, documents: list[dict[str, Any]]) -> list[str]:
    """Each write action of a resource's type that these policies do not allow on that resource's ARN."""
    unreached = []
    for resource in deployment.resources:
        arn = str(resource.outputs.get("arn", ""))
        if resource.type not in ACCESS or not arn.startswith("arn:"):
            continue
        for item in ACCESS[resource.type].write:
            if any(template != "*" and covers(template, arn) for template in item.resources):
                unreached += [f"{action} on {arn}" for action in item.actions if not allows(documents, action, arn)]
    return unreached
