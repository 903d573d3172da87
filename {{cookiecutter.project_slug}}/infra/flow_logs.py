"""VPC flow logs (Security Hub EC2.6) to a CloudWatch log group, written by a role only the flow-logs service of
this account may assume."""

import json

import pulumi
import pulumi_aws as aws

from infra.iam import guarded_role
from infra.validation import RoleGuardrails


def trust_policy(region: str, account_id: str) -> str:
    """vpc-flow-logs.amazonaws.com, acting for a flow log of this account only (the confused-deputy conditions)."""
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": account_id},
            "ArnLike": {"aws:SourceArn": f"arn:aws:ec2:{region}:{account_id}:vpc-flow-log/*"},
        },
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def delivery_policy(log_group_arn: str, region: str, account_id: str) -> str:
    """The permissions AWS documents for delivery, each on this log group (DescribeLogGroups lists: the account's)."""
    writes = [log_group_arn, f"{log_group_arn}:*"]
    actions = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    statements = [
        {"Effect": "Allow", "Action": actions, "Resource": writes},
        {
            "Effect": "Allow",
            "Action": ["logs:DescribeLogGroups"],
            "Resource": f"arn:aws:logs:{region}:{account_id}:log-group:*",
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


class VpcFlowLogs(pulumi.ComponentResource):
    """Every accepted and rejected flow of the VPC, kept as long as the stack's other logs."""

    def __init__(
        self,
        name: str,
        *,
        vpc_id: pulumi.Input[str],
        region: str,
        retention_days: int,
        role_guardrails: RoleGuardrails,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("fargate:network:VpcFlowLogs", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account_id = aws.get_caller_identity_output().account_id
        self.log_group = aws.cloudwatch.LogGroup(f"{name}-flow-logs", retention_in_days=retention_days, opts=child)
        self.role = guarded_role(
            f"{name}-flow-logs",
            account_id.apply(lambda account: trust_policy(region, account)),
            role_guardrails,
            child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs",
            role=self.role.id,
            policy=pulumi.Output.all(self.log_group.arn, account_id).apply(
                lambda values: delivery_policy(values[0], region, values[1])
            ),
            opts=child,
        )
        self.flow_log = aws.ec2.FlowLog(
            f"{name}-flow-logs",
            vpc_id=vpc_id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=self.log_group.arn,
            iam_role_arn=self.role.arn,
            opts=child,
        )
        self.register_outputs({"log_group_name": self.log_group.name})
