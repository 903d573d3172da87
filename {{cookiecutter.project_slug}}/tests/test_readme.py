"""The README: its diagram shows exactly what the program creates for its stack; its tables name every setting; it
names every AWS call the scripts around `pulumi up` make."""

import re
from collections.abc import Callable

import release_preflight
import rollout

from conftest import ROOT, Registered, deploy_stack_file
from infra.validation import DEFAULTS

Check = Callable[[list[Registered]], bool]


def has(type_: str, where: Callable[[Registered], bool] = lambda _: True) -> Check:
    return lambda resources: any(r.type == type_ and where(r) for r in resources)


# Diagram node -> the resource that must exist exactly when the node is drawn.
NODES: dict[str, Check] = {
    "alb": has("aws:lb/loadBalancer:LoadBalancer"),
    "tg": has("aws:lb/targetGroup:TargetGroup"),
    "tg2": lambda resources: sum(r.type == "aws:lb/targetGroup:TargetGroup" for r in resources) == 2,
    "service": has("aws:ecs/service:Service"),
    "nat": has("aws:ec2/natGateway:NatGateway"),
    "igw": has("aws:ec2/internetGateway:InternetGateway"),
    "vpce": has("aws:ec2/vpcEndpoint:VpcEndpoint"),
    "ecr": has("aws:ecr/repository:Repository"),
    "logs": has("aws:cloudwatch/logGroup:LogGroup"),
    "flowlogs": has("aws:ec2/flowLog:FlowLog"),
    "s3": has("aws:s3/bucket:Bucket"),
    "alarms": has("aws:cloudwatch/metricAlarm:MetricAlarm"),
    "sns": has("aws:sns/topic:Topic"),
    "dashboard": has("aws:cloudwatch/dashboard:Dashboard"),
    "waf": has("aws:wafv2/webAclAssociation:WebAclAssociation"),
    "waflogs": has("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"),
    "scaling": has("aws:appautoscaling/target:Target"),
    "dns": has("aws:route53/record:Record", lambda r: r.inputs["type"] == "A"),
    "acm": has("aws:lb/listener:Listener", lambda r: r.inputs["port"] == 443),
}


def test_diagram_nodes_are_the_resources_of_the_generated_stack() -> None:
    readme = (ROOT / "README.md").read_text()
    stack = re.search(r"<!-- diagram of stack (\S+):", readme)
    assert stack, "the README names the stack its diagram shows"
    diagram = readme.split("```mermaid", 1)[1].split("```", 1)[0]
    drawn = set(re.findall(r"\b([a-z0-9]+)[\[(]", diagram)) & set(NODES)
    resources = deploy_stack_file(ROOT / f"Pulumi.{stack[1]}.yaml").resources
    assert drawn == {node for node, exists in NODES.items() if exists(resources)}


def test_configuration_tables_name_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    keys = ["aws:region" if key == "aws_region" else key for key in DEFAULTS]
    assert [key for key in keys if f"`{key}`" not in readme] == []


def test_the_readme_and_preview_workflow_name_every_aws_call_the_scripts_make() -> None:
    """The deploy and preview roles need what the preflight and the verdict call (each script's AWS_ACTIONS)."""
    readme = " ".join((ROOT / "README.md").read_text().split())
    preview = (ROOT / ".github/workflows/preview.yml").read_text()
    for action in [*release_preflight.AWS_ACTIONS, *rollout.AWS_ACTIONS, *rollout.REDEPLOY_ACTIONS]:
        assert f"`{action}`" in readme, action
    for action in release_preflight.AWS_ACTIONS:
        assert action in preview, action
