"""With vpc_id: the existing VPC the stack deploys into, looked up and checked before anything is created.

The stack creates nothing in the VPC's network (no subnets, routes, gateways, endpoints or flow logs: those are the
VPC owner's); it places the ALB in `public_subnet_ids` and the tasks in `private_subnet_ids`. Every mistake that would
otherwise fail halfway through `pulumi up`, or leave a service that never gets healthy, stops the program here with
one line naming the setting, the ID and what is wrong.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.network import Placement
from infra.validation import Settings, fargate_runs_in

ANYWHERE = "0.0.0.0/0"
# What the lookups below call, on every preview and up with vpc_id (the deploy and preview roles need them).
AWS_ACTIONS = [
    "ec2:DescribeVpcs",
    "ec2:DescribeVpcAttribute",
    "ec2:DescribeSubnets",
    "ec2:DescribeRouteTables",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribePrefixLists",
    "ec2:DescribeVpnGateways",
    "ec2:DescribeDhcpOptions",
]
# Where a task subnet's default route may lead for the tasks to reach ECR, CloudWatch Logs and S3: a NAT gateway or
# instance, a Transit Gateway, Cloud WAN, a network interface (a firewall or proxy appliance), a Gateway Load Balancer
# or Network Firewall endpoint, or a virtual private gateway (egress through the owner's network).
EGRESS_TARGETS = (
    "nat_gateway_id",
    "transit_gateway_id",
    "core_network_arn",
    "network_interface_id",
    "instance_id",
    "vpc_endpoint_id",
)
# How the provider's singular data sources say that nothing, or more than one thing, matched (terraform-provider-aws
# tfresource.SingularDataSourceFindError: "no matching EC2 VPC Endpoint found", "multiple EC2 VPC Endpoints matched").
NOT_FOUND, SEVERAL = "no matching", "multiple"


class SeveralEndpoints(Exception):
    """More than one endpoint matched (several S3 gateway endpoints): the lookup cannot tell which serves a table."""


@dataclass(frozen=True)
class Routes:
    """A route table: its ID, whether it is the VPC's main table, and the target of its IPv4 default route."""

    id: str
    main: bool
    default_target: str  # "igw-...", "nat-...", "tgw-..." ...; "" without a 0.0.0.0/0 route

    def describe(self) -> str:
        return f"{self.id}{', the main route table' if self.main else ''}"


@dataclass(frozen=True)
class FoundSubnet:
    id: str
    vpc_id: str
    zone: str
    zone_id: str
    # None: no route table of the VPC is visible to this account. A VPC shared through AWS RAM shows a participant
    # its subnets but not the owner's route tables (AWS "Share your VPC": route tables stay the owner's), so the
    # route checks are skipped for it with a warning: its routing is the VPC owner's.
    routes: Routes | None


def default_target(route: aws.ec2.outputs.GetRouteTableRouteResult) -> str:
    """The target of an IPv4 default route: the gateway's, NAT gateway's, Transit Gateway's ... ID."""
    for field in ("gateway_id", *EGRESS_TARGETS, "vpc_peering_connection_id"):
        if target := getattr(route, field, ""):
            return str(target)
    return ""


def route_tables(vpc_id: str, subnet_ids: Sequence[str]) -> dict[str, Routes | None]:
    """Each subnet's route table: its own (an explicit association), else the VPC's main route table (AWS: a subnet
    without an explicit association is implicitly associated with the main route table)."""
    if not subnet_ids:
        return {}
    explicit = aws.ec2.get_route_tables(
        vpc_id=vpc_id, filters=[{"name": "association.subnet-id", "values": list(subnet_ids)}]
    ).ids
    main = aws.ec2.get_route_tables(vpc_id=vpc_id, filters=[{"name": "association.main", "values": ["true"]}]).ids
    tables: dict[str, Routes] = {}
    for table_id in sorted({*explicit, *main}):
        table = aws.ec2.get_route_table(route_table_id=table_id)
        defaults = [default_target(route) for route in table.routes if route.cidr_block == ANYWHERE]
        routes = Routes(table_id, table_id in main, defaults[0] if defaults else "")
        for association in table.associations:
            if association.subnet_id:
                tables[association.subnet_id] = routes
        if routes.main:
            tables[""] = routes
    # No explicit table and no main table in sight (a RAM-shared VPC's participant sees neither): None, not a crash.
    return {subnet_id: tables.get(subnet_id, tables.get("")) for subnet_id in subnet_ids}


