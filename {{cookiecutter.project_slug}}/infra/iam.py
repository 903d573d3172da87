"""IAM roles the way an organisation's guardrails want them: every role of the stack on one path, under one
permissions boundary (service control policies often refuse `iam:CreateRole` without the boundary)."""

import pulumi
import pulumi_aws as aws

from infra.validation import RoleGuardrails


def guarded_role(
    name: str, assume_role_policy: pulumi.Input[str], guardrails: RoleGuardrails, opts: pulumi.ResourceOptions
) -> aws.iam.Role:
    """A role on the guardrails' path with their boundary. IAM cannot move a role: a new path replaces it, while
    the boundary is set and removed in place (PutRolePermissionsBoundary, DeleteRolePermissionsBoundary)."""
    return aws.iam.Role(
        name,
        assume_role_policy=assume_role_policy,
        path=guardrails.path,
        permissions_boundary=guardrails.permissions_boundary_arn or None,
        opts=opts,
    )
