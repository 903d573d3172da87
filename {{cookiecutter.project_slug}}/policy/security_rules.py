"""The AWS Security Hub (FSBP) controls this stack meets, as plain functions over resource inputs.

Each check takes a resource's inputs (or the whole stack's) as Pulumi's policy engine and its unit-test mocks
present them (camelCase names) and returns the violations it finds. `__main__.py` turns them into a CrossGuard
policy pack; the project's tests run them offline against what the mocks capture.
"""

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infra.validation import LOG_RETENTION_DAYS, WAF_REDACTED_HEADERS, is_production, looks_like_a_credential

Props = Mapping[str, Any]
Resource = tuple[str, Props]

RECOMMENDED_TLS_POLICIES = ("ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-2-2021-06")
WORLD = ("0.0.0.0/0", "::/0")


@dataclass(frozen=True)
class ResourceRule:
    name: str
    control: str
    description: str
    resource_type: str
    check: Callable[[Props], list[str]]


@dataclass(frozen=True)
class StackRule:
    name: str
    control: str
    description: str
    check: Callable[[Sequence[Resource]], list[str]]


def containers(props: Props) -> list[dict[str, Any]]:
    """The container definitions, or none while they are unknown (a preview before the image is built)."""
    definitions = props.get("containerDefinitions")
    return list(json.loads(definitions)) if isinstance(definitions, str) else []


def each_container(problem: Callable[[dict[str, Any]], str | None]) -> Callable[[Props], list[str]]:
    def check(props: Props) -> list[str]:
        return [f"container {c.get('name')}: {found}" for c in containers(props) if (found := problem(c))]

    return check


def wildcard_actions(document: object) -> list[str]:
    if not isinstance(document, str):
        return []
    statements = json.loads(document).get("Statement", [])
    actions: list[str] = []
    for statement in statements if isinstance(statements, list) else [statements]:
        listed = statement.get("Action", [])
        actions.extend([listed] if isinstance(listed, str) else listed)
    return [action for action in actions if action == "*" or action.endswith(":*")]


def of_type(resources: Sequence[Resource], type_: str) -> list[Props]:
    return [props for resource_type, props in resources if resource_type == type_]


def http_redirects_when_https(resources: Sequence[Resource]) -> list[str]:
    listeners = of_type(resources, "aws:lb/listener:Listener")
    if not any(listener.get("protocol") == "HTTPS" for listener in listeners):
        return []
    return [
        f"HTTP listener on port {listener.get('port')} serves plain HTTP while HTTPS is on: redirect it"
        for listener in listeners
        if listener.get("protocol") == "HTTP"
        and not all(
            action.get("type") == "redirect" and action.get("redirect", {}).get("protocol") == "HTTPS"
            for action in listener.get("defaultActions", [])
        )
    ]


def every_repository_has_a_lifecycle_policy(resources: Sequence[Resource]) -> list[str]:
    repositories = len(of_type(resources, "aws:ecr/repository:Repository"))
    policies = len(of_type(resources, "aws:ecr/lifecyclePolicy:LifecyclePolicy"))
    return [f"{repositories} ECR repositories but {policies} lifecycle policies"] if policies < repositories else []


