"""Existing VPCs for the mocks to answer lookups about, as a central team's landing zone looks (vpc_id mode).

The landing-zone VPC in us-east-1 has a primary and a secondary CIDR block, public subnets routed to an internet
gateway (one of them only through the main route table, as AWS associates a subnet without a table of its own),
private subnets leaving through a NAT gateway or a Transit Gateway, isolated subnets (one on the S3 gateway endpoint's
route table, one on no endpoint), a private subnet left on the main table (so routed to the internet gateway), the
interface endpoints for ECR and CloudWatch Logs (and one for SSM without private DNS). A second VPC and a us-west-1
VPC with a subnet in the zone without Fargate (usw1-az2) give the other refusals something to find. The IDs are
EC2-shaped (17 hex digits); each test of a refusal names the subnets that hit it.
"""

from dataclasses import dataclass, field
from typing import Any

VPC = "vpc-0c0ffee0000000001"
OTHER_VPC = "vpc-0c0ffee0000000002"
WEST_VPC = "vpc-0c0ffee0000000003"
# Shared with this account through AWS RAM by the network account: its subnets are visible, its route tables are not.
SHARED_VPC = "vpc-0c0ffee0000000004"
VPC_CIDRS = {
    VPC: ("10.20.0.0/16", "100.64.0.0/18"),
    OTHER_VPC: ("172.16.0.0/16",),
    WEST_VPC: ("10.30.0.0/16",),
    SHARED_VPC: ("10.40.0.0/16",),
}
NETWORK_ACCOUNT = "210987654321"  # the shared VPC's owner
OWNERS = {SHARED_VPC: NETWORK_ACCOUNT}
# The VPCs' DHCP options: AmazonProvidedDNS, except the shared VPC's, which names the landing zone's DNS servers
# (Route 53 Resolver inbound endpoints or Active Directory in the hub).
HUB_DNS_SERVERS = ("10.0.0.10", "10.0.1.10")
DNS_SERVERS = {SHARED_VPC: HUB_DNS_SERVERS}

PUBLIC_A = "subnet-0c0ffee00000000a1"  # us-east-1a, its own table: 0.0.0.0/0 -> internet gateway
PUBLIC_B = "subnet-0c0ffee00000000b1"  # us-east-1b, no table of its own: the main table's route to the gateway
PUBLIC_C_NAT = "subnet-0c0ffee00000000c1"  # us-east-1c, routed to the NAT gateway: no good for an ALB
PUBLIC_A_TWIN = "subnet-0c0ffee00000000a2"  # us-east-1a again
PRIVATE_A = "subnet-0c0ffee00000000a3"  # us-east-1a, 0.0.0.0/0 -> NAT gateway
PRIVATE_B = "subnet-0c0ffee00000000b3"  # us-east-1b, 0.0.0.0/0 -> Transit Gateway
PRIVATE_C = "subnet-0c0ffee00000000c3"  # us-east-1c (no ALB subnet there in the usual pair), NAT gateway
ISOLATED_A = "subnet-0c0ffee00000000a4"  # us-east-1a, no route out, on the S3 gateway endpoint's table
ISOLATED_B = "subnet-0c0ffee00000000b4"  # us-east-1b, no route out, no S3 gateway endpoint on its table
PRIVATE_ON_MAIN = "subnet-0c0ffee00000000b5"  # us-east-1b, no table of its own: the main table's internet gateway
OTHER_VPC_SUBNET = "subnet-0c0ffee00000000a6"  # us-east-1a of the other VPC
MISSING_SUBNET = "subnet-0c0ffee00000000ff"  # exists nowhere
WEST_PUBLIC_A, WEST_PUBLIC_B, WEST_PUBLIC_C = (f"subnet-0c0ffee00000001{zone}1" for zone in "abc")
WEST_PRIVATE_A, WEST_PRIVATE_C = "subnet-0c0ffee00000001a3", "subnet-0c0ffee00000001c3"  # usw1-az3, usw1-az2
# The west VPC has a virtual private gateway (VPN or Direct Connect): a default route it propagates is not in the
# route-table lookup. WEST_VGW_B's table has no static default route, WEST_PEERED_B's sends it to a peering connection.
WEST_VGW_B, WEST_PEERED_B = "subnet-0c0ffee00000001b3", "subnet-0c0ffee00000001b4"  # us-west-1b
VPN_GATEWAYS = {WEST_VPC: "vgw-0c0ffee0000000001"}
SHARED_PUBLIC_A, SHARED_PUBLIC_B, SHARED_PRIVATE_A, SHARED_PRIVATE_B = (
    f"subnet-0c0ffee00000002{zone}{tier}" for tier, zone in ("1a", "1b", "3a", "3b")
)
SHARED_ANSWERS: dict[str, Any] = {
    "vpc_id": SHARED_VPC,
    "public_subnet_ids": f"{SHARED_PUBLIC_A},{SHARED_PUBLIC_B}",
    "private_subnet_ids": f"{SHARED_PRIVATE_A},{SHARED_PRIVATE_B}",
}

