"""A monthly cost estimate for the stack's settings (stdlib only: the generation hook renders it into the README).

Prices are us-east-1 list prices as of PRICES_AS_OF; other regions differ by a few percent. Not included: data
transfer, data processed by NAT gateways or VPC endpoints (per GB, shown under the table), CloudWatch (logs, VPC flow
logs, alarms), ECR storage, Route53 and the ALB's LCUs above one, the second set of tasks that runs during a release
(minutes per release, longer with blue/green bakes), and AWS WAF's per-request charge and its logs (priced by traffic,
shown in the WAF line's text).
"""

import dataclasses
import math
from dataclasses import dataclass

from infra.timing import (
    TYPICAL_CHECK_MINUTES,
    TYPICAL_CREATE_MINUTES,
    TYPICAL_DESTROY_MINUTES,
    typical_acceptance_minutes,
)
from infra.validation import Settings, fewest_replicas, memory_with_collector

PRICES_AS_OF = "2026-11"
HOURS_PER_MONTH = 730
FARGATE_PER_VCPU_HOUR = {"X86_64": 0.04048, "ARM64": 0.03238}
FARGATE_PER_GB_HOUR = {"X86_64": 0.004445, "ARM64": 0.00356}
# Fargate Spot's price moves with supply and demand (AWS: up to 70 % off; observed 50-70 % in 2026): assume the low end.
FARGATE_SPOT_DISCOUNT_ASSUMED = 0.50
ALB_PER_HOUR = 0.0225
ALB_PER_LCU_HOUR = 0.008
ALB_LCUS_ASSUMED = 1
NAT_GATEWAY_PER_HOUR = 0.045
NAT_GATEWAY_PER_GB = 0.045
PUBLIC_IPV4_PER_HOUR = 0.005
# AWS PrivateLink: each interface endpoint is billed per hour in each zone it is in, and per GB it processes (the
# first PB a month); S3 gateway endpoints cost nothing.
INTERFACE_ENDPOINT_PER_ZONE_HOUR = 0.01
INTERFACE_ENDPOINT_PER_GB = 0.01
# AWS WAF (the same in every region): per web ACL and per rule or managed rule group a month, per million requests.
WAF_WEB_ACL_PER_MONTH = 5.0
WAF_RULE_PER_MONTH = 1.0
WAF_PER_MILLION_REQUESTS = 0.60
WAF_RULES = 4  # three AWS managed rule groups and the per-IP rate rule (infra/waf.py)
# AWS X-Ray (us-east-1): per trace recorded, and per trace retrieved or scanned (console, queries), above a free tier
# of 100,000 recorded and 1,000,000 retrieved or scanned a month. A trace is one request the app sampled.
XRAY_PER_MILLION_RECORDED = 5.00
XRAY_PER_MILLION_RETRIEVED = 0.50
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600


@dataclass(frozen=True)
class CostLine:
    item: str
    monthly_usd: float


