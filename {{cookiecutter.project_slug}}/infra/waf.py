"""AWS WAF in front of the load balancer: AWS's managed rule groups, a per-IP rate limit, and redacted logs."""

import pulumi
import pulumi_aws as aws

from infra.validation import WAF_REDACTED_HEADERS

# AWS managed rule groups, in evaluation order: cheap IP reputation first, then bad inputs, then the core rule set.
# About 25 + 200 + 700 WCUs with the rate rule's 2: inside the 1,500 a web ACL's base price covers.
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesCommonRuleSet",
)
RATE_RULE = "rate-limit-per-ip"
CORE_RULE_SET = "AWSManagedRulesCommonRuleSet"
# The core rule set's rule that blocks request bodies over 8 KB (behind an ALB WAF inspects only the first 8 KB).
LARGE_BODY_RULE = "SizeRestrictions_BODY"
LOG_GROUP_PREFIX = "aws-waf-logs-"  # WAF refuses a log group named otherwise


def visibility(metric_name: str) -> aws.wafv2.WebAclRuleVisibilityConfigArgsDict:
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric_name, "sampled_requests_enabled": True}


def managed_group(
    group: str, allow_large_bodies: bool
) -> aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgsDict:
    """An AWS managed group; with `allow_large_bodies` the core rule set only counts bodies over 8 KB."""
    statement: aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgsDict = {"vendor_name": "AWS", "name": group}
    if allow_large_bodies and group == CORE_RULE_SET:
        statement["rule_action_overrides"] = [{"name": LARGE_BODY_RULE, "action_to_use": {"count": {}}}]
    return statement


class WebApplicationFirewall(pulumi.ComponentResource):
    """A regional web ACL on the ALB; `count_mode` counts what the rules would block instead of blocking it."""

    def __init__(
        self,
        name: str,
        acl_name: str,
        *,
        alb: aws.lb.LoadBalancer,
        rate_limit: int,
        rate_window_seconds: int,
        count_mode: bool,
        allow_large_bodies: bool = False,
        log_retention_days: int,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("fargate:waf:WebApplicationFirewall", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # A fixed name (project and stack) so that its CloudWatch metrics, whose WebACL dimension is this name,
        # can be graphed on the dashboard before the ACL exists.
        self.metric_name = acl_name
        self.web_acl = aws.wafv2.WebAcl(
            f"{name}-waf",
            name=acl_name,
            scope="REGIONAL",
            default_action={"allow": {}},
            visibility_config=visibility(acl_name),
            # The rules are separate WebAclRule resources, as the provider advises: its inline rule blocks show
            # perpetual diffs for rate-based and managed rules (hashicorp/terraform-provider-aws#33124).
            # NEVER CHANGE THIS WEB ACL WITHOUT A REFRESH: an update of it sends the `rules` in Pulumi's state, and
            # UpdateWebACL replaces the whole list, so a state that never read the WebAclRule resources' rules
            # (empty) deletes them all in AWS. `make preview`/`make up` and the CI workflows pass --refresh, which
            # reads them into the state first (tests/test_workflows.py checks every pulumi preview/up carries it).
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["rules"]),
        )
        managed_action: aws.wafv2.WebAclRuleOverrideActionArgsDict = {"count": {}} if count_mode else {"none": {}}
        # Each WebAclRule reads the whole ACL and writes it back with its lock token: two at once fail with
        # WAFOptimisticLockException, so each waits for the one before (a chain, created and updated in turn).
        self.rules: list[aws.wafv2.WebAclRule] = []
        for priority, group in enumerate(MANAGED_RULE_GROUPS, start=1):
            self.rules.append(
                aws.wafv2.WebAclRule(
                    f"{name}-waf-{group.removeprefix('AWSManagedRules').lower()}",
                    web_acl_arn=self.web_acl.arn,
                    name=group,
                    priority=priority,
                    override_action=managed_action,
                    statement={"managed_rule_group_statement": managed_group(group, allow_large_bodies)},
                    visibility_config=visibility(group),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=self.rules[-1:]),
                )
            )
        rate_action: aws.wafv2.WebAclRuleActionArgsDict = {"count": {}} if count_mode else {"block": {}}
        self.rules.append(
            aws.wafv2.WebAclRule(
                f"{name}-waf-rate",
                web_acl_arn=self.web_acl.arn,
                name=RATE_RULE,
                # First: a flood is refused before any rule group inspects (and bills) it.
                priority=0,
                action=rate_action,
                statement={
                    "rate_based_statement": {
                        "limit": rate_limit,
                        "evaluation_window_sec": rate_window_seconds,
                        "aggregate_key_type": "IP",
                    }
                },
                visibility_config=visibility(RATE_RULE),
                opts=pulumi.ResourceOptions(parent=self, depends_on=self.rules[-1:]),
            )
        )
        self.association = aws.wafv2.WebAclAssociation(
            f"{name}-waf-alb", resource_arn=alb.arn, web_acl_arn=self.web_acl.arn, opts=child
        )
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-waf-logs",
            name_prefix=f"{LOG_GROUP_PREFIX}{name}-",
            retention_in_days=log_retention_days,
            opts=child,
        )
        self.logging = aws.wafv2.WebAclLoggingConfiguration(
            f"{name}-waf-logging",
            resource_arn=self.web_acl.arn,
            # The provider strips the API's ":*" from a log group's ARN; WAF refuses an ARN ending in it.
            log_destination_configs=[self.log_group.arn],
            redacted_fields=[{"single_header": {"name": header}} for header in WAF_REDACTED_HEADERS],
            opts=child,
        )
        self.register_outputs({"web_acl_arn": self.web_acl.arn})