# A working answer set: the stack's variants and tests deploy into it.
ANSWERS: dict[str, Any] = {
    "vpc_id": VPC,
    "public_subnet_ids": f"{PUBLIC_A},{PUBLIC_B}",
    "private_subnet_ids": f"{PRIVATE_A},{PRIVATE_B}",
}

SUBNETS: dict[str, tuple[str, str, str]] = {  # id -> (VPC, zone name, CIDR block)
    PUBLIC_A: (VPC, "us-east-1a", "10.20.0.0/24"),
    PUBLIC_B: (VPC, "us-east-1b", "10.20.1.0/24"),
    PUBLIC_C_NAT: (VPC, "us-east-1c", "10.20.2.0/24"),
    PUBLIC_A_TWIN: (VPC, "us-east-1a", "10.20.3.0/24"),
    PRIVATE_A: (VPC, "us-east-1a", "10.20.16.0/20"),
    PRIVATE_B: (VPC, "us-east-1b", "100.64.0.0/20"),  # in the secondary CIDR block
    PRIVATE_C: (VPC, "us-east-1c", "10.20.32.0/20"),
    ISOLATED_A: (VPC, "us-east-1a", "10.20.48.0/20"),
    ISOLATED_B: (VPC, "us-east-1b", "10.20.64.0/20"),
    PRIVATE_ON_MAIN: (VPC, "us-east-1b", "10.20.80.0/20"),
    OTHER_VPC_SUBNET: (OTHER_VPC, "us-east-1a", "172.16.0.0/20"),
    WEST_PUBLIC_A: (WEST_VPC, "us-west-1a", "10.30.0.0/24"),
    WEST_PUBLIC_B: (WEST_VPC, "us-west-1b", "10.30.1.0/24"),
    WEST_PUBLIC_C: (WEST_VPC, "us-west-1c", "10.30.2.0/24"),
    WEST_PRIVATE_A: (WEST_VPC, "us-west-1a", "10.30.16.0/20"),
    WEST_PRIVATE_C: (WEST_VPC, "us-west-1c", "10.30.32.0/20"),
    WEST_VGW_B: (WEST_VPC, "us-west-1b", "10.30.48.0/20"),
    WEST_PEERED_B: (WEST_VPC, "us-west-1b", "10.30.64.0/20"),
    SHARED_PUBLIC_A: (SHARED_VPC, "us-east-1a", "10.40.0.0/24"),
    SHARED_PUBLIC_B: (SHARED_VPC, "us-east-1b", "10.40.1.0/24"),
    SHARED_PRIVATE_A: (SHARED_VPC, "us-east-1a", "10.40.16.0/20"),
    SHARED_PRIVATE_B: (SHARED_VPC, "us-east-1b", "10.40.32.0/20"),
}


@dataclass(frozen=True)
class RouteTable:
    vpc: str
    main: bool
    subnets: tuple[str, ...]
    default_route: dict[str, str] = field(default_factory=dict)  # the 0.0.0.0/0 route's target, or none


