"""What one stack file makes the program register and look up: its program run under Pulumi's mocks, no cloud.

`python -m bootstrap.inventory <stack>` (from the project folder) prints the inventory as JSON. The bootstrap program
runs it as a separate process, since a Pulumi program cannot run another one under mocks in its own. The run is a
preview (outputs AWS would make up stay unknown), so the mocks need to answer only the lookups, as AWS would.
"""

import asyncio
import json
import runpy
import sys
from pathlib import Path
from typing import Any

import pulumi

from bootstrap.permissions import Inventory, inventory_of
from infra.stack_file import stack_file_config
from infra.validation import FARGATE_ZONE_IDS

PROJECT_DIR = Path(__file__).resolve().parent.parent


class _Recorder(pulumi.runtime.Mocks):
    """Notes every resource and lookup; answers lookups with placeholders shaped like AWS's answers."""

    def __init__(self, region: str, config: dict[str, str] | None = None) -> None:
        self.region = region
        self.config = config or {}
        self.resources: list[tuple[str, str, dict[str, Any]]] = []
        self.invokes: list[str] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append((args.typ, args.name, dict(args.inputs)))
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        self.invokes.append(args.token)
        zones = [f"{self.region}{letter}" for letter in "abcd"]
        answers: dict[str, dict[str, Any]] = {
            "aws:index/getAvailabilityZones:getAvailabilityZones": {
                "names": zones,
                "zoneIds": [f"zone-{index}" for index in range(len(zones))],
            },
            "aws:ec2/getVpcEndpointService:getVpcEndpointService": {"availabilityZones": zones},
            "aws:ecr/getAuthorizationToken:getAuthorizationToken": {"userName": "AWS", "password": "-"},
            "aws:route53/getZone:getZone": {"id": "Z0", "zoneId": "Z0", "name": args.args.get("name", "")},
            "aws:index/getCallerIdentity:getCallerIdentity": {"accountId": "000000000000"},
            "aws:elb/getServiceAccount:getServiceAccount": {"arn": "arn:aws:iam::000000000000:root"},
            "aws:ssm/getParametersByPath:getParametersByPath": {"names": [], "values": [], "types": [], "arns": []},
        }
        answers.update(self.existing_vpc(args.token, dict(args.args)))
        # A lookup not answered here still counts (the permissions name it if unmapped), though the program may fail
        # on the empty answer: then add one here, shaped like AWS's.
        return answers.get(args.token, {}), []

    def existing_vpc(self, token: str, asked: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """With vpc_id: a VPC that passes infra/existing_vpc.py's checks (its subnets in distinct Fargate zones, the
        public ones routed to an internet gateway, the private ones to a NAT gateway), so the program runs on."""
        project = next((key.split(":")[0] for key in self.config if key.endswith(":vpc_id")), "")
        vpc_id = self.config.get(f"{project}:vpc_id", "")
        if not vpc_id:
            return {}
        lists = [self.config.get(f"{project}:{kind}_subnet_ids", "") for kind in ("public", "private")]
        public, private = ([item.strip() for item in raw.strip("[]").replace('"', "").split(",")] for raw in lists)
        zone_ids = sorted(FARGATE_ZONE_IDS.get(self.region, tuple(f"zone-{index}" for index in range(4))))
        subnet_id, table_id = str(asked.get("id", "")), str(asked.get("routeTableId", ""))
        index = (
            public.index(subnet_id) if subnet_id in public else private.index(subnet_id) if subnet_id in private else 0
        )
        wanted = [str(value) for given in asked.get("filters") or [] for value in given.get("values", [])]
        subnet = table_id.removeprefix("rtb-for-")
        target = {"gatewayId": "igw-0"} if subnet in public else {"natGatewayId": "nat-0"}
        return {
            "aws:ec2/getVpcs:getVpcs": {"ids": [vpc_id]},
            "aws:ec2/getVpc:getVpc": {
                "id": vpc_id,
                "cidrBlock": "10.0.0.0/16",
                "cidrBlockAssociations": [],
                "dhcpOptionsId": "dopt-0",
            },
            "aws:ec2/getSubnets:getSubnets": {"ids": wanted},
            "aws:ec2/getSubnet:getSubnet": {
                "id": subnet_id,
                "vpcId": vpc_id,
                "availabilityZone": f"{self.region}{'abcdef'[index % 6]}",
                "availabilityZoneId": zone_ids[index % len(zone_ids)],
            },
            "aws:ec2/getRouteTables:getRouteTables": {
                "ids": [f"rtb-for-{value}" for value in wanted if value != "true"]
            },
            "aws:ec2/getRouteTable:getRouteTable": {
                "id": table_id,
                "associations": [{"subnetId": subnet, "main": False}],
                "routes": [{"cidrBlock": "0.0.0.0/0", **target}],
            },
            "aws:ec2/getVpcDhcpOptions:getVpcDhcpOptions": {"domainNameServers": ["AmazonProvidedDNS"]},
        }


def stack_config(stack: str, project_dir: Path = PROJECT_DIR) -> dict[str, str]:
    """Pulumi.<stack>.yaml's config as `pulumi` hands it to the program: strings, booleans lower-case."""
    _, config = stack_file_config(stack, project_dir)
    return {key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in config.items()}


def inventory(stack: str, project_dir: Path = PROJECT_DIR) -> Inventory:
    """Run the project's __main__.py for this stack under mocks, in this process."""
    project, _ = stack_file_config(stack, project_dir)
    config = stack_config(stack, project_dir)
    recorder = _Recorder(config.get("aws:region", "us-east-1"), config)
    asyncio.set_event_loop(asyncio.new_event_loop())
    pulumi.runtime.settings.ROOT.set(None)
    pulumi.runtime.set_mocks(recorder, project=project, stack=stack, preview=True)
    pulumi.runtime.set_all_config(config)
    sys.path.insert(0, str(project_dir))
    try:
        pulumi.runtime.test(lambda: runpy.run_path(str(project_dir / "__main__.py"), run_name="__main__"))()  # type: ignore[no-untyped-call]
    finally:
        sys.path.remove(str(project_dir))
    return inventory_of(recorder.resources, recorder.invokes)


def to_json(found: Inventory) -> str:
    return json.dumps(
        {
            "types": sorted(found.types),
            "invokes": sorted(found.invokes),
            "passed_roles": sorted(found.passed_roles),
            "attached_policies": sorted(found.attached_policies),
            "domain": found.domain,
        }
    )


def from_json(text: str) -> Inventory:
    data = json.loads(text)
    return Inventory(
        frozenset(data["types"]),
        frozenset(data["invokes"]),
        frozenset(tuple(pair) for pair in data["passed_roles"]),
        frozenset(data["attached_policies"]),
        data["domain"],
    )


if __name__ == "__main__":
    print(to_json(inventory(sys.argv[1])))