def routing_unseen(field: str, subnet: FoundSubnet) -> bool:
    """Whether this subnet's route table is invisible to the account; if so, say so (the route checks are skipped)."""
    if subnet.routes is not None:
        return False
    pulumi.log.warn(
        f"{field}: {subnet.id}'s route table is not visible to this account (a VPC shared through AWS RAM: the "
        "routing is the VPC owner's), so its routes were not checked"
    )
    return True


def endpoint(vpc_id: str, service: str, kind: str) -> aws.ec2.GetVpcEndpointResult | None:
    """The VPC's available endpoint of this type for `service`, or None; SeveralEndpoints when more than one."""
    try:
        return aws.ec2.get_vpc_endpoint(vpc_id=vpc_id, service_name=service, vpc_endpoint_type=kind, state="available")
    except Exception as error:  # only the data source's "nothing" and "several" are answers; anything else goes up
        if NOT_FOUND in str(error):
            return None
        if SEVERAL in str(error):
            raise SeveralEndpoints(service) from None
        raise


def attached_vpn_gateway(vpc_id: str) -> str:
    """The virtual private gateway attached to the VPC, or "". Routes it propagates (VPN, Direct Connect) are not in
    the route-table lookup: terraform-provider-aws's aws_route_table data source skips propagated routes."""
    try:
        return aws.ec2.get_vpn_gateway(attached_vpc_id=vpc_id, state="available").id
    except Exception as error:  # "no matching" is the answer "none"; anything else goes up
        if NOT_FOUND in str(error):
            return ""
        raise


def missing_endpoints(settings: Settings, routes: Routes) -> list[str]:
    """What a subnet without a route out lacks of the endpoints tasks need instead (networking=private-endpoints's
    list): interface endpoints with private DNS, and the S3 gateway endpoint on the subnet's route table. Several
    endpoints for one service cannot be told apart by the lookup: they count as there (a task that then cannot pull
    its image fails the rollout, which the circuit breaker rolls back)."""
    prefix = f"com.amazonaws.{settings.aws_region}."
    missing = []
    for service, kind in [*((service, "Interface") for service in settings.interface_endpoints), ("s3", "Gateway")]:
        try:
            found = endpoint(settings.vpc_id, prefix + service, kind)
        except SeveralEndpoints:
            continue
        if kind == "Interface" and (found is None or not found.private_dns_enabled):
            missing.append(f"{service} (interface, private DNS)")
        if kind == "Gateway" and (found is None or routes.id not in found.route_table_ids):
            missing.append(f"s3 (gateway, on {routes.id})")
    # The tracing collector's image comes through the stack's ECR pull through cache (infra/tracing.py): ECR fetches
    # it from ECR Public itself, and the tasks pull it over the same ecr and s3 endpoints as the app's image.
    return missing