IGW = {"gatewayId": "igw-0c0ffee0000000001"}
NAT = {"natGatewayId": "nat-0c0ffee0000000001"}
ROUTE_TABLES: dict[str, RouteTable] = {
    "rtb-0c0ffee0000000001": RouteTable(VPC, True, (), IGW),
    "rtb-0c0ffee0000000002": RouteTable(VPC, False, (PUBLIC_A, PUBLIC_A_TWIN), IGW),
    "rtb-0c0ffee0000000003": RouteTable(VPC, False, (PRIVATE_A, PRIVATE_C, PUBLIC_C_NAT), NAT),
    "rtb-0c0ffee0000000004": RouteTable(VPC, False, (PRIVATE_B,), {"transitGatewayId": "tgw-0c0ffee0000000001"}),
    "rtb-0c0ffee0000000005": RouteTable(VPC, False, (ISOLATED_A,)),
    "rtb-0c0ffee0000000006": RouteTable(VPC, False, (ISOLATED_B,)),
    "rtb-0c0ffee0000000007": RouteTable(OTHER_VPC, True, (), NAT),
    "rtb-0c0ffee0000000008": RouteTable(WEST_VPC, True, (), {"gatewayId": "igw-0c0ffee0000000002"}),
    "rtb-0c0ffee0000000009": RouteTable(WEST_VPC, False, (WEST_PRIVATE_A, WEST_PRIVATE_C), NAT),
    "rtb-0c0ffee000000000a": RouteTable(WEST_VPC, False, (WEST_VGW_B,)),
    "rtb-0c0ffee000000000b": RouteTable(
        WEST_VPC, False, (WEST_PEERED_B,), {"vpcPeeringConnectionId": "pcx-0c0ffee0000000001"}
    ),
}
ISOLATED_TABLE = "rtb-0c0ffee0000000005"


@dataclass(frozen=True)
class Endpoint:
    id: str
    vpc: str
    service: str
    kind: str
    private_dns: bool = True
    route_tables: tuple[str, ...] = ()


ENDPOINTS = [
    Endpoint("vpce-0c0ffee0000000001", VPC, "com.amazonaws.us-east-1.ecr.api", "Interface"),
    Endpoint("vpce-0c0ffee0000000002", VPC, "com.amazonaws.us-east-1.ecr.dkr", "Interface"),
    Endpoint("vpce-0c0ffee0000000003", VPC, "com.amazonaws.us-east-1.logs", "Interface"),
    Endpoint("vpce-0c0ffee0000000004", VPC, "com.amazonaws.us-east-1.ssm", "Interface", private_dns=False),
    Endpoint("vpce-0c0ffee0000000005", VPC, "com.amazonaws.us-east-1.s3", "Gateway", route_tables=(ISOLATED_TABLE,)),
]

GET_VPC_ENDPOINT = "aws:ec2/getVpcEndpoint:getVpcEndpoint"
GET_VPN_GATEWAY = "aws:ec2/getVpnGateway:getVpnGateway"
ROUTE_FIELDS = (
    "carrierGatewayId", "cidrBlock", "coreNetworkArn", "destinationPrefixListId", "egressOnlyGatewayId", "gatewayId",
    "instanceId", "ipv6CidrBlock", "localGatewayId", "natGatewayId", "networkInterfaceId", "odbNetworkArn",
    "transitGatewayId", "vpcEndpointId", "vpcPeeringConnectionId",
)  # fmt: skip


def filter_values(args: dict[str, Any], name: str) -> list[str] | None:
    """The values of the invoke's filter `name` (EC2 Describe* filters), or None without that filter."""
    for given in args.get("filters") or []:
        if given.get("name") == name:
            return [str(value) for value in given.get("values", [])]
    return None


def get_vpcs(args: dict[str, Any], region: str) -> dict[str, Any]:
    wanted = filter_values(args, "vpc-id") or list(VPC_CIDRS)
    return {"id": region, "ids": [vpc for vpc in VPC_CIDRS if vpc in wanted]}


def get_vpc(args: dict[str, Any], region: str) -> dict[str, Any]:
    vpc = str(args["id"])
    primary, *_ = cidrs = VPC_CIDRS[vpc]
    # DescribeVpcs lists the primary block among the associations too.
    associations = [
        {"associationId": f"vpc-cidr-assoc-0c0ffee000000000{index}", "cidrBlock": cidr, "state": "associated"}
        for index, cidr in enumerate(cidrs)
    ]
    return {
        "id": vpc,
        "arn": f"arn:aws:ec2:{region}:{OWNERS.get(vpc, '123456789012')}:vpc/{vpc}",
        "ownerId": OWNERS.get(vpc, "123456789012"),
        "dhcpOptionsId": dhcp_options_id(vpc),
        "cidrBlock": primary,
        "cidrBlockAssociations": associations,
        "enableDnsHostnames": True,
        "enableDnsSupport": True,
        "state": "available",
    }


