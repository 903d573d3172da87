"""What the tasks may reach and who may reach them: the task security group and every rule that names it."""

import pulumi
import pulumi_aws as aws

from infra.endpoints import VpcEndpoints
from infra.network import Placement


def port_rule(unsuffixed: str, opts: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
    """A rule that names the container port is a resource per port (`<rule>-<port>`). The provider would rewrite a
    rule's ports in place (ModifySecurityGroupRules), and the service waits for its rules: the old tasks' port would
    close before any new task exists. As a new resource, the new port's rule is created before the service moves, and
    the old port's rule, gone from the program, is deleted only at the end of an update that succeeded: a release ECS
    rolls back (a failed `up`) leaves it in place and live, for the tasks still on that port. (Marked for replacement
    instead, it would be a pending delete that the next `up` runs first, pulumi/pulumi retirePendingDeletes.) The
    alias keeps the rule stacks created before the port was in the name: no change on upgrade."""
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=[pulumi.Alias(name=unsuffixed)]))


class TaskNetworkRules:
    """The tasks' security group in the placement's VPC: `port` from the ALB only; out, HTTPS anywhere and DNS to the
    VPC's CIDR blocks (its resolver); with `endpoints`, HTTPS into the endpoints. Created under `opts.parent`.

    A plain class, not a component, so the rules keep the URNs they had as the FargateService's children.
    """

    def __init__(
        self,
        name: str,
        placement: Placement,
        *,
        port: int,
        alb_security_group: aws.ec2.SecurityGroup,
        endpoints: VpcEndpoints | None,
        opts: pulumi.ResourceOptions,
    ) -> None:
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-tasks",
            vpc_id=placement.vpc_id,
            description="Fargate tasks: the container port from the ALB only",
            tags=placement.security_group_tags,
            opts=opts,
        )
        # Every rule the tasks' traffic needs: the service starts no task before they exist (a task that cannot pull
        # its image or answer a health check counts against the deployment circuit breaker).
        self.rules: list[pulumi.Resource] = [
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-from-alb-{port}",
                security_group_id=self.security_group.id,
                description="The app's port, from the ALB only",
                referenced_security_group_id=alb_security_group.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                opts=port_rule(f"{name}-from-alb", opts),
            ),
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-alb-to-tasks-{port}",
                security_group_id=alb_security_group.id,
                description="Requests and health checks to the tasks' port",
                referenced_security_group_id=self.security_group.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                opts=port_rule(f"{name}-alb-to-tasks", opts),
            ),
        ]
        # Tasks leave over HTTPS only: ECR and its S3 layers, CloudWatch Logs, SSM and Secrets Manager, ECS exec and
        # the AWS APIs the app calls all listen on 443 (through NAT or VPC endpoints alike). DNS to the VPC's own
        # resolver too, in each of the VPC's CIDR blocks (the first block's rules keep the names they always had).
        # An app that needs another port (a database) adds its own rule here, naming that port.
        egress = [("https", "tcp", 443, "0.0.0.0/0", "HTTPS: AWS APIs, ECR, logs, secrets and the app's HTTPS calls")]
        for index, cidr in enumerate(placement.cidr_blocks):
            suffix = f"-{index}" if index else ""
            egress += [
                (f"dns-udp{suffix}", "udp", 53, cidr, "DNS to the VPC resolver"),
                (f"dns-tcp{suffix}", "tcp", 53, cidr, "DNS over TCP (large answers) to the VPC resolver"),
            ]
        # Custom DNS servers from an existing VPC's DHCP options, wherever they are (a hub VPC, on premises).
        for index, server in enumerate(placement.dns_servers):
            egress += [
                (f"dns-udp-server-{index}", "udp", 53, f"{server}/32", "DNS to the VPC's DHCP options DNS server"),
                (f"dns-tcp-server-{index}", "tcp", 53, f"{server}/32", "DNS over TCP to the DHCP options DNS server"),
            ]
        for rule, protocol, to_port, cidr, description in egress:
            self.rules.append(
                aws.vpc.SecurityGroupEgressRule(
                    f"{name}-tasks-{rule}",
                    security_group_id=self.security_group.id,
                    description=description,
                    ip_protocol=protocol,
                    from_port=to_port,
                    to_port=to_port,
                    cidr_ipv4=cidr,
                    opts=opts,
                )
            )
        # Without a route out, tasks reach ECR, logs and secrets only through the endpoints: let them in (the service
        # starts no task before this rule and the endpoints exist either).
        self.endpoint_access: list[pulumi.Resource] = []
        if endpoints is not None:
            self.endpoint_access = [
                *endpoints.endpoints,
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-tasks-to-endpoints",
                    security_group_id=endpoints.security_group.id,
                    referenced_security_group_id=self.security_group.id,
                    ip_protocol="tcp",
                    from_port=443,
                    to_port=443,
                    description="HTTPS from the Fargate tasks to the VPC endpoints",
                    opts=opts,
                ),
            ]
