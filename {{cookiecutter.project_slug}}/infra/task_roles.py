"""The task's two IAM roles: what ECS needs to start it (execution role), what the app's code may call (task role)."""

import json

import pulumi
import pulumi_aws as aws

from infra.iam import guarded_role
from infra.validation import RoleGuardrails

EXEC_ACTIONS = [
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
]
EXECUTION_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
ECS_TASKS_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def secret_arn(source: str, region: str) -> pulumi.Output[str]:
    """The ARN of a secret given as an ARN already, or as an SSM parameter name in this account and region."""
    if source.startswith("arn:"):
        return pulumi.Output.from_input(source)
    account_id = aws.get_caller_identity_output().account_id
    return pulumi.Output.concat("arn:aws:ssm:", region, ":", account_id, ":parameter", source)


def secrets_policy(secret_arns: list[pulumi.Output[str]], kms_key_arn: str) -> pulumi.Output[str]:
    """Read exactly these parameters and secrets (and decrypt with the given customer-managed key)."""

    def document(arns: list[str]) -> str:
        statements: list[dict[str, object]] = []
        parameters = [arn for arn in arns if arn.startswith("arn:aws:ssm:")]
        secrets = [arn for arn in arns if arn.startswith("arn:aws:secretsmanager:")]
        if parameters:
            statements.append({"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": parameters})
        if secrets:
            statements.append({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secrets})
        if kms_key_arn:
            statements.append({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": kms_key_arn})
        return json.dumps({"Version": "2012-10-17", "Statement": statements})

    return pulumi.Output.all(*secret_arns).apply(document)


class TaskRoles:
    """The execution role (with read access to exactly `secret_sources`) and the task role (with the ECS exec channel
    when `enable_exec`), on the guardrails' path and boundary, created under `opts.parent`; `secret_arns` are the
    secrets' ARNs, in `secret_sources` order.

    A plain class, not a component, so the roles keep the URNs they had as the FargateService's children.
    """

    def __init__(
        self,
        name: str,
        *,
        region: str,
        secret_sources: list[str],
        secrets_kms_key_arn: str,
        enable_exec: bool,
        guardrails: RoleGuardrails,
        opts: pulumi.ResourceOptions,
    ) -> None:
        # Execution role: what ECS itself needs to start the task (pull the image, write logs).
        self.execution_role = guarded_role(f"{name}-execution", ECS_TASKS_TRUST, guardrails, opts)
        # The policies a task needs before it can start (pull the image, write logs, read its secrets): the task
        # definition names only the role, so the service waits for these itself.
        self.execution_policies: list[pulumi.Resource] = [
            aws.iam.RolePolicyAttachment(
                f"{name}-execution", role=self.execution_role.name, policy_arn=EXECUTION_POLICY_ARN, opts=opts
            )
        ]
        self.secret_arns = [secret_arn(source, region) for source in secret_sources]
        if self.secret_arns:
            self.execution_policies.append(
                aws.iam.RolePolicy(
                    f"{name}-read-secrets",
                    role=self.execution_role.id,
                    policy=secrets_policy(self.secret_arns, secrets_kms_key_arn),
                    opts=opts,
                )
            )
        # Task role: what the app's own code may call in AWS. Empty on purpose; attach policies here as the app grows.
        self.task_role = guarded_role(f"{name}-task", ECS_TASKS_TRUST, guardrails, opts)
        if enable_exec:
            # The ECS exec channel (`make shell`); these actions take no resource ARN.
            aws.iam.RolePolicy(
                f"{name}-exec",
                role=self.task_role.id,
                policy=json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": EXEC_ACTIONS, "Resource": "*"}],
                    }
                ),
                opts=opts,
            )
