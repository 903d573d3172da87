"""An organisation's guardrails, under mocks: every role the stack creates on one path under one boundary."""

from conftest import deploy

ROLE = "aws:iam/role:Role"
BOUNDARY = "arn:aws:iam::123456789012:policy/org/Boundary"
# Every role there is: execution, task, flow logs, and the ECS infrastructure role of a non-rolling strategy.
GUARDED = {
    "permissions_boundary_arn": BOUNDARY,
    "iam_role_path": "/teams/payments/",
    "deployment_strategy": "canary",
    "enable_flow_logs": True,
}


def test_every_role_the_stack_creates_takes_the_path_and_the_boundary() -> None:
    roles = deploy(**GUARDED).of_type(ROLE)
    assert len(roles) == 4, [role.name for role in roles]
    assert {role.name: (role.inputs.get("path"), role.inputs.get("permissionsBoundary")) for role in roles} == {
        role.name: ("/teams/payments/", BOUNDARY) for role in roles
    }


def test_without_guardrails_roles_sit_at_the_root_without_a_boundary() -> None:
    roles = deploy(deployment_strategy="canary").of_type(ROLE)
    assert {(role.inputs.get("path"), role.inputs.get("permissionsBoundary")) for role in roles} == {("/", None)}