def subnet_problems(settings: Settings, public: list[FoundSubnet], private: list[FoundSubnet]) -> list[str]:
    """Every reason these subnets cannot carry the ALB (public) and the tasks (private)."""
    problems = [
        f"{field}: {subnet.id} is in {subnet.vpc_id}, not in vpc_id={settings.vpc_id}"
        for field, subnets in (("public_subnet_ids", public), ("private_subnet_ids", private))
        for subnet in subnets
        if subnet.vpc_id != settings.vpc_id
    ]
    # The rest is judged on the VPC's own subnets (another VPC's route tables were not looked up).
    public = [subnet for subnet in public if subnet.vpc_id == settings.vpc_id]
    private = [subnet for subnet in private if subnet.vpc_id == settings.vpc_id]
    alb_zones: dict[str, str] = {}
    for subnet in public:
        if subnet.zone in alb_zones:
            problems.append(
                f"public_subnet_ids: {alb_zones[subnet.zone]} and {subnet.id} are both in {subnet.zone}: "
                "an ALB takes one subnet per Availability Zone"
            )
        alb_zones.setdefault(subnet.zone, subnet.id)
        if routing_unseen("public_subnet_ids", subnet):
            continue
        assert subnet.routes is not None
        # An internet gateway, or a firewall endpoint in front of one (AWS Network Firewall's distributed model).
        if not subnet.routes.default_target.startswith(("igw-", "vpce-")):
            target = subnet.routes.default_target or "nowhere"
            problems.append(
                f"public_subnet_ids: {subnet.id} routes 0.0.0.0/0 to {target} ({subnet.routes.describe()}), not to "
                "an internet gateway: an internet-facing ALB there cannot be reached"
            )
    if public and len(alb_zones) < 2:
        problems.append(
            f"public_subnet_ids: {', '.join(s.id for s in public)} cover {len(alb_zones)} Availability Zone: an ALB "
            "needs subnets in at least two"
        )
    task_zones = sorted({subnet.zone for subnet in private})
    if private and len(task_zones) < settings.az_count:
        problems.append(
            f"private_subnet_ids: {', '.join(s.id for s in private)} cover {len(task_zones)} Availability Zone"
            f"{'' if len(task_zones) == 1 else 's'} ({', '.join(task_zones)}), fewer than az_count={settings.az_count}"
            " the tasks spread over: add subnets in other zones or lower az_count"
        )
    for subnet in private:
        problems += private_subnet_problems(settings, subnet, alb_zones)
    return problems


def private_subnet_problems(settings: Settings, subnet: FoundSubnet, alb_zones: dict[str, str]) -> list[str]:
    problems = []
    where = f"private_subnet_ids: {subnet.id}"
    if not fargate_runs_in(settings.aws_region, subnet.zone_id):
        problems.append(f"{where} is in {subnet.zone} ({subnet.zone_id}), a zone without Fargate: use another zone")
    if alb_zones and subnet.zone not in alb_zones:
        problems.append(
            f"{where} is in {subnet.zone}, where the ALB has no subnet: an ALB sends nothing to targets in a zone it "
            "is not enabled in; add a public subnet in that zone"
        )
    if routing_unseen("private_subnet_ids", subnet):
        return problems
    assert subnet.routes is not None
    target = subnet.routes.default_target
    if target.startswith("igw-"):
        problems.append(
            f"{where} routes 0.0.0.0/0 to the internet gateway {target} ({subnet.routes.describe()}): tasks get no "
            "public IP, so they cannot leave through it; give the tasks subnets that leave through NAT or "
            "Transit Gateway"
        )
    elif no_way_out := way_out_problem(settings, subnet.routes, where):
        if settings.existing_vpc_egress == "vpc-owner":
            # Central endpoints in a hub VPC (Transit Gateway and private hosted zones) or a shared VPC owner's
            # endpoints are invisible to these lookups: the stack's owner vouches for them.
            pulumi.log.warn(f"{no_way_out} (existing_vpc_egress=vpc-owner: trusted to the VPC owner's egress)")
        else:
            problems.append(no_way_out)
    return problems


