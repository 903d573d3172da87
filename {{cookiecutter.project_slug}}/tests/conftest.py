"""Runs the Pulumi program under mocks (no cloud, no CLI) and records every resource it registers."""

import asyncio
import runpy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.runtime.mocks import MockMonitor

from infra.stack import build_stack
from infra.validation import Settings, parse_settings

ROOT = Path(__file__).resolve().parent.parent
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"]
ZONES = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"]
ACCOUNT = "123456789012"


@dataclass
class Registered:
    type: str
    name: str
    inputs: dict[str, Any]


class RecordingMocks(pulumi.runtime.Mocks):
    """Answers like AWS would, with fake ids, and keeps what the program asked for."""

    def __init__(self) -> None:
        self.resources: list[Registered] = []
        self.ignore_changes: dict[str, list[str]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(Registered(args.typ, args.name, args.inputs))
        state = dict(args.inputs)
        resource_id = f"{args.name}-id"
        arn_tail = f"{args.typ.split(':')[-1].lower()}/{args.name}"
        state.setdefault("arn", f"arn:aws:mock:us-east-1:{ACCOUNT}:{arn_tail}")
        state.setdefault("name", args.name)
        extra: dict[str, dict[str, Any]] = {
            "aws:lb/loadBalancer:LoadBalancer": {
                "dnsName": f"{args.name}-123.us-east-1.elb.amazonaws.com",
                "zoneId": "Z35SXDOTRQ7X7K",
                "arnSuffix": f"app/{args.name}/50dc6c495c0c9188",
            },
            "aws:lb/targetGroup:TargetGroup": {"arnSuffix": f"targetgroup/{args.name}/73e2d6bc24d8a067"},
            "aws:ecr/repository:Repository": {
                "repositoryUrl": f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/{args.name}",
                "registryId": ACCOUNT,
            },
            "docker-build:index:Image": {"ref": f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/app@sha256:{'a' * 64}"},
            "aws:acm/certificate:Certificate": {
                "domainValidationOptions": [
                    {
                        "domainName": args.inputs.get("domainName"),
                        "resourceRecordName": f"_x1.{args.inputs.get('domainName')}.",
                        "resourceRecordType": "CNAME",
                        "resourceRecordValue": "_x2.acm-validations.aws.",
                    }
                ]
            },
            "aws:acm/certificateValidation:CertificateValidation": {
                "certificateArn": args.inputs.get("certificateArn")
            },
            "aws:route53/record:Record": {"fqdn": args.inputs.get("name")},
        }
        state.update(extra.get(args.typ, {}))
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        answers: dict[str, Callable[[], dict[str, Any]]] = {
            "aws:index/getAvailabilityZones:getAvailabilityZones": lambda: {"names": ZONES, "zoneIds": ZONES},
            "aws:ecr/getAuthorizationToken:getAuthorizationToken": lambda: {
                "userName": "AWS",
                "password": "token",
                "proxyEndpoint": f"https://{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com",
            },
            "aws:route53/getZone:getZone": lambda: {"zoneId": "ZONE123", "name": args.args.get("name")},
            "aws:index/getCallerIdentity:getCallerIdentity": lambda: {
                "accountId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:user/test",
                "userId": "AIDTEST",
            },
            "aws:elb/getServiceAccount:getServiceAccount": lambda: {
                "arn": "arn:aws:iam::127311923021:root",
                "id": "127311923021",
            },
        }
        if args.token not in answers:
            raise NotImplementedError(f"the mocks do not answer the invoke {args.token}")
        return answers[args.token](), []


class RecordingMonitor(MockMonitor):
    """The mock engine, also noting each resource's ignore_changes option (mocks see only inputs)."""

    mocks: RecordingMocks

    def RegisterResource(self, request: Any) -> Any:
        self.mocks.ignore_changes[request.name] = list(request.ignoreChanges)
        return super().RegisterResource(request)  # type: ignore[no-untyped-call]


@dataclass
class Deployment:
    """What one run of the program registered, and the stack's resolved URL."""

    resources: list[Registered]
    url: str = ""
    ignore_changes: dict[str, list[str]] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[Registered]:
        return [resource for resource in self.resources if resource.type == type_]

    def one(self, type_: str) -> Registered:
        found = self.of_type(type_)
        assert len(found) == 1, f"expected one {type_}, found {len(found)}"
        return found[0]


def run_program(program: Callable[[], Any], stack: str = "dev") -> RecordingMocks:
    """Run `program` under fresh mocks (preview=False, so every output resolves) until all its resources exist."""
    mocks = RecordingMocks()
    asyncio.set_event_loop(asyncio.new_event_loop())
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=RecordingMonitor(mocks))
    pulumi.runtime.test(program)()  # type: ignore[no-untyped-call]
    return mocks


def deploy(project: str = PROJECT, stack: str = "dev", **config: object) -> Deployment:
    """Build the stack with these settings (the rest default) and resolve its URL.

    Each distinct (project, stack, settings) runs once per session: tests only read what it registered.
    """
    settings = parse_settings(config)
    key = (project, stack, settings)
    if key not in _DEPLOYMENTS:
        deployment = Deployment(resources=[])

        def program() -> pulumi.Output[None]:
            return build_stack(project, settings).url.apply(lambda url: setattr(deployment, "url", url))

        mocks = run_program(program, stack)
        deployment.resources, deployment.ignore_changes = mocks.resources, mocks.ignore_changes
        _DEPLOYMENTS[key] = deployment
    return _DEPLOYMENTS[key]


_DEPLOYMENTS: dict[tuple[str, str, Settings], Deployment] = {}


PROGRAM = ROOT / "__main__.py"


def run_main(config: dict[str, str], stack: str = "dev") -> tuple[list[Registered], pulumi.RunError | None]:
    """Run __main__.py as `pulumi up` would with this stack config (full keys); what it registered, how it failed."""
    failure: list[pulumi.RunError] = []

    def program() -> None:
        pulumi.runtime.set_all_config(config)
        try:
            runpy.run_path(str(PROGRAM), run_name="__main__")
        except pulumi.RunError as error:
            failure.append(error)

    return run_program(program, stack).resources, failure[0] if failure else None


@pytest.fixture(scope="module")
def default_stack() -> Deployment:
    return deploy()


def stack_config(answers: dict[str, object]) -> dict[str, str]:
    """Answers as `pulumi config set` would store them: strings under the project's namespace, the region under aws."""
    text = {key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in answers.items()}
    region = text.pop("aws_region", "us-east-1")
    return {"aws:region": region, **{f"{PROJECT}:{key}": value for key, value in text.items()}}