def monthly_cost(settings: Settings) -> list[CostLine]:
    """The stack's fixed monthly costs, line by line, at `settings.replicas` tasks."""
    arch = settings.cpu_architecture
    per_task_hour = (
        settings.cpu / 1024 * FARGATE_PER_VCPU_HOUR[arch] + settings.memory / 1024 * FARGATE_PER_GB_HOUR[arch]
    )
    nats = {"private-nat-per-az": settings.az_count, "private-single-nat": 1}.get(settings.networking, 0)
    # One public IPv4 address per ALB zone, per NAT gateway, and per task when tasks get public IPs.
    public_ips = settings.az_count + nats + (settings.replicas if settings.networking == "public-subnets" else 0)
    if settings.existing_vpc:
        # The VPC's NAT gateways, endpoints and their traffic are its owner's bill; the ALB has a subnet per zone.
        nats, public_ips = 0, len(settings.public_subnet_ids)
    lines = [
        CostLine(
            f"Fargate {arch}: {settings.replicas} x ({settings.cpu / 1024:g} vCPU, {settings.memory / 1024:g} GB)",
            settings.replicas * per_task_hour * HOURS_PER_MONTH,
        ),
        CostLine(
            f"Application Load Balancer (with {ALB_LCUS_ASSUMED} LCU)",
            (ALB_PER_HOUR + ALB_LCUS_ASSUMED * ALB_PER_LCU_HOUR) * HOURS_PER_MONTH,
        ),
        CostLine(f"NAT gateways: {nats}", nats * NAT_GATEWAY_PER_HOUR * HOURS_PER_MONTH),
        CostLine(f"Public IPv4 addresses: {public_ips}", public_ips * PUBLIC_IPV4_PER_HOUR * HOURS_PER_MONTH),
    ]
    spot_tasks = spot_task_count(settings)
    if spot_tasks:
        lines.append(
            CostLine(
                f"Fargate Spot: {spot_tasks} of {settings.replicas} tasks ({settings.fargate_spot_percent} % above "
                f"an on-demand base of {settings.fargate_on_demand_base}), assumed "
                f"{FARGATE_SPOT_DISCOUNT_ASSUMED:.0%} off",
                -spot_tasks * per_task_hour * FARGATE_SPOT_DISCOUNT_ASSUMED * HOURS_PER_MONTH,
            )
        )
    if settings.networking == "private-endpoints" and not settings.existing_vpc:
        endpoints = len(settings.interface_endpoints)
        lines.append(
            CostLine(
                f"VPC interface endpoints: {endpoints} ({', '.join(settings.interface_endpoints)}) "
                f"x {settings.az_count} zones; S3 gateway endpoint free",
                endpoints * settings.az_count * INTERFACE_ENDPOINT_PER_ZONE_HOUR * HOURS_PER_MONTH,
            )
        )
    if settings.deployment_strategy != "rolling":
        # ELB bills the load balancer (hours and LCUs), not its target groups or listener rules.
        lines.append(CostLine(f"Second target group and rules for {settings.deployment_strategy} releases", 0.0))
    if settings.enable_waf:
        lines.append(
            CostLine(
                f"AWS WAF: web ACL and {WAF_RULES} rules (plus ${WAF_PER_MILLION_REQUESTS:.2f} per million requests)",
                WAF_WEB_ACL_PER_MONTH + WAF_RULES * WAF_RULE_PER_MONTH,
            )
        )
    if settings.enable_tracing:
        lines.append(CostLine(xray_line(settings.tracing_sample_percent), 0.0))
    return lines


def xray_line(sample_percent: float) -> str:
    """X-Ray's charge scales with traffic: priced per request per second, at the sampled share."""
    traces = SECONDS_PER_MONTH * sample_percent / 100  # a month of one request per second, sampled
    return (
        f"AWS X-Ray: {sample_percent:g} % of requests traced, ${XRAY_PER_MILLION_RECORDED:.2f} per million traces "
        f"recorded (${traces * XRAY_PER_MILLION_RECORDED / 1e6:.2f} a month per request/s of traffic) and "
        f"${XRAY_PER_MILLION_RETRIEVED:.2f} per million retrieved or scanned, above a free 100,000 and 1,000,000 a "
        "month; the collector runs inside the tasks"
    )


def spot_task_count(settings: Settings) -> int:
    """Tasks on Fargate Spot at `replicas`: the share of those above the on-demand base, rounded down (ECS splits
    them by weight, so the estimate never counts a saving it might not get)."""
    above_base = max(settings.replicas - settings.fargate_on_demand_base, 0)
    return above_base * settings.fargate_spot_percent // 100


def total(settings: Settings) -> float:
    return sum(line.monthly_usd for line in monthly_cost(settings))


