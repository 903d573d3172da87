"""Two stacks of one project never share a fixed name: a throwaway copy (`make acceptance`, a pull-request
environment) can be created and destroyed beside the live stack without touching anything the live stack owns.

Most names are Pulumi auto-names (a random suffix per stack). The rest are fixed: given by the program, the same on
every `pulumi up`, so two stacks that compute the same one would collide (or, for a Route53 record, overwrite each
other). Every name-like input of every resource is sorted into a kind below; a new one the lists do not know fails
the test until it is classified, so a fixed name added later is checked too.
"""

from typing import Any

from ephemeral import copy_overrides

from conftest import Deployment, deploy

# Inputs that name the resource itself, fixed by the program: must differ between stacks.
FIXED = {
    ("aws:cloudwatch/dashboard:Dashboard", "dashboardName"),
    ("aws:wafv2/webAcl:WebAcl", "name"),
    ("aws:route53/record:Record", "name"),
    ("aws:acm/certificate:Certificate", "domainName"),
    ("aws:ssm/parameter:Parameter", "name"),
    ("aws:ecr/pullThroughCacheRule:PullThroughCacheRule", "ecrRepositoryPrefix"),
    ("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate", "prefix"),
}
# Names unique only inside their parent, which is the stack's own (a web ACL's rules).
SCOPED = {("aws:wafv2/webAclRule:WebAclRule", "name")}
# Names AWS owns, not the stack: metrics and endpoint services.
AWS_OWNED_KEYS = {"metricName", "serviceName"}
# Prefixes: AWS or Pulumi appends a unique suffix.
PREFIX_KEYS = {"namePrefix", "bucketPrefix"}

# Everything on that adds a fixed name: a domain with HTTPS (record, validation record, certificate), WAF (web ACL,
# its log group), a non-rolling strategy, autoscaling, VPC endpoints, an alarm email.
EVERYTHING: dict[str, Any] = {
    "aws_region": "us-east-1",
    "enable_https": True,
    "domain_name": "api.example.com",
    "enable_waf": True,
    "deployment_strategy": "canary",
    "enable_autoscaling": True,
    "networking": "private-endpoints",
    "alarm_email": "ops@example.com",
    "enable_tracing": True,
    "cpu": 512,
    "memory": 1024,
}


def name_inputs(deployment: Deployment) -> set[tuple[str, str, str]]:
    """(type, key, value) of every name-like string input that is not a reference to another resource's name."""
    found = set()
    for resource in deployment.resources:
        for key, value in resource.inputs.items():
            is_name = key in {"name", "bucket", "prefix"} or key.endswith(("Name", "Prefix")) or key in PREFIX_KEYS
            if is_name and isinstance(value, str) and deployment.origin(value) is None:
                found.add((resource.type, key, value))
    return found


def fixed_names(deployment: Deployment) -> set[tuple[str, str, str]]:
    names = name_inputs(deployment)
    unknown = {
        (type_, key)
        for type_, key, _ in names
        if (type_, key) not in FIXED | SCOPED and key not in AWS_OWNED_KEYS | PREFIX_KEYS
    }
    assert not unknown, f"classify these name inputs in tests/test_fixed_names.py: {sorted(unknown)}"
    return {name for name in names if name[:2] in FIXED}


def copy_of(source: dict[str, Any], name: str) -> Deployment:
    copy = copy_overrides(source, name, "dev")
    config: dict[str, Any] = {**source, **copy.overrides}
    return deploy(stack=name, **config)


def test_an_acceptance_copy_shares_no_fixed_name_with_the_live_stack() -> None:
    """(A pull-request environment is the same copy under another name: `pr-<number>` instead.)"""
    live, copy = deploy(stack="dev", **EVERYTHING), copy_of(EVERYTHING, "acceptance-0a1b2c3d")
    live_names, copy_names = fixed_names(live), fixed_names(copy)
    # Not vacuous: every kind of fixed name is there in both.
    assert {name[:2] for name in live_names} == {name[:2] for name in copy_names} == FIXED
    assert live_names.isdisjoint(copy_names), live_names & copy_names
    assert ("aws:route53/record:Record", "name", "acceptance-0a1b2c3d.example.com") in copy_names
