"""The S3 bucket for ALB access logs: encrypted, never public, written only by ELB's log delivery, expired on time."""

import json

import pulumi
import pulumi_aws as aws

PREFIX = "alb"
# Regions opened before August 2022 deliver ALB logs from a regional ELB account; newer ones from a service principal.
REGIONS_WITH_ELB_ACCOUNT = frozenset(
    {
        "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1", "ap-south-1",
        "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
        "ca-central-1", "eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1", "eu-north-1",
        "me-south-1", "sa-east-1",
    }
)  # fmt: skip


def delivery_policy(bucket_arn: str, account_id: str, elb_account_arn: str | None) -> str:
    """The bucket policy that lets ELB write this account's logs under PREFIX, and nothing else."""
    objects = f"{bucket_arn}/{PREFIX}/AWSLogs/{account_id}/*"
    statements: list[dict[str, object]] = [
        {
            "Sid": "ElbLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": objects,
        },
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    ]
    if elb_account_arn:
        statements.append(
            {
                "Sid": "ElbAccountLogDelivery",
                "Effect": "Allow",
                "Principal": {"AWS": elb_account_arn},
                "Action": "s3:PutObject",
                "Resource": objects,
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


class AccessLogBucket(pulumi.ComponentResource):
    """A private, SSE-S3 encrypted bucket receiving the ALB's access logs; objects expire after `retention_days`."""

    def __init__(self, name: str, region: str, retention_days: int, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("fargate:logs:AccessLogBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = aws.s3.Bucket(f"{name}-alb-logs", force_destroy=True, opts=child)
        aws.s3.BucketPublicAccessBlock(
            f"{name}-alb-logs",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-alb-logs", bucket=self.bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=child
        )
        # ALB log delivery supports SSE-S3 only, not KMS keys.
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-alb-logs",
            bucket=self.bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-alb-logs",
            bucket=self.bucket.id,
            rules=[{"id": "expire-logs", "status": "Enabled", "filter": {}, "expiration": {"days": retention_days}}],
            opts=child,
        )
        account_id = aws.get_caller_identity_output().account_id
        elb_account = (
            aws.elb.get_service_account_output(region=region).arn if region in REGIONS_WITH_ELB_ACCOUNT else None
        )
        self.policy = aws.s3.BucketPolicy(
            f"{name}-alb-logs",
            bucket=self.bucket.id,
            policy=pulumi.Output.all(self.bucket.arn, account_id, elb_account).apply(lambda v: delivery_policy(*v)),
            opts=child,
        )
        self.prefix = PREFIX
        self.register_outputs({"bucket": self.bucket.id})
