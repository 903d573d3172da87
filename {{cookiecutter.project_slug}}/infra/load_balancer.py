"""The public Application Load Balancer: its security group, the target group of the tasks and the listeners."""

import pulumi
import pulumi_aws as aws

from infra.access_logs import AccessLogBucket
from infra.validation import Settings

# AWS's recommended policy (TLS 1.3 and 1.2, post-quantum key exchange), set explicitly: the API default is from 2016.
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"
WORLD_IPV4 = "0.0.0.0/0"
# A target group's own port is replace-only (terraform-provider-aws `aws_lb_target_group`: port, protocol, VPC and
# target type are ForceNew) and, with `ip` targets, not the port traffic goes to: ECS registers each task at the
# container port the service names, and the health check's `traffic-port` follows the registered port. So the groups
# keep a fixed port and `container_port` can change without replacing them (a replaced group is empty, or still in use
# by a rule ECS owns). Stacks created when the port was `container_port` keep theirs: `ignore_changes` below.
TARGET_GROUP_PORT = 80


def target_group(
    name: str, settings: Settings, vpc_id: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> aws.lb.TargetGroup:
    """A target group of Fargate task IPs with the stack's health checks (the blue/green pair are two of these)."""
    return aws.lb.TargetGroup(
        name,
        vpc_id=vpc_id,
        target_type="ip",
        port=TARGET_GROUP_PORT,
        protocol="HTTP",
        deregistration_delay=settings.deregistration_delay_seconds,
        health_check={
            "path": settings.health_check_path,
            "protocol": "HTTP",
            "matcher": "200-399",
            "interval": settings.health_check_interval_seconds,
            "timeout": settings.health_check_timeout_seconds,
            "healthy_threshold": settings.healthy_threshold,
            "unhealthy_threshold": settings.unhealthy_threshold,
        },
        stickiness={
            "type": "lb_cookie",
            "enabled": settings.enable_sticky_sessions,
            "cookie_duration": settings.sticky_duration_seconds,
        },
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(ignore_changes=["port"])),
    )


class LoadBalancer(pulumi.ComponentResource):
    """An internet-facing ALB forwarding to a target group of Fargate task IPs, with HTTPS when enabled."""

    def __init__(
        self,
        name: str,
        settings: Settings,
        *,
        vpc_id: pulumi.Input[str],
        subnet_ids: list[pulumi.Input[str]],
        security_group_tags: dict[str, str] | None,
        certificate_arn: pulumi.Input[str] | None,
        access_logs: AccessLogBucket,
        deletion_protection: bool,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("fargate:loadbalancer:LoadBalancer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-alb",
            vpc_id=vpc_id,
            description="Public ALB: HTTP and HTTPS from anywhere",
            tags=security_group_tags,
            opts=child,
        )
        # Only the ports a listener serves, and IPv4 only: the ALB is IPv4-only, so an IPv6 rule would open nothing
        # but would read as if it did. 443 exists only with HTTPS on; 80 always (it redirects to 443 then).
        ports = {80: "HTTP from the internet"}
        if certificate_arn is not None:
            ports[443] = "HTTPS from the internet"
        for port, description in ports.items():
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-alb-{port}-v4",
                security_group_id=self.security_group.id,
                description=description,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_ipv4=WORLD_IPV4,
                opts=child,
            )
        self.alb = aws.lb.LoadBalancer(
            f"{name}-alb",
            load_balancer_type="application",
            internal=False,
            security_groups=[self.security_group.id],
            subnets=subnet_ids,
            drop_invalid_header_fields=True,
            # The app's keep-alive is derived from this (Settings.app_keep_alive_seconds) so it is always longer.
            idle_timeout=settings.alb_idle_timeout_seconds,
            access_logs={"bucket": access_logs.bucket.id, "prefix": access_logs.prefix, "enabled": True},
            enable_deletion_protection=deletion_protection,
            tags={"stack": pulumi.get_stack()},
            # ELB checks at creation that it may write to the bucket.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[access_logs.policy]),
        )
        self.target_group = target_group(f"{name}-tg", settings, vpc_id, child)
        forward: list[aws.lb.ListenerDefaultActionArgsDict] = [
            {"type": "forward", "target_group_arn": self.target_group.arn}
        ]
        redirect: list[aws.lb.ListenerDefaultActionArgsDict] = [
            {"type": "redirect", "redirect": {"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}}
        ]
        # Port 80 forwards, or with HTTPS on only redirects: switching HTTPS is an in-place change of this listener.
        self.http_listener = aws.lb.Listener(
            f"{name}-http",
            load_balancer_arn=self.alb.arn,
            port=80,
            protocol="HTTP",
            default_actions=forward if certificate_arn is None else redirect,
            opts=child,
        )
        self.https_listener = (
            None
            if certificate_arn is None
            else aws.lb.Listener(
                f"{name}-https",
                load_balancer_arn=self.alb.arn,
                port=443,
                protocol="HTTPS",
                ssl_policy=TLS_POLICY,
                certificate_arn=certificate_arn,
                default_actions=forward,
                opts=child,
            )
        )
        # The listener that forwards to the target group: ECS refuses a target group no listener uses.
        self.serving_listener = self.https_listener or self.http_listener
        self.register_outputs({"dns_name": self.alb.dns_name})
