"""With networking=private-endpoints: the VPC endpoints through which tasks without a route out reach AWS."""

import json

import pulumi
import pulumi_aws as aws


def ecr_layers_only_policy(region: str) -> dict[str, object]:
    """The S3 gateway endpoint's policy: reading ECR's image layer bucket of `region`, nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EcrImageLayers",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::prod-{region}-starport-layer-bucket/*",
            }
        ],
    }


class VpcEndpoints(pulumi.ComponentResource):
    """An interface endpoint per service in `services`, in every zone's private subnet, behind a security group that
    only HTTPS from the tasks may pass (the service adds that rule); and the S3 gateway endpoint on the private route
    tables, for the image layers ECR serves from S3."""

    def __init__(
        self,
        name: str,
        *,
        region: str,
        vpc_id: pulumi.Input[str],
        subnet_ids: list[pulumi.Input[str]],
        route_table_ids: list[pulumi.Input[str]],
        services: tuple[str, ...],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("fargate:network:VpcEndpoints", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-endpoints",
            vpc_id=vpc_id,
            description="VPC interface endpoints: HTTPS from the Fargate tasks only",
            opts=child,
        )
        self.interface = {
            service: aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}",
                vpc_id=vpc_id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Interface",
                subnet_ids=subnet_ids,
                security_group_ids=[self.security_group.id],
                # The tasks call the services' usual names (ecr.api, logs...), which then resolve to the endpoints.
                private_dns_enabled=True,
                tags={"Name": f"{name}-{service}"},
                opts=child,
            )
            for service in services
        }
        self.s3 = aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc_id,
            service_name=f"com.amazonaws.{region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=route_table_ids,
            # The tasks need S3 only for image layers, which ECR serves from its own bucket (ECR user guide,
            # "Minimum Amazon S3 bucket permissions for Amazon ECR"): nothing else in S3 is reachable from them.
            policy=json.dumps(ecr_layers_only_policy(region)),
            tags={"Name": f"{name}-s3"},
            opts=child,
        )
        self.endpoints = [*self.interface.values(), self.s3]
        self.register_outputs({"security_group_id": self.security_group.id})
