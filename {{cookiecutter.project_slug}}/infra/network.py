"""The VPC: public subnets for the load balancer and, unless networking=public-subnets, private ones for the tasks
(leaving through NAT gateways, or with networking=private-endpoints not at all: see infra/endpoints.py)."""

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.endpoints import VpcEndpoints
from infra.flow_logs import VpcFlowLogs
from infra.validation import RoleGuardrails, Settings, fargate_runs_in

VPC_CIDR = ipaddress.ip_network("10.0.0.0/16")
# Sixteen /20 blocks (4,096 addresses each): public subnets take the first, private ones start at the ninth.
SUBNET_BLOCKS = list(VPC_CIDR.subnets(new_prefix=20))
FIRST_PRIVATE_BLOCK = 8


def choose_zones(
    region: str, names: list[str], zone_ids: list[str], count: int, offered: dict[str, list[str]] | None = None
) -> list[str]:
    """The first `count` zone names in name order, as the program always chose them, skipping zone IDs without Fargate
    and, with `offered` (endpoint service -> the zones it is offered in), zones where any of those services is not.

    Name order, not zone-ID order: a stack created before zone IDs were checked keeps its zones (a subnet's zone is
    replace-only, and a replacement with the same CIDR block fails). `names` and `zone_ids` come side by side from
    the lookup; they are paired here, not trusted to arrive in any order.
    """
    offered = offered or {}
    usable = [
        name
        for name, zone_id in sorted(zip(names, zone_ids, strict=True))
        if fargate_runs_in(region, zone_id) and all(name in zones for zones in offered.values())
    ]
    if len(usable) < count:
        found = f"{len(usable)} available zone{'' if len(usable) == 1 else 's'}"
        endpoints = f" with the endpoints {', '.join(sorted(offered))}" if offered else ""
        raise pulumi.RunError(
            f"az_count={count} but Fargate runs{endpoints} in {found} of {region} here "
            f"({', '.join(usable) or 'none'}): lower az_count or choose another region"
        )
    return usable[:count]


def fargate_zones(region: str, count: int, endpoint_services: tuple[str, ...] = ()) -> list[str]:
    """Zone names for the stack: local and Wavelength zones (opt-in) are left out, and so are the zones whose ID AWS
    documents as without Fargate (IDs, since names map to different physical zones in each account) and the zones
    where one of `endpoint_services` (networking=private-endpoints) is not offered: an interface endpoint cannot
    have a subnet there."""
    zones = aws.get_availability_zones(
        state="available", filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}]
    )
    offered = {
        service: list(
            aws.ec2.get_vpc_endpoint_service(service_name=f"com.amazonaws.{region}.{service}").availability_zones
        )
        for service in endpoint_services
    }
    return choose_zones(region, list(zones.names), list(zones.zone_ids), count, offered)


@dataclass(frozen=True)
class Placement:
    """Where the stack's ALB and tasks go: the VPC, its CIDR blocks, the ALB's and the tasks' subnets, whether tasks
    get public IPs, and the tags that declare to the policy pack whose VPC it is (infra/existing_vpc.py for a VPC
    the stack does not create)."""

    vpc_id: pulumi.Input[str]
    cidr_blocks: list[str]
    alb_subnet_ids: list[pulumi.Input[str]]
    task_subnet_ids: list[pulumi.Input[str]]
    assign_public_ip: bool
    security_group_tags: dict[str, str] | None = None
    # DNS servers outside the VPC's CIDR blocks that the VPC's DHCP options hand the tasks (an existing VPC's
    # Active Directory or Route 53 Resolver endpoints); none with AmazonProvidedDNS.
    dns_servers: tuple[str, ...] = ()


@dataclass(frozen=True)
class FlowLogSettings:
    region: str
    retention_days: int
    role_guardrails: RoleGuardrails