def what_changes_it(settings: Settings) -> list[tuple[str, float]]:
    """How the monthly total moves with one change each, computed with the same prices."""
    base = total(settings)
    # In an existing VPC the network is its owner's: neither networking nor az_count change this stack's bill.
    network = (
        {}
        if settings.existing_vpc
        else {
            "networking=private-nat-per-az": dataclasses.replace(settings, networking="private-nat-per-az"),
            "networking=private-single-nat": dataclasses.replace(settings, networking="private-single-nat"),
            "networking=public-subnets": dataclasses.replace(settings, networking="public-subnets"),
            "networking=private-endpoints": dataclasses.replace(settings, networking="private-endpoints"),
            "az_count=3": dataclasses.replace(settings, az_count=3),
        }
    )
    changes = {
        "one more replica": dataclasses.replace(settings, replicas=settings.replicas + 1),
        "cpu_architecture=ARM64": dataclasses.replace(settings, cpu_architecture="ARM64"),
        "cpu_architecture=X86_64": dataclasses.replace(settings, cpu_architecture="X86_64"),
        **network,
        "enable_waf=true": dataclasses.replace(settings, enable_waf=True),
        "enable_waf=false": dataclasses.replace(settings, enable_waf=False, waf_count_mode=False),
        "fargate_spot_percent=100": dataclasses.replace(settings, fargate_spot_percent=100),
        # Tracing itself costs per request (its line above); the tasks may need more memory for the collector.
        "enable_tracing=true": dataclasses.replace(
            settings, enable_tracing=True, memory=memory_with_collector(settings.cpu, settings.memory)
        ),
    }
    return [(change, total(changed) - base) for change, changed in changes.items() if total(changed) != base]


def per_gb(settings: Settings) -> str:
    """What the traffic leaving the tasks costs on top, per GB, for the networking mode."""
    if settings.existing_vpc:
        return (
            "Not included: the existing VPC's NAT gateways, Transit Gateway attachments or endpoints, and the traffic "
            "through them, billed to the VPC's owner."
        )
    if settings.networking == "private-endpoints":
        return (
            f"Plus ${INTERFACE_ENDPOINT_PER_GB} per GB through the interface endpoints (image pulls from ECR's API, "
            "logs, secrets; image layers come through the free S3 gateway endpoint); there is no internet egress."
        )
    if settings.networking == "public-subnets":
        return "Plus data transfer out to the internet per GB; no NAT processing charge."
    return f"Plus ${NAT_GATEWAY_PER_GB} per GB processed by the NAT gateways (image pulls, logs, every outbound call)."


def markdown(settings: Settings) -> str:
    """The estimate as the README shows it."""
    rows = [f"| {line.item} | ${line.monthly_usd:,.2f} |" for line in monthly_cost(settings)]
    deltas = [
        f"| {change} | {'+' if delta > 0 else '-'}${abs(delta):,.2f} |" for change, delta in what_changes_it(settings)
    ]
    return "\n".join(
        [
            f"Estimated fixed cost per month at {settings.replicas} replicas "
            f"(us-east-1 list prices of {PRICES_AS_OF}):",
            "",
            "| item | per month |",
            "|---|---|",
            *rows,
            f"| **total** | **${total(settings):,.2f}** |",
            "",
            per_gb(settings),
            "",
            "| change | per month |",
            "|---|---|",
            *deltas,
        ]
    )


def run_cost(settings: Settings, hours: float) -> tuple[float, float]:
    """The stack's monthly fixed cost, and what `hours` of it cost (a throwaway acceptance run, say).

    Per started hour: the ALB, NAT gateways and interface endpoints bill a partial hour as a full one (their pricing
    pages), and they are most of a small stack's fixed cost; Fargate's per-second billing is priced the same way, so
    the figure is an upper bound.
    """
    monthly = total(settings)
    return monthly, monthly * math.ceil(hours) / HOURS_PER_MONTH


def acceptance_markdown(settings: Settings) -> str:
    """What a typical `make acceptance` run of this stack costs: its copy runs the fewest replicas the rules allow."""
    copy = dataclasses.replace(settings, replicas=fewest_replicas(settings))
    minutes = typical_acceptance_minutes(copy)
    release = minutes - TYPICAL_CREATE_MINUTES - TYPICAL_CHECK_MINUTES - TYPICAL_DESTROY_MINUTES
    monthly, run = run_cost(copy, minutes / 60)
    return (
        f"A typical run takes about {minutes} min (creating the copy about {TYPICAL_CREATE_MINUTES}, the checks "
        f"{TYPICAL_CHECK_MINUTES}, the release {release}, "
        f"destroying it {TYPICAL_DESTROY_MINUTES}: estimates) and costs about **${run:.2f}** at the estimate's prices "
        f"(the copy's {copy.replicas} replicas: ${monthly:,.2f} a month, for each started hour: the load balancer, "
        "NAT gateways and endpoints bill a partial hour as a full one), plus the few requests it sends."
    )