def dhcp_options_id(vpc: str) -> str:
    return vpc.replace("vpc-", "dopt-")


def get_vpc_dhcp_options(args: dict[str, Any]) -> dict[str, Any]:
    options = str(args["dhcpOptionsId"])
    vpc = options.replace("dopt-", "vpc-")
    return {
        "id": options,
        "dhcpOptionsId": options,
        "arn": f"arn:aws:ec2:us-east-1:{OWNERS.get(vpc, '123456789012')}:dhcp-options/{options}",
        "domainName": "ec2.internal",
        "domainNameServers": list(DNS_SERVERS.get(vpc, ("AmazonProvidedDNS",))),
        "ntpServers": [],
        "netbiosNameServers": [],
        "ownerId": OWNERS.get(vpc, "123456789012"),
    }


def get_subnets(args: dict[str, Any]) -> dict[str, Any]:
    wanted = filter_values(args, "subnet-id") or list(SUBNETS)
    return {"id": "subnets", "ids": [subnet for subnet in SUBNETS if subnet in wanted]}


def get_subnet(args: dict[str, Any], zone_id: dict[str, str]) -> dict[str, Any]:
    subnet = str(args["id"])
    vpc, zone, cidr = SUBNETS[subnet]
    return {
        "id": subnet,
        "vpcId": vpc,
        "availabilityZone": zone,
        "availabilityZoneId": zone_id[zone],
        "cidrBlock": cidr,
        "mapPublicIpOnLaunch": False,
        "state": "available",
    }


def get_route_tables(args: dict[str, Any]) -> dict[str, Any]:
    vpc = args.get("vpcId")
    tables = {key: table for key, table in ROUTE_TABLES.items() if vpc in (None, table.vpc)}
    if (subnets := filter_values(args, "association.subnet-id")) is not None:
        tables = {key: table for key, table in tables.items() if set(table.subnets) & set(subnets)}
    if filter_values(args, "association.main") == ["true"]:
        tables = {key: table for key, table in tables.items() if table.main}
    return {"id": "route-tables", "ids": list(tables)}


def get_route_table(args: dict[str, Any]) -> dict[str, Any]:
    table_id = str(args["routeTableId"])
    table = ROUTE_TABLES[table_id]
    associations = [{"subnetId": subnet, "main": False} for subnet in table.subnets]
    if table.main:
        associations.append({"subnetId": "", "main": True})  # the main association names no subnet
    routes = [{**dict.fromkeys(ROUTE_FIELDS, ""), "cidrBlock": "0.0.0.0/0", **table.default_route}]
    return {
        "id": table_id,
        "routeTableId": table_id,
        "vpcId": table.vpc,
        "associations": [
            {"gatewayId": "", "routeTableAssociationId": f"rtbassoc-{index:017x}", "routeTableId": table_id, **item}
            for index, item in enumerate(associations)
        ],
        "routes": routes if table.default_route else [],
    }


def get_vpn_gateway(args: dict[str, Any]) -> dict[str, Any] | None:
    """The VGW attached to the VPC, or None (the provider then fails with "no matching EC2 VPN Gateway found")."""
    vgw = VPN_GATEWAYS.get(str(args.get("attachedVpcId")))
    return {"id": vgw, "attachedVpcId": args["attachedVpcId"], "state": "available"} if vgw else None


def get_vpc_endpoint(args: dict[str, Any]) -> dict[str, Any] | None:
    """The matching endpoint, or None (the provider then fails with "no matching EC2 VPC Endpoint found")."""
    for endpoint in ENDPOINTS:
        if (endpoint.vpc, endpoint.service, endpoint.kind) == (
            args.get("vpcId"),
            args.get("serviceName"),
            args.get("vpcEndpointType"),
        ):
            return {
                "id": endpoint.id,
                "vpcId": endpoint.vpc,
                "serviceName": endpoint.service,
                "vpcEndpointType": endpoint.kind,
                "privateDnsEnabled": endpoint.private_dns,
                "routeTableIds": list(endpoint.route_tables),
                "state": "available",
            }
    return None