def every_bucket_is_encrypted(resources: Sequence[Resource]) -> list[str]:
    buckets = len(of_type(resources, "aws:s3/bucket:Bucket"))
    encrypted = len(
        of_type(resources, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    )
    return [f"{buckets} buckets but {encrypted} encryption configurations"] if encrypted < buckets else []


PRIVATE_TASK_ENDPOINTS = {("ecr.api", "Interface"), ("ecr.dkr", "Interface"), ("logs", "Interface"), ("s3", "Gateway")}


def private_tasks_use_endpoints(resources: Sequence[Resource]) -> list[str]:
    """A service declaring networking=private-endpoints has no NAT gateway, and its VPC has the endpoints Fargate
    needs to pull images and write logs privately, interface endpoints with private DNS."""
    services = of_type(resources, "aws:ecs/service:Service")
    if not any(props.get("tags", {}).get("networking") == "private-endpoints" for props in services):
        return []
    problems = [
        f"NAT gateway {index}: private-endpoints has none"
        for index, _ in enumerate(of_type(resources, "aws:ec2/natGateway:NatGateway"))
    ]
    endpoints = of_type(resources, "aws:ec2/vpcEndpoint:VpcEndpoint")
    # "com.amazonaws.<region>.ecr.api" -> "ecr.api"
    present = {(str(e.get("serviceName", "")).split(".", 3)[-1], e.get("vpcEndpointType")) for e in endpoints}
    problems += [f"no {kind} endpoint for {service}" for service, kind in sorted(PRIVATE_TASK_ENDPOINTS - present)]
    problems += [
        f"interface endpoint {e.get('serviceName')} without private DNS"
        for e in endpoints
        if e.get("vpcEndpointType") == "Interface" and e.get("privateDnsEnabled") is not True
    ]
    return problems


def every_web_acl_logs(resources: Sequence[Resource]) -> list[str]:
    acls = len(of_type(resources, "aws:wafv2/webAcl:WebAcl"))
    logging = len(of_type(resources, "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"))
    return [f"{acls} web ACLs but {logging} logging configurations"] if logging < acls else []


def every_web_acl_has_rules(resources: Sequence[Resource]) -> list[str]:
    acls = of_type(resources, "aws:wafv2/webAcl:WebAcl")
    rules = of_type(resources, "aws:wafv2/webAclRule:WebAclRule")
    return [] if not acls or rules or all(acl.get("rules") for acl in acls) else ["a web ACL without rules"]


def metrics_enabled(props: Props) -> list[str]:
    enabled = props.get("visibilityConfig", {}).get("cloudwatchMetricsEnabled") is True
    return [] if enabled else [f"{props.get('name', 'web ACL')} sends no CloudWatch metrics"]


def redacts_credentials(props: Props) -> list[str]:
    redacted = {str(f.get("singleHeader", {}).get("name", "")).lower() for f in props.get("redactedFields", [])}
    return [f"the {header} header is logged" for header in WAF_REDACTED_HEADERS if header not in redacted]


def spot_keeps_an_on_demand_base(props: Props) -> list[str]:
    """With any weight on Fargate Spot, at least two tasks stay on regular Fargate (Spot never falls back to it)."""
    strategy = props.get("capacityProviderStrategies") or []
    if not any(item.get("capacityProvider") == "FARGATE_SPOT" and item.get("weight") for item in strategy):
        return []
    base = max((item.get("base") or 0 for item in strategy if item.get("capacityProvider") == "FARGATE"), default=0)
    return [] if base >= 2 else [f"Fargate Spot with an on-demand base of {base}: a reclaim can take every task"]


def every_vpc_has_flow_logs(resources: Sequence[Resource]) -> list[str]:
    """EC2.6: a flow log per VPC, unless the VPC declares the exception with the tag flow-logs=off. A stack in a VPC
    it does not create (vpc_id) cannot give that VPC flow logs: each of its security groups declares the exception
    with flow-logs=vpc-owner (the VPC's owner keeps its flow logs)."""
    all_vpcs = of_type(resources, "aws:ec2/vpc:Vpc")
    vpcs = [p for p in all_vpcs if p.get("tags", {}).get("flow-logs") != "off"]
    flow_logs = of_type(resources, "aws:ec2/flowLog:FlowLog")
    problems = (
        [f"{len(vpcs)} VPCs need flow logs but {len(flow_logs)} flow logs exist"] if len(flow_logs) < len(vpcs) else []
    )
    if not all_vpcs:
        groups = of_type(resources, "aws:ec2/securityGroup:SecurityGroup")
        problems += [
            f"security group in {group.get('vpcId')}, a VPC the stack does not create, without flow-logs=vpc-owner"
            for group in groups
            if group.get("tags", {}).get("flow-logs") != "vpc-owner"
        ]
    return problems


def default_security_groups_closed(resources: Sequence[Resource]) -> list[str]:
    """EC2.2: each VPC the stack creates has its default security group adopted with no rules (a VPC the stack only
    looks up is no resource here, and its default group is its owner's)."""
    vpcs = of_type(resources, "aws:ec2/vpc:Vpc")
    groups = of_type(resources, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    problems = [
        f"default security group of {group.get('vpcId')} allows traffic: it must have no rules"
        for group in groups
        if group.get("ingress") or group.get("egress")
    ]
    if len(groups) < len(vpcs):
        plural = "" if len(vpcs) == 1 else "s"
        problems.append(f"{len(vpcs)} VPC{plural} but {len(groups)} closed default security groups")
    return problems


def https_port_only_with_https_listener(resources: Sequence[Resource]) -> list[str]:
    """Port 443 open to the internet only when a listener serves HTTPS on it."""
    if any(listener.get("protocol") == "HTTPS" for listener in of_type(resources, "aws:lb/listener:Listener")):
        return []
    rules = of_type(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    open_443 = [
        r for r in rules if r.get("fromPort") == 443 and (r.get("cidrIpv4") in WORLD or r.get("cidrIpv6") in WORLD)
    ]
    return ["port 443 is open to the internet but no listener serves HTTPS"] if open_443 else []


def ipv6_rules_only_on_dualstack(resources: Sequence[Resource]) -> list[str]:
    """No IPv6 rule on a stack whose load balancers are IPv4-only: it would open nothing and mislead a reviewer."""
    balancers = of_type(resources, "aws:lb/loadBalancer:LoadBalancer")
    if any(str(lb.get("ipAddressType", "ipv4")).startswith("dualstack") for lb in balancers):
        return []
    rules = [
        *of_type(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"),
        *of_type(resources, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"),
    ]
    return [f"IPv6 rule for {r.get('cidrIpv6')} on an IPv4-only stack" for r in rules if r.get("cidrIpv6")]


def every_role_has_the_boundary(resources: Sequence[Resource]) -> list[str]:
    """With a permissions boundary configured (`permissions_boundary_arn`, set on the stack's roles), every role
    carries that one: a role added without it would fail `iam:CreateRole` under an SCP requiring the boundary, or
    escape it where none does."""
    roles = of_type(resources, "aws:iam/role:Role")
    # One path for every role (`iam_role_path`): an SCP or a boundary's own conditions often match roles by path.
    paths = sorted({str(role.get("path") or "/") for role in roles})
    if len(paths) > 1:
        return [f"roles sit on different paths: {', '.join(paths)} (the stack puts every role on iam_role_path)"]
    boundaries = sorted({str(role["permissionsBoundary"]) for role in roles if role.get("permissionsBoundary")})
    if not boundaries:
        return []
    if len(boundaries) > 1:
        return [f"roles carry different permissions boundaries: {', '.join(boundaries)}"]
    return [
        f"{role.get('name') or 'a role'} has no permissions boundary (the stack's roles use {boundaries[0]})"
        for role in roles
        if not role.get("permissionsBoundary")
    ]


def described(props: Props) -> list[str]:
    return [] if str(props.get("description") or "").strip() else ["security group rule without a description"]


def separate_roles(props: Props) -> list[str]:
    execution, task = props.get("executionRoleArn"), props.get("taskRoleArn")
    if not execution or not task:
        return ["task definition needs both an execution role and a task role"]
    return ["execution and task roles are the same role"] if execution == task else []


RESOURCE_RULES = [
    ResourceRule(
        "ecs-no-privileged-containers",
        "ECS.4",
        "containers do not run privileged",
        "aws:ecs/taskDefinition:TaskDefinition",
        each_container(lambda c: "runs privileged" if c.get("privileged") else None),
    ),
    ResourceRule(
        "ecs-read-only-root-filesystem",
        "ECS.5",
        "containers have a read-only root filesystem unless enable_exec is declared (ECS exec needs a writable one)",
        "aws:ecs/taskDefinition:TaskDefinition",
        lambda p: (
            []
            if p.get("tags", {}).get("enable_exec") == "true"
            else each_container(
                lambda c: None if c.get("readonlyRootFilesystem") is True else "root filesystem is writable"
            )(p)
        ),
    ),
    ResourceRule(
        "ecs-non-root-user",
        "ECS.20",
        "containers run as a non-root user",
        "aws:ecs/taskDefinition:TaskDefinition",
        each_container(
            lambda c: "runs as root" if str(c.get("user", "root")).split(":")[0] in ("root", "0", "") else None
        ),
    ),
    ResourceRule(
        "ecs-logging-configured",
        "ECS.9",
        "containers send their logs somewhere",
        "aws:ecs/taskDefinition:TaskDefinition",
        each_container(lambda c: None if c.get("logConfiguration", {}).get("logDriver") else "has no log driver"),
    ),
    ResourceRule(
        "ecs-no-credentials-in-environment",
        "ECS.8",
        "credentials come from secrets, not environment values",
        "aws:ecs/taskDefinition:TaskDefinition",
        each_container(
            lambda c: (
                ", ".join(
                    f"environment variable {e['name']} looks like a credential: use secrets"
                    for e in c.get("environment", [])
                    if looks_like_a_credential(str(e.get("name", "")), str(e.get("value", "")))
                )
                or None
            )
        ),
    ),
    ResourceRule(
        "ecs-separate-execution-and-task-roles",
        "IAM",
        "ECS's own permissions and the app's are separate roles",
        "aws:ecs/taskDefinition:TaskDefinition",
        separate_roles,
    ),
    ResourceRule(
        "ecs-no-public-ip",
        "ECS.2",
        "tasks get no public IP unless networking=public-subnets is declared",
        "aws:ecs/service:Service",
        lambda p: (
            ["tasks get public IPs without the networking=public-subnets tag"]
            if p.get("networkConfiguration", {}).get("assignPublicIp")
            and p.get("tags", {}).get("networking") != "public-subnets"
            else []
        ),
    ),
    ResourceRule(
        "ecs-spot-keeps-an-on-demand-base",
        "Availability",
        "a service using Fargate Spot keeps at least two tasks on regular Fargate",
        "aws:ecs/service:Service",
        spot_keeps_an_on_demand_base,
    ),
    ResourceRule(
        "ecs-container-insights",
        "ECS.12",
        "the cluster has Container Insights on",
        "aws:ecs/cluster:Cluster",
        lambda p: (
            []
            if any(
                s.get("name") == "containerInsights" and s.get("value") in ("enabled", "enhanced")
                for s in p.get("settings", [])
            )
            else ["Container Insights is off"]
        ),
    ),
    ResourceRule(
        "alb-drop-invalid-headers",
        "ELB.4",
        "the ALB drops invalid HTTP header fields",
        "aws:lb/loadBalancer:LoadBalancer",
        lambda p: [] if p.get("dropInvalidHeaderFields") is True else ["invalid header fields are passed on"],
    ),
    ResourceRule(
        "alb-access-logs",
        "ELB.5",
        "the ALB writes access logs",
        "aws:lb/loadBalancer:LoadBalancer",
        lambda p: (
            [] if p.get("accessLogs", {}).get("enabled") and p["accessLogs"].get("bucket") else ["no access logs"]
        ),
    ),
    ResourceRule(
        "alb-deletion-protection",
        "ELB.6",
        "production ALBs (stack prod*) have deletion protection",
        "aws:lb/loadBalancer:LoadBalancer",
        lambda p: (
            ["production ALB without deletion protection"]
            if is_production(str(p.get("tags", {}).get("stack", ""))) and p.get("enableDeletionProtection") is not True
            else []
        ),
    ),
    ResourceRule(
        "alb-multi-az",
        "ELB.13",
        "the ALB spans at least two Availability Zones",
        "aws:lb/loadBalancer:LoadBalancer",
        lambda p: [] if len(p.get("subnets", [])) >= 2 else ["ALB in fewer than two subnets"],
    ),
    ResourceRule(
        "https-listener-tls-policy",
        "ELB.17",
        "HTTPS listeners use a recommended TLS 1.3 policy",
        "aws:lb/listener:Listener",
        lambda p: (
            [f"TLS policy {p.get('sslPolicy')} is not a recommended one"]
            if p.get("protocol") == "HTTPS" and p.get("sslPolicy") not in RECOMMENDED_TLS_POLICIES
            else []
        ),
    ),
    ResourceRule(
        "ecr-scan-on-push",
        "ECR.1",
        "images are scanned on push",
        "aws:ecr/repository:Repository",
        lambda p: [] if p.get("imageScanningConfiguration", {}).get("scanOnPush") is True else ["no scan on push"],
    ),
    ResourceRule(
        "ecr-immutable-tags",
        "ECR.2",
        # AWS Config's rule text says only "tag immutability enabled"; whether it counts IMMUTABLE_WITH_EXCLUSION is
        # unverified (docs/security.md has the fallback to IMMUTABLE).
        "image tags cannot be overwritten (IMMUTABLE, or IMMUTABLE_WITH_EXCLUSION: ECR.2 unverified for it)",
        "aws:ecr/repository:Repository",
        lambda p: (
            [] if p.get("imageTagMutability") in ("IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION") else ["tags are mutable"]
        ),
    ),
    ResourceRule(
        "iam-no-wildcard-actions",
        "IAM",
        "IAM policies name their actions",
        "aws:iam/rolePolicy:RolePolicy",
        lambda p: [f"wildcard action {action}" for action in wildcard_actions(p.get("policy"))],
    ),
    ResourceRule(  # the bootstrap program's managed policies (issue 22)
        "iam-no-wildcard-actions-managed",
        "IAM",
        "IAM managed policies name their actions",
        "aws:iam/policy:Policy",
        lambda p: [f"wildcard action {action}" for action in wildcard_actions(p.get("policy"))],
    ),
    ResourceRule(
        "log-retention",
        "CloudWatch.16",
        "log groups keep logs for a set number of days",
        "aws:cloudwatch/logGroup:LogGroup",
        lambda p: [] if p.get("retentionInDays") in LOG_RETENTION_DAYS else ["logs are kept forever"],
    ),
    ResourceRule(
        "internet-only-on-web-ports",
        "EC2.18",
        "only ports 80 and 443 are open to the internet",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        lambda p: (
            [f"port {p.get('fromPort')} open to the internet"]
            if (p.get("cidrIpv4") in WORLD or p.get("cidrIpv6") in WORLD) and p.get("fromPort") not in (80, 443)
            else []
        ),
    ),
    ResourceRule(
        "sg-ingress-rule-described",
        "EC2",
        "every security group ingress rule says what it is for",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        described,
    ),
    ResourceRule(
        "sg-egress-rule-described",
        "EC2",
        "every security group egress rule says what it is for",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        described,
    ),
    ResourceRule(
        "s3-block-public-access",
        "S3.8",
        "buckets block every kind of public access",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        lambda p: [
            f"{key} is off"
            for key in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
            if p.get(key) is not True
        ],
    ),
    ResourceRule(
        "waf-rule-metrics",
        "WAF.12",
        "WAF rules send CloudWatch metrics",
        "aws:wafv2/webAclRule:WebAclRule",
        metrics_enabled,
    ),
    ResourceRule(
        "waf-acl-metrics",
        "WAF.12",
        "web ACLs send CloudWatch metrics",
        "aws:wafv2/webAcl:WebAcl",
        metrics_enabled,
    ),
    ResourceRule(
        "waf-logs-redact-credentials",
        "WAF logging",
        "WAF logs leave out the Authorization and Cookie headers",
        "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
        redacts_credentials,
    ),
]

STACK_RULES = [
    StackRule("alb-http-redirects-to-https", "ELB.1", "with HTTPS on, HTTP only redirects", http_redirects_when_https),
    StackRule(
        "ecr-lifecycle-policy",
        "ECR.3",
        "every repository has a lifecycle policy",
        every_repository_has_a_lifecycle_policy,
    ),
    StackRule("s3-encryption", "S3", "every bucket is encrypted", every_bucket_is_encrypted),
    StackRule(
        "private-tasks-use-vpc-endpoints",
        "PrivateLink",
        "with networking=private-endpoints: no NAT gateway; ECR, Logs (private DNS) and S3 endpoints",
        private_tasks_use_endpoints,
    ),
    StackRule("waf-logging", "WAF.11", "every web ACL logs its traffic", every_web_acl_logs),
    StackRule("waf-has-rules", "WAF.10", "every web ACL has at least one rule", every_web_acl_has_rules),
    StackRule(
        "vpc-flow-logs",
        "EC2.6",
        "every VPC has flow logs (or declares flow-logs=off; in an existing VPC, flow-logs=vpc-owner)",
        every_vpc_has_flow_logs,
    ),
    StackRule(
        "vpc-default-security-group-closed",
        "EC2.2",
        "the default security group of every VPC the stack creates has no rules",
        default_security_groups_closed,
    ),
    StackRule(
        "alb-https-port-only-with-https-listener",
        "EC2",
        "port 443 is open only when a listener serves HTTPS",
        https_port_only_with_https_listener,
    ),
    StackRule(
        "no-ipv6-rules-on-ipv4-stack", "EC2", "IPv6 rules only with a dualstack ALB", ipv6_rules_only_on_dualstack
    ),
    StackRule(
        "iam-permissions-boundary",
        "IAM",
        "every role on one path and, with a permissions boundary configured, every role carries it",
        every_role_has_the_boundary,
    ),
]


def violations(resources: Sequence[Resource]) -> dict[str, list[str]]:
    """Every rule's violations over a stack's resources; rules with none are left out."""
    found: dict[str, list[str]] = {}
    for rule in RESOURCE_RULES:
        for resource_type, props in resources:
            if resource_type == rule.resource_type and (problems := rule.check(props)):
                found.setdefault(rule.name, []).extend(problems)
    for stack_rule in STACK_RULES:
        if problems := stack_rule.check(resources):
            found[stack_rule.name] = problems
    return found
