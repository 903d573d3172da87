"""Runs the Pulumi program under mocks (no cloud, no CLI) and records every resource it registers.

How the mocks keep provenance
-----------------------------
A mock that hands a resource's inputs back as its outputs cannot show where a value came from: "the listener uses the
validated certificate" would compare a value with itself, and a lookup that answers the same id for every question
cannot tell which question was asked. So these mocks, like AWS, make up the values AWS makes up (ids, ARNs, ARN
suffixes, DNS names, physical names of auto-named resources, a zone id per zone name), and every made-up value is

- shaped like AWS's: `arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<16 hex>`, `subnet-<17 hex>`,
  `<name>-<10 digits>.<region>.elb.amazonaws.com`, `Z<20 upper-case alphanumerics>`, ...;
- distinct per resource and per lookup argument: derived by a hash from the resource's type and logical name, or from
  the invoke's arguments, so it is stable between runs and no two resources (or two zone names) share one;
- recorded: `Registered.outputs` is what each resource answered, `Deployment.origin(value)` names the resource and
  output a made-up value came from, and `Deployment.invokes` lists every lookup with its arguments and its answer.

A test of "X uses Y's output" compares X's input with `Y.outputs[...]` (or asks `origin`), never with a string it builds
itself, so it fails when X takes the value from anywhere else.

Where AWS answers the same value from two places, the mocks keep the two apart on purpose (provenance marks):
- `CertificateValidation.certificateArn`: AWS returns the certificate's own ARN once it is issued; the mock returns a
  different ACM ARN derived from the validation, so a listener that takes the certificate's ARN directly (and so does
  not wait for validation) is visible.
- `Record.fqdn`: normalised as the provider's `expandRecordName` does (lower case, no trailing dot, the zone appended
  to a relative name), while `name` echoes the input; ACM's validation record names end in a dot, so they differ.
Everything else the program passes in comes back unchanged, as the provider's state would.
"""

import asyncio
import hashlib
import os
import runpy
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import landing_zone
import moto.core.config
import pulumi
import pytest
import yaml
from pulumi.runtime import resource as resource_runtime
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.proto import source_pb2

from infra.stack import build_stack
from infra.validation import Settings, parse_settings


def no_stack_trace() -> source_pb2.StackTrace:
    return source_pb2.StackTrace()


# Pulumi walks the Python stack of every resource it registers, for the source positions in the engine's messages.
# Under pytest that stack is a hundred frames deep: walking it took a third of this suite's CPU time, and the mocks
# never read it. So here resources register without one.
resource_runtime._get_stack_trace = no_stack_trace

# What moto redoes at every `mock_aws()` start but no test here needs redone (each mock still starts with an empty
# account):
# - boto3's default session: moto replaces it, so that a test that is not mocked never reuses its fake credentials
#   (moto's docs, "Configuration": reset_boto3_session). No test here reaches AWS, and every fresh session reads
#   botocore's JSON service models again: 0.05-0.2 s of CPU per client, in each test whose code makes its own
#   (scripts/ephemeral.py, release_preflight.py, verify.py...). The kept session's clients still go to moto whenever a
#   mock is active: moto registers its handler among botocore's built-in ones when imported (above), before any session.
# - moto's 2,600 default AMIs, loaded into every fresh EC2 backend (~0.3 s); no test here looks an image up.
# The kept session resolves credentials once, with its first client: a client made outside any mock caches what the
# machine has (a profile, say), and later mocks sign with it, harmlessly, as no request leaves while one is active.
# A `mock_aws(config={"core": ...})` would replace this whole section of the config (moto copies it shallowly) and
# bring the resets back: pass it `reset_boto3_session: False` too.
moto.core.config.default_user_config["core"]["reset_boto3_session"] = False
os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")

