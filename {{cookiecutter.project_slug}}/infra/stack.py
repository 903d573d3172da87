"""Wires the components together for one stack; the same code serves every option, chosen by Settings."""

from dataclasses import dataclass
from pathlib import Path

import pulumi

from infra.access_logs import AccessLogBucket
from infra.alarms import ServiceAlarms
from infra.autoscaling import ServiceAutoscaling
from infra.dashboard import ServiceDashboard
from infra.domain import DomainAlias, IssuedCertificate, hosted_zone_id
from infra.existing_vpc import existing_vpc
from infra.image import ContainerImage
from infra.load_balancer import LoadBalancer
from infra.network import Network, Placement, own_network
from infra.release import ReleaseTraffic
from infra.service import FargateService
from infra.validation import Settings, is_production, resource_base_name, stack_resource_name
from infra.waf import WebApplicationFirewall

# Relative to the project directory, where Pulumi runs the program: the image's inputs (and so its release tag) are
# the same in every checkout, a laptop's or CI's.
APP_DIR = Path("app")


@dataclass
class Stack:
    network: Network | None  # None in an existing VPC (vpc_id)
    placement: Placement
    image: ContainerImage
    load_balancer: LoadBalancer
    release: ReleaseTraffic | None
    alarms: ServiceAlarms
    service: FargateService
    autoscaling: ServiceAutoscaling | None
    waf: WebApplicationFirewall | None
    dashboard: ServiceDashboard
    url: pulumi.Output[str]


def build_stack(project: str, settings: Settings) -> Stack:
    """Every resource of the service, for `project` (the Pulumi project name) and its settings."""
    name = resource_base_name(project)
    # Names AWS holds once per account and region (dashboard, web ACL, X-Ray service, ECR prefix): one per stack.
    stack_name = stack_resource_name(project, pulumi.get_stack())
    network, endpoints = (None, None) if settings.existing_vpc else own_network(name, settings)
    placement = existing_vpc(settings) if network is None else network.placement
    image = ContainerImage(name, APP_DIR, settings.cpu_architecture)

    zone_id = hosted_zone_id(settings.zone_name) if settings.domain_name else None
    certificate_arn: pulumi.Input[str] | None = None
    if settings.enable_https:
        assert zone_id is not None  # validation: HTTPS needs a domain
        certificate_arn = settings.certificate_arn or IssuedCertificate(name, settings.domain_name, zone_id).arn

    deletion_protection = settings.alb_deletion_protection
    if deletion_protection is None:
        deletion_protection = is_production(pulumi.get_stack())
    load_balancer = LoadBalancer(
        name,
        settings,
        vpc_id=placement.vpc_id,
        subnet_ids=placement.alb_subnet_ids,
        security_group_tags=placement.security_group_tags,
        certificate_arn=certificate_arn,
        access_logs=AccessLogBucket(name, settings.aws_region, settings.access_log_retention_days),
        deletion_protection=deletion_protection,
    )
    release = None
    if settings.deployment_strategy != "rolling":
        release = ReleaseTraffic(
            name,
            settings,
            vpc_id=placement.vpc_id,
            listener=load_balancer.serving_listener,
            primary=load_balancer.target_group,
        )
    target_groups = [load_balancer.target_group] + ([release.alternate] if release else [])
    alarms = ServiceAlarms(name, settings, alb=load_balancer.alb, target_groups=target_groups)
    service = FargateService(
        name,
        settings,
        image_ref=image.ref,
        stack_name=stack_name,
        placement=placement,
        alb_security_group=load_balancer.security_group,
        target_group=load_balancer.target_group,
        listener=load_balancer.serving_listener,
        alarm_names=alarms.rollback_alarm_names,
        release=release,
        endpoints=endpoints,
    )
    autoscaling = None
    if settings.enable_autoscaling:
        autoscaling = ServiceAutoscaling(
            name,
            settings,
            cluster=service.cluster,
            service=service.service,
            alb=load_balancer.alb,
            target_groups=target_groups,
        )

    waf = None
    if settings.enable_waf:
        waf = WebApplicationFirewall(
            name,
            stack_name,
            alb=load_balancer.alb,
            rate_limit=settings.waf_rate_limit,
            rate_window_seconds=settings.waf_rate_window_seconds,
            count_mode=settings.waf_count_mode,
            allow_large_bodies=settings.waf_allow_large_bodies,
            log_retention_days=settings.log_retention_days,
        )

    dashboard = ServiceDashboard(
        name,
        stack_name,
        settings.aws_region,
        alb=load_balancer.alb,
        target_groups=target_groups,
        cluster=service.cluster,
        service=service.service,
        rollback_alarms=alarms.rollback_alarms,
        notify_alarms=alarms.notify_alarms,
        scaling_target=autoscaling.target if autoscaling else None,
        web_acl_metric_name=waf.metric_name if waf else None,
        traced_service=stack_name if settings.enable_tracing else None,
    )

    if zone_id is not None:
        DomainAlias(name, settings.domain_name, zone_id, load_balancer.alb)
        url = pulumi.Output.from_input(f"{'https' if settings.enable_https else 'http'}://{settings.domain_name}")
    else:
        url = pulumi.Output.concat("http://", load_balancer.alb.dns_name)
    return Stack(network, placement, image, load_balancer, release, alarms, service, autoscaling, waf, dashboard, url)