def way_out_problem(settings: Settings, routes: Routes, where: str) -> str:
    """Why tasks in a subnet on these routes cannot reach ECR, Logs and S3 (its default route is not an internet
    gateway's), or "" when they can or when the lookups cannot tell (a warning says so)."""
    target = routes.default_target
    if not target and (vgw := attached_vpn_gateway(settings.vpc_id)):
        pulumi.log.warn(
            f"{where}: {routes.describe()} has no static 0.0.0.0/0 route, but the VPC has the virtual private gateway "
            f"{vgw}: a default route it propagates (VPN, Direct Connect) is not visible to the lookup, so the tasks' "
            "way out was not checked"
        )
        return ""
    if target and not target.startswith("pcx-"):
        return ""
    if not (missing := missing_endpoints(settings, routes)):
        return ""
    if target:
        return (
            f"{where} routes 0.0.0.0/0 to the peering connection {target} ({routes.describe()}): a VPC peering "
            "connection does not carry traffic out of the VPC (no edge-to-edge routing through the peer's NAT or "
            f"gateways), and the VPC lacks the endpoints the tasks would need instead: {', '.join(missing)}"
        )
    return (
        f"{where} has no route out ({routes.describe()} has no 0.0.0.0/0 to a NAT gateway, Transit Gateway or "
        f"network interface) and the VPC lacks the endpoints the tasks would need instead: {', '.join(missing)}"
    )


def find_subnets(settings: Settings, ids: Sequence[str]) -> tuple[list[FoundSubnet], list[str]]:
    """The subnets that exist, with their zones and route tables; and the IDs that do not."""
    known = set(aws.ec2.get_subnets(filters=[{"name": "subnet-id", "values": list(ids)}]).ids)
    details = {subnet_id: aws.ec2.get_subnet(id=subnet_id) for subnet_id in ids if subnet_id in known}
    tables = route_tables(settings.vpc_id, [subnet_id for subnet_id in ids if subnet_id in known])
    found = [
        FoundSubnet(subnet_id, detail.vpc_id, detail.availability_zone, detail.availability_zone_id, tables[subnet_id])
        for subnet_id, detail in details.items()
    ]
    return found, [subnet_id for subnet_id in ids if subnet_id not in known]


def existing_vpc(settings: Settings) -> Placement:
    """The existing VPC's placement for the stack, or a RunError listing every problem found."""
    region = settings.aws_region
    if not aws.ec2.get_vpcs(filters=[{"name": "vpc-id", "values": [settings.vpc_id]}]).ids:
        raise pulumi.RunError(f"vpc_id={settings.vpc_id} does not exist in {region} (or this account cannot see it)")
    vpc = aws.ec2.get_vpc(id=settings.vpc_id)
    found, missing = find_subnets(settings, [*settings.public_subnet_ids, *settings.private_subnet_ids])
    public = [subnet for subnet in found if subnet.id in settings.public_subnet_ids]
    private = [subnet for subnet in found if subnet.id in settings.private_subnet_ids]
    problems = [
        f"{'public' if subnet_id in settings.public_subnet_ids else 'private'}_subnet_ids: {subnet_id} does not exist "
        f"in {region}"
        for subnet_id in missing
    ]
    problems += subnet_problems(settings, public, private)
    if problems:
        lines = "\n".join(f"  {problem}" for problem in problems)
        raise pulumi.RunError(f"the existing VPC cannot take this stack (nothing was created):\n{lines}")
    # The primary CIDR block and every associated secondary one: DNS goes to the resolver at the primary's base + 2,
    # but tasks may sit in a subnet of a secondary block.
    secondary = [
        block.cidr_block
        for block in vpc.cidr_block_associations
        if block.state == "associated" and block.cidr_block != vpc.cidr_block
    ]
    # Custom DNS servers in the VPC's DHCP options (a landing zone's AD or Route 53 Resolver endpoints, often in a hub
    # VPC): the tasks' security group must let DNS out to them. AmazonProvidedDNS is the VPC resolver, which security
    # groups never filter (EC2 User Guide).
    servers = aws.ec2.get_vpc_dhcp_options(dhcp_options_id=vpc.dhcp_options_id).domain_name_servers
    return Placement(
        vpc_id=settings.vpc_id,
        dns_servers=tuple(server for server in servers if server != "AmazonProvidedDNS"),
        cidr_blocks=[vpc.cidr_block, *secondary],
        alb_subnet_ids=list(settings.public_subnet_ids),
        task_subnet_ids=list(settings.private_subnet_ids),
        assign_public_ip=False,
        security_group_tags={"flow-logs": "vpc-owner"},
    )