ROOT = Path(__file__).resolve().parent.parent
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"]
ACCOUNT = "123456789012"
ELB_ACCOUNT = "127311923021"  # Elastic Load Balancing's log-delivery account in us-east-1
ALB_ZONE_ID_US_EAST_1 = "Z35SXDOTRQ7X7K"  # the hosted zone of every ALB in us-east-1 (alias targets name it)


# EC2-style ids: "<prefix>-<17 hex>". The ARN names the resource type AWS uses in it.
EC2_IDS = {
    "aws:ec2/vpc:Vpc": ("vpc", "vpc"),
    "aws:ec2/subnet:Subnet": ("subnet", "subnet"),
    "aws:ec2/securityGroup:SecurityGroup": ("sg", "security-group"),
    "aws:ec2/internetGateway:InternetGateway": ("igw", "internet-gateway"),
    "aws:ec2/natGateway:NatGateway": ("nat", "natgateway"),
    "aws:ec2/eip:Eip": ("eipalloc", "elastic-ip"),
    "aws:ec2/routeTable:RouteTable": ("rtb", "route-table"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": ("rtbassoc", "route-table-association"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("vpce", "vpc-endpoint"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ("sgr", "security-group-rule"),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": ("sgr", "security-group-rule"),
}


def digest(*parts: object) -> str:
    """A stable hex string for these parts: the same question always gets the same made-up answer."""
    return hashlib.sha256("/".join(str(part) for part in parts).encode()).hexdigest()


def hosted_zone_id(zone_name: str) -> str:
    """The id the getZone mock answers for `zone_name` (Route53 zone ids: "Z" and upper-case alphanumerics)."""
    return "Z" + digest("zone", zone_name.rstrip(".").lower())[:20].upper()


def record_fqdn(name: str, zone_name: str) -> str:
    """What the provider reports as a record's fqdn (its expandRecordName): lower case, no trailing dot, in the zone."""
    fqdn, zone = name.rstrip(".").lower(), zone_name.rstrip(".").lower()
    return fqdn if not zone or fqdn == zone or fqdn.endswith("." + zone) else f"{fqdn}.{zone}"


# Regions whose zones matter to a test, as an older account sees them: name -> AZ id, in DescribeAvailabilityZones
# order. The name-to-id mapping differs per account (AWS RAM guide, "AZ IDs"); the ids that exist are AWS's. Fargate
# runs in only some of them (ECS guide, "Supported Regions for Amazon ECS on AWS Fargate").
REGION_ZONES: dict[str, dict[str, str]] = {
    "us-west-1": {"us-west-1a": "usw1-az3", "us-west-1b": "usw1-az1", "us-west-1c": "usw1-az2"},
    "ap-northeast-1": {
        "ap-northeast-1a": "apne1-az4",
        "ap-northeast-1b": "apne1-az3",
        "ap-northeast-1c": "apne1-az1",
        "ap-northeast-1d": "apne1-az2",
    },
}


# Interface endpoint services absent from some zones, as AWS answers for a few services in older zones: the names
# of the zones left out. None by default; a test adds one to see the zone choice follow (tests/test_zones.py).
ENDPOINT_SERVICE_GAPS: dict[str, set[str]] = {}


def zone_ids(region: str) -> list[str]:
    """AZ ids ("use1-az4"): the same physical zone in every account, unlike the names; a different order on purpose."""
    if region in REGION_ZONES:
        return list(REGION_ZONES[region].values())
    words = region.split("-")
    short = words[0] + "".join(word[0] for word in words[1:-1]) + words[-1]
    return [f"{short}-az{number}" for number in (4, 6, 1, 2)]


def zone_names(region: str) -> list[str]:
    """The zone names, in the same order as zone_ids (the data source returns them side by side)."""
    return list(REGION_ZONES[region]) if region in REGION_ZONES else [f"{region}{letter}" for letter in "abcd"]


@dataclass
class Registered:
    type: str
    name: str
    inputs: dict[str, Any]
    id: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Invoke:
    token: str
    args: dict[str, Any]
    answer: dict[str, Any]


@dataclass
class New:
    """A resource being created, and what the values AWS makes up for it are derived from."""

    typ: str
    logical: str
    inputs: dict[str, Any]
    region: str
    zone_names: dict[str, str]  # zone id -> name, as the getZone mock answered them

    @property
    def hex(self) -> str:
        return digest(self.typ, self.logical)

    @property
    def name(self) -> str:
        """The physical name: what the program set, or Pulumi's auto-name (logical name, "-", 7 characters)."""
        given = self.inputs.get("name")
        return str(given) if given else f"{self.inputs.get('namePrefix') or self.logical + '-'}{self.hex[-7:]}"

    def uuid(self, *salt: object) -> str:
        return str(uuid.UUID(digest(self.typ, self.logical, *salt)[:32]))

    def arn(self, service: str, resource: str, regional: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if regional else ''}:{ACCOUNT}:{resource}"


def ec2_resource(new: New) -> dict[str, Any]:
    prefix, arn_kind = EC2_IDS[new.typ]
    resource_id = f"{prefix}-{new.hex[:17]}"
    return {"id": resource_id, "arn": new.arn("ec2", f"{arn_kind}/{resource_id}")}


def load_balancer(new: New) -> dict[str, Any]:
    suffix = f"app/{new.name}/{new.hex[:16]}"
    arn = new.arn("elasticloadbalancing", f"loadbalancer/{suffix}")
    internal = "internal-" if new.inputs.get("internal") else ""
    number = int(new.hex[:12], 16) % 10**10
    zone = ALB_ZONE_ID_US_EAST_1 if new.region == "us-east-1" else "Z" + digest("alb-zone", new.region)[:13].upper()
    return {
        "id": arn,
        "arn": arn,
        "arnSuffix": suffix,
        "name": new.name,
        "dnsName": f"{internal}{new.name}-{number:010d}.{new.region}.elb.amazonaws.com",
        "zoneId": zone,
    }


def target_group(new: New) -> dict[str, Any]:
    suffix = f"targetgroup/{new.name}/{new.hex[:16]}"
    arn = new.arn("elasticloadbalancing", suffix)
    return {"id": arn, "arn": arn, "arnSuffix": suffix, "name": new.name}


def listener(new: New) -> dict[str, Any]:
    """Listener ARNs extend their load balancer's ("listener/app/<lb>/<lb id>/<id>"); rules extend their listener's."""
    parent = str(new.inputs.get("loadBalancerArn") or new.inputs.get("listenerArn") or "").split(":", 5)[-1]
    path = parent.removeprefix("loadbalancer/").removeprefix("listener/")
    kind = "listener" if new.typ.endswith(":Listener") else "listener-rule"
    arn = new.arn("elasticloadbalancing", f"{kind}/{path}/{new.hex[:16]}")
    return {"id": arn, "arn": arn}


def certificate(new: New) -> dict[str, Any]:
    domain = str(new.inputs.get("domainName", ""))
    arn = new.arn("acm", f"certificate/{new.uuid()}")
    option = {
        "domainName": domain,
        "resourceRecordName": f"_{digest('name', new.typ, new.logical)[:32]}.{domain}.",
        "resourceRecordType": "CNAME",
        "resourceRecordValue": f"_{digest('value', new.typ, new.logical)[:32]}.{new.hex[:10]}.acm-validations.aws.",
    }
    return {"id": arn, "arn": arn, "domainValidationOptions": [option], "status": "PENDING_VALIDATION"}


def certificate_validation(new: New) -> dict[str, Any]:
    # Provenance mark: AWS answers the certificate's own ARN (see the module docstring).
    validated = new.arn("acm", f"certificate/{new.uuid(new.inputs.get('certificateArn'))}")
    return {"id": validated, "certificateArn": validated}


def record(new: New) -> dict[str, Any]:
    zone_id, name = str(new.inputs.get("zoneId", "")), str(new.inputs.get("name", ""))
    fqdn = record_fqdn(name, new.zone_names.get(zone_id, ""))
    return {"id": f"{zone_id}_{name.rstrip('.').lower()}_{new.inputs.get('type')}", "fqdn": fqdn}


def repository(new: New) -> dict[str, Any]:
    return {
        "id": new.name,
        "name": new.name,
        "arn": new.arn("ecr", f"repository/{new.name}"),
        "repositoryUrl": f"{ACCOUNT}.dkr.ecr.{new.region}.amazonaws.com/{new.name}",
        "registryId": ACCOUNT,
    }


def image(new: New) -> dict[str, Any]:
    """docker-build's ref: the first tag pinned to the pushed digest."""
    image_digest = f"sha256:{new.hex}"
    tags = new.inputs.get("tags") or [f"{new.logical}:latest"]
    return {"id": image_digest, "digest": image_digest, "ref": f"{tags[0]}@{image_digest}"}


def cluster(new: New) -> dict[str, Any]:
    arn = new.arn("ecs", f"cluster/{new.name}")
    return {"id": arn, "arn": arn, "name": new.name}


def service(new: New) -> dict[str, Any]:
    cluster_name = str(new.inputs.get("cluster", "")).rsplit("/", 1)[-1]
    arn = new.arn("ecs", f"service/{cluster_name}/{new.name}")
    return {"id": arn, "arn": arn, "name": new.name}


def task_definition(new: New) -> dict[str, Any]:
    family = new.inputs.get("family") or new.name
    arn = new.arn("ecs", f"task-definition/{family}:1")
    return {"id": family, "arn": arn, "revision": 1, "arnWithoutRevision": arn.removesuffix(":1")}


def bucket(new: New) -> dict[str, Any]:
    name = new.inputs.get("bucket") or new.name
    return {
        "id": name,
        "bucket": name,
        "arn": f"arn:aws:s3:::{name}",
        "bucketDomainName": f"{name}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{name}.s3.{new.region}.amazonaws.com",
    }


def named(service_: str, resource: str, id_is_arn: bool = False, regional: bool = True) -> Callable[[New], Any]:
    """Resources known by name (or ARN) whose ARN is "<service>:...:<resource with {name}>"."""

    def outputs(new: New) -> dict[str, Any]:
        arn = new.arn(service_, resource.format(name=new.name), regional)
        return {"id": arn if id_is_arn else new.name, "name": new.name, "arn": arn}

    return outputs


def subscription(new: New) -> dict[str, Any]:
    arn = f"{new.inputs.get('topic')}:{new.uuid()}"
    return {"id": arn, "arn": arn}


def scalable_target(new: New) -> dict[str, Any]:
    arn = new.arn("application-autoscaling", f"scalable-target/{new.hex[:32]}")
    return {"id": str(new.inputs.get("resourceId", "")), "arn": arn}


def scaling_policy(new: New) -> dict[str, Any]:
    resource = f"resource/ecs/{new.inputs.get('resourceId')}:policyName/{new.name}"
    return {"id": new.name, "name": new.name, "arn": new.arn("autoscaling", f"scalingPolicy:{new.uuid()}:{resource}")}


def random_id(new: New) -> dict[str, Any]:
    """pulumi_random's RandomId of 4 bytes (the same on every run here; test_image.py models its replacement)."""
    return {"id": new.hex[:8], "hex": new.hex[:8]}


def any_resource(new: New) -> dict[str, Any]:
    """A type without its own entry: an id and an ARN of the usual form, both naming it."""
    module, kind = new.typ.split(":")[1].split("/", 1)[0], new.typ.rsplit(":", 1)[-1]
    return {
        "id": f"{new.logical}-{new.hex[:8]}",
        "name": new.name,
        "arn": new.arn(module, f"{kind.lower()}/{new.name}"),
    }


# What AWS makes up for each type of resource ("id" included). New resource types get an entry here when a test
# follows one of their outputs; until then any_resource answers.
MADE_UP: dict[str, Callable[[New], dict[str, Any]]] = {
    **dict.fromkeys(EC2_IDS, ec2_resource),
    "aws:lb/loadBalancer:LoadBalancer": load_balancer,
    "aws:lb/targetGroup:TargetGroup": target_group,
    "aws:lb/listener:Listener": listener,
    "aws:lb/listenerRule:ListenerRule": listener,
    "aws:acm/certificate:Certificate": certificate,
    "aws:acm/certificateValidation:CertificateValidation": certificate_validation,
    "aws:route53/record:Record": record,
    "aws:ecr/repository:Repository": repository,
    "docker-build:index:Image": image,
    "aws:ecs/cluster:Cluster": cluster,
    "aws:ecs/service:Service": service,
    "aws:ecs/taskDefinition:TaskDefinition": task_definition,
    "aws:s3/bucket:Bucket": bucket,
    "aws:iam/role:Role": named("iam", "role/{name}", regional=False),
    "aws:cloudwatch/logGroup:LogGroup": named("logs", "log-group:{name}"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": named("cloudwatch", "alarm:{name}"),
    "aws:sns/topic:Topic": named("sns", "{name}", id_is_arn=True),
    "aws:sns/topicSubscription:TopicSubscription": subscription,
    "aws:appautoscaling/target:Target": scalable_target,
    "aws:appautoscaling/policy:Policy": scaling_policy,
    "random:index/randomId:RandomId": random_id,
}


class RecordingMocks(pulumi.runtime.Mocks):
    """Answers like AWS would, with made-up values that name their source, and keeps what the program asked for."""

    def __init__(self, region: str = "us-east-1", ssm_parameters: dict[str, str] | None = None) -> None:
        self.region = region
        # What SSM holds before the run (a parameter an earlier deployment wrote), by name.
        self.ssm_parameters = ssm_parameters or {}
        self.resources: list[Registered] = []
        self.invokes: list[Invoke] = []
        self.origins: dict[str, tuple[Registered, str]] = {}
        self.ignore_changes: dict[str, list[str]] = {}
        self.zone_names: dict[str, str] = {}
        self.custom_timeouts: dict[str, dict[str, str]] = {}
        self.depends_on: dict[str, list[str]] = {}
        self.replace_on_changes: dict[str, list[str]] = {}
        self.aliases: dict[str, list[str]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        registered = Registered(args.typ, args.name, args.inputs)
        self.resources.append(registered)
        if not args.custom:  # a component: nothing of AWS's to answer
            return "", dict(args.inputs)
        new = New(args.typ, args.name, args.inputs, self.region, self.zone_names)
        made_up = MADE_UP.get(args.typ, any_resource)(new)
        registered.id = made_up.pop("id")
        registered.outputs = {**args.inputs, **made_up}
        for key, value in [*made_up.items(), ("id", registered.id)]:  # an output's name before "id"
            if isinstance(value, str) and value not in args.inputs.values():
                self.origins.setdefault(value, (registered, key))
        return registered.id, registered.outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        asked = dict(args.args)
        answers: dict[str, Callable[[], dict[str, Any]]] = {
            "aws:index/getAvailabilityZones:getAvailabilityZones": lambda: {
                "names": zone_names(self.region),
                "zoneIds": zone_ids(self.region),
            },
            "aws:ec2/getVpcEndpointService:getVpcEndpointService": lambda: self.endpoint_service(
                str(asked.get("serviceName", ""))
            ),
            "aws:ecr/getAuthorizationToken:getAuthorizationToken": lambda: {
                "userName": "AWS",
                "password": "token",
                "proxyEndpoint": f"https://{ACCOUNT}.dkr.ecr.{self.region}.amazonaws.com",
            },
            "aws:route53/getZone:getZone": lambda: self.zone(str(asked.get("name", ""))),
            "aws:index/getCallerIdentity:getCallerIdentity": lambda: {
                "accountId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:user/test",
                "userId": "AIDTEST",
            },
            "aws:elb/getServiceAccount:getServiceAccount": lambda: self.elb_account(
                str(asked.get("region") or self.region)
            ),
            "aws:ssm/getParametersByPath:getParametersByPath": lambda: self.parameters_by_path(str(asked["path"])),
            # Existing VPCs (vpc_id): tests/landing_zone.py.
            "aws:ec2/getVpcs:getVpcs": lambda: landing_zone.get_vpcs(asked, self.region),
            "aws:ec2/getVpc:getVpc": lambda: landing_zone.get_vpc(asked, self.region),
            "aws:ec2/getSubnets:getSubnets": lambda: landing_zone.get_subnets(asked),
            "aws:ec2/getSubnet:getSubnet": lambda: landing_zone.get_subnet(
                asked, dict(zip(zone_names(self.region), zone_ids(self.region), strict=True))
            ),
            "aws:ec2/getRouteTables:getRouteTables": lambda: landing_zone.get_route_tables(asked),
            "aws:ec2/getRouteTable:getRouteTable": lambda: landing_zone.get_route_table(asked),
            "aws:ec2/getVpcDhcpOptions:getVpcDhcpOptions": lambda: landing_zone.get_vpc_dhcp_options(asked),
        }
        if args.token == landing_zone.GET_VPC_ENDPOINT:
            found = landing_zone.get_vpc_endpoint(asked)
            self.invokes.append(Invoke(args.token, asked, found or {}))
            # The provider's singular data source fails when nothing matches.
            return ({}, [("", "no matching EC2 VPC Endpoint found")]) if found is None else (found, [])
        if args.token == landing_zone.GET_VPN_GATEWAY:
            vgw = landing_zone.get_vpn_gateway(asked)
            self.invokes.append(Invoke(args.token, asked, vgw or {}))
            return ({}, [("", "no matching EC2 VPN Gateway found")]) if vgw is None else (vgw, [])
        if args.token not in answers:
            raise NotImplementedError(f"the mocks do not answer the invoke {args.token}")
        answer = answers[args.token]()
        self.invokes.append(Invoke(args.token, asked, answer))
        return answer, []

    def endpoint_service(self, service_name: str) -> dict[str, Any]:
        """getVpcEndpointService: the service offered in every zone of the region (ENDPOINT_SERVICE_GAPS aside)."""
        missing = ENDPOINT_SERVICE_GAPS.get(service_name, set())
        return {
            "id": f"vpce-svc-{hashlib.sha256(service_name.encode()).hexdigest()[:17]}",
            "serviceName": service_name,
            "serviceType": "Interface",
            "availabilityZones": [zone for zone in zone_names(self.region) if zone not in missing],
        }

    def zone(self, name: str) -> dict[str, Any]:
        """getZone: a distinct id for each zone name asked (the program must ask for the zone, not the domain)."""
        zone_id = hosted_zone_id(name)
        self.zone_names[zone_id] = name
        return {
            "id": zone_id,
            "zoneId": zone_id,
            "name": name.rstrip("."),
            "arn": f"arn:aws:route53:::hostedzone/{zone_id}",
        }

    def parameters_by_path(self, path: str) -> dict[str, Any]:
        """getParametersByPath: the parameters directly under `path` (none: empty lists, as SSM answers)."""
        found = {name: value for name, value in self.ssm_parameters.items() if name.rpartition("/")[0] == path}
        return {
            "id": path,
            "path": path,
            "names": list(found),
            "values": list(found.values()),
            "types": ["String"] * len(found),
            "arns": [f"arn:aws:ssm:{self.region}:{ACCOUNT}:parameter{name}" for name in found],
        }

    def elb_account(self, region: str) -> dict[str, Any]:
        """getServiceAccount: the real account for us-east-1, a made-up one per other region."""
        account = ELB_ACCOUNT if region == "us-east-1" else str(int(digest("elb", region)[:12], 16))[:12]
        return {"id": account, "arn": f"arn:aws:iam::{account}:root"}


class RecordingMonitor(MockMonitor):
    """The mock engine, also noting each resource's ignore_changes, replace_on_changes, dependencies and custom
    timeouts (mocks see only inputs)."""

    mocks: RecordingMocks

    def RegisterResource(self, request: Any) -> Any:
        self.mocks.ignore_changes[request.name] = list(request.ignoreChanges)
        self.mocks.replace_on_changes[request.name] = list(request.replaceOnChanges)
        self.mocks.aliases[request.name] = [alias.spec.name for alias in request.aliases] + list(request.aliasURNs)
        # The logical names of what the resource waits for (its depends_on and the resources its inputs came from).
        self.mocks.depends_on[request.name] = [urn.rsplit("::", 1)[-1] for urn in request.dependencies]
        timeouts = request.customTimeouts
        self.mocks.custom_timeouts[request.name] = {
            kind: getattr(timeouts, kind) for kind in ("create", "update", "delete") if getattr(timeouts, kind)
        }
        return super().RegisterResource(request)  # type: ignore[no-untyped-call]


@dataclass
class Deployment:
    """What one run of the program registered and looked up, and the stack's resolved URL."""

    resources: list[Registered]
    url: str = ""
    ignore_changes: dict[str, list[str]] = field(default_factory=dict)
    invokes: list[Invoke] = field(default_factory=list)
    origins: dict[str, tuple[Registered, str]] = field(default_factory=dict)
    custom_timeouts: dict[str, dict[str, str]] = field(default_factory=dict)
    depends_on: dict[str, list[str]] = field(default_factory=dict)
    replace_on_changes: dict[str, list[str]] = field(default_factory=dict)
    aliases: dict[str, list[str]] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[Registered]:
        return [resource for resource in self.resources if resource.type == type_]

    def one(self, type_: str) -> Registered:
        found = self.of_type(type_)
        assert len(found) == 1, f"expected one {type_}, found {len(found)}"
        return found[0]

    def by_id(self, resource_id: str) -> Registered:
        """The resource whose id this is (a test follows an id the program passed on back to its source)."""
        found = [resource for resource in self.resources if resource.id == resource_id]
        assert len(found) == 1, f"{len(found)} resources have the id {resource_id!r}"
        return found[0]

    def origin(self, value: str) -> tuple[Registered, str] | None:
        """The resource and output a made-up value came from, or None if the mocks never made it up."""
        return self.origins.get(value)

    def lookups(self, token: str) -> list[Invoke]:
        """Every invoke of `token` the program made, with its arguments and the answer it got."""
        return [invoke for invoke in self.invokes if invoke.token == token]


def run_program(
    program: Callable[[], Any], stack: str = "dev", region: str = "us-east-1", mocks: RecordingMocks | None = None
) -> RecordingMocks:
    """Run `program` under fresh mocks (preview=False, so every output resolves) until all its resources exist."""
    mocks = mocks or RecordingMocks(region)
    asyncio.set_event_loop(asyncio.new_event_loop())
    # set_mocks keeps a root stack resource left by an earlier set_mocks (another test's, on another event loop):
    # awaiting its URN in this loop fails with "await wasn't used with future". Each run gets its own root.
    pulumi.runtime.settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=RecordingMonitor(mocks))
    pulumi.runtime.test(program)()  # type: ignore[no-untyped-call]
    return mocks


def deploy(
    project: str = PROJECT, stack: str = "dev", ssm_parameters: tuple[tuple[str, str], ...] = (), **config: object
) -> Deployment:
    """Build the stack with these settings (the rest: the program's defaults, not the stack file's), resolve its URL.

    A test that asserts a concrete value on `deploy(...)` tests the program with the settings it names, in every
    variant; a test of the generated stack's own configuration reads Pulumi.<stack>.yaml (see test_stack_files.py).
    Each distinct (project, stack, settings) runs once per session: tests only read what it registered.
    `ssm_parameters` (name, value) are what SSM holds before the run, as an earlier deployment left them.
    """
    settings = parse_settings(config)
    key = (project, stack, settings, ssm_parameters)
    if key not in _DEPLOYMENTS:
        deployment = Deployment(resources=[])

        def program() -> pulumi.Output[None]:
            return build_stack(project, settings).url.apply(lambda url: setattr(deployment, "url", url))

        stored = RecordingMocks(settings.aws_region, dict(ssm_parameters))
        mocks = run_program(program, stack, settings.aws_region, stored)
        deployment.resources, deployment.ignore_changes = mocks.resources, mocks.ignore_changes
        deployment.invokes, deployment.origins = mocks.invokes, mocks.origins
        deployment.custom_timeouts = mocks.custom_timeouts
        deployment.depends_on, deployment.replace_on_changes = mocks.depends_on, mocks.replace_on_changes
        deployment.aliases = mocks.aliases
        _DEPLOYMENTS[key] = deployment
    return _DEPLOYMENTS[key]


_DEPLOYMENTS: dict[tuple[str, str, Settings, tuple[tuple[str, str], ...]], Deployment] = {}


PROGRAM = ROOT / "__main__.py"


def run_stack(config: dict[str, str], stack: str = "dev") -> tuple[Deployment, pulumi.RunError | None]:
    """Run __main__.py as `pulumi up` would with this stack config (full keys); what it did, how it failed."""
    failure: list[pulumi.RunError] = []

    def program() -> None:
        pulumi.runtime.set_all_config(config)
        try:
            runpy.run_path(str(PROGRAM), run_name="__main__")
        except pulumi.RunError as error:
            failure.append(error)

    mocks = run_program(program, stack, config.get("aws:region", "us-east-1"))
    deployment = Deployment(mocks.resources, "", mocks.ignore_changes, mocks.invokes, mocks.origins)
    return deployment, failure[0] if failure else None


def run_main(config: dict[str, str], stack: str = "dev") -> tuple[list[Registered], pulumi.RunError | None]:
    """Run __main__.py as `pulumi up` would with this stack config (full keys); what it registered, how it failed."""
    deployment, failure = run_stack(config, stack)
    return deployment.resources, failure


@pytest.fixture
def fake_pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """`pulumi` on PATH is tests/fake_pulumi.py, for make acceptance's tests (tests/acceptance_fakes.py)."""
    from acceptance_fakes import fake_cli  # noqa: PLC0415 (it imports this module's PROJECT)

    with fake_cli(tmp_path, monkeypatch) as state:
        yield state


@pytest.fixture(scope="module")
def default_stack() -> Deployment:
    """The program run with its default settings (whatever this project's stack file says)."""
    return deploy()


def stack_config(answers: dict[str, object]) -> dict[str, str]:
    """Answers as `pulumi config set` would store them: strings under the project's namespace, the region under aws."""
    text = {key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in answers.items()}
    region = text.pop("aws_region", "us-east-1")
    return {"aws:region": region, **{f"{PROJECT}:{key}": value for key, value in text.items()}}


def stack_file_config(path: Path) -> dict[str, str]:
    """A Pulumi.<stack>.yaml's config as `pulumi` hands it to the program: strings, booleans lower-case."""
    config = yaml.safe_load(path.read_text())["config"]
    return {key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in config.items()}


@cache
def deploy_stack_file(path: Path) -> Deployment:
    """Run __main__.py with a stack file as `pulumi up --stack <stack>` would, once per file per session.

    The stack-file checks (test_stack_files.py) and the README diagram check (test_readme.py) read this one run.
    """
    stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    deployment, failure = run_stack(stack_file_config(path), stack)
    assert failure is None, failure
    return deployment