class Network(pulumi.ComponentResource):
    """A VPC over `zones` (Availability Zone names), with NAT gateways per `networking` mode and its flow logs."""

    def __init__(
        self,
        name: str,
        zones: list[str],
        networking: str,
        *,
        flow_logs: FlowLogSettings | None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("fargate:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=str(VPC_CIDR),
            enable_dns_hostnames=True,
            enable_dns_support=True,
            # "off" declares the exception to Security Hub EC2.6 that the policy pack accepts.
            tags={"Name": f"{name}-vpc", "flow-logs": "on" if flow_logs else "off"},
            opts=child,
        )
        # Security Hub EC2.2: the default group allows nothing. AWS creates it with allow-all egress and ingress from
        # itself; adopted with empty rule lists, the provider removes both, and any rule added later on the next up.
        # Nothing here uses the group (every task, ALB and endpoint has its own). Only for a VPC this stack creates:
        # in a VPC it merely uses, the default group is the VPC owner's to manage.
        self.default_security_group = aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=self.vpc.id,
            ingress=[],
            egress=[],
            tags={"Name": f"{name}-default-closed"},
            opts=child,
        )
        self.flow_logs = (
            None
            if flow_logs is None
            else VpcFlowLogs(
                name,
                vpc_id=self.vpc.id,
                region=flow_logs.region,
                retention_days=flow_logs.retention_days,
                role_guardrails=flow_logs.role_guardrails,
                opts=child,
            )
        )
        gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=self.vpc.id, opts=child)
        public_routes = aws.ec2.RouteTable(
            f"{name}-public",
            vpc_id=self.vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": gateway.id}],
            opts=child,
        )
        self.public_subnets: list[aws.ec2.Subnet] = []
        self.private_subnets: list[aws.ec2.Subnet] = []
        self.nat_gateways: list[aws.ec2.NatGateway] = []
        self.private_route_tables: list[aws.ec2.RouteTable] = []
        for index, zone in enumerate(zones):
            subnet = aws.ec2.Subnet(
                f"{name}-public-{index}",
                vpc_id=self.vpc.id,
                cidr_block=str(SUBNET_BLOCKS[index]),
                availability_zone=zone,
                # Tasks in public-subnets mode get their public IP from the service, not from the subnet.
                map_public_ip_on_launch=False,
                tags={"Name": f"{name}-public-{zone}", "tier": "public"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{index}", subnet_id=subnet.id, route_table_id=public_routes.id, opts=child
            )
            self.public_subnets.append(subnet)

        if networking == "public-subnets":
            self.task_subnets = self.public_subnets
        else:
            # private-endpoints has no NAT gateway: its private subnets have no route out of the VPC at all.
            nat_count = {"private-nat-per-az": len(zones), "private-single-nat": 1}.get(networking, 0)
            for index in range(nat_count):
                address = aws.ec2.Eip(f"{name}-nat-{index}", domain="vpc", opts=child)
                self.nat_gateways.append(
                    aws.ec2.NatGateway(
                        f"{name}-nat-{index}",
                        allocation_id=address.id,
                        subnet_id=self.public_subnets[index].id,
                        tags={"Name": f"{name}-nat-{zones[index]}"},
                        opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway]),
                    )
                )
            for index, zone in enumerate(zones):
                subnet = aws.ec2.Subnet(
                    f"{name}-private-{index}",
                    vpc_id=self.vpc.id,
                    cidr_block=str(SUBNET_BLOCKS[FIRST_PRIVATE_BLOCK + index]),
                    availability_zone=zone,
                    tags={"Name": f"{name}-private-{zone}", "tier": "private"},
                    opts=child,
                )
                # Each zone leaves through its own NAT gateway when it has one, so a zone outage stays contained.
                egress: list[aws.ec2.RouteTableRouteArgsDict] = []
                if nat_count:
                    egress = [{"cidr_block": "0.0.0.0/0", "nat_gateway_id": self.nat_gateways[index % nat_count].id}]
                routes = aws.ec2.RouteTable(f"{name}-private-{index}", vpc_id=self.vpc.id, routes=egress, opts=child)
                self.private_route_tables.append(routes)
                aws.ec2.RouteTableAssociation(
                    f"{name}-private-{index}", subnet_id=subnet.id, route_table_id=routes.id, opts=child
                )
                self.private_subnets.append(subnet)
            self.task_subnets = self.private_subnets

        self.assign_public_ip = networking == "public-subnets"
        self.placement = Placement(
            vpc_id=self.vpc.id,
            cidr_blocks=[str(VPC_CIDR)],
            alb_subnet_ids=[subnet.id for subnet in self.public_subnets],
            task_subnet_ids=[subnet.id for subnet in self.task_subnets],
            assign_public_ip=self.assign_public_ip,
        )
        self.register_outputs({"vpc_id": self.vpc.id})


def own_network(name: str, settings: Settings) -> tuple[Network, VpcEndpoints | None]:
    """The stack's own VPC (no vpc_id), with its flow logs and, with networking=private-endpoints, its endpoints."""
    flow_logs = None
    if settings.enable_flow_logs:
        flow_logs = FlowLogSettings(settings.aws_region, settings.log_retention_days, settings.role_guardrails)
    endpoint_services = settings.interface_endpoints if settings.networking == "private-endpoints" else ()
    zones = fargate_zones(settings.aws_region, settings.az_count, endpoint_services)
    network = Network(name, zones, settings.networking, flow_logs=flow_logs)
    if settings.networking != "private-endpoints":
        return network, None
    endpoints = VpcEndpoints(
        name,
        region=settings.aws_region,
        vpc_id=network.vpc.id,
        subnet_ids=[subnet.id for subnet in network.private_subnets],
        route_table_ids=[table.id for table in network.private_route_tables],
        services=settings.interface_endpoints,
    )
    return network, endpoints
