"""enable_waf, under mocks: a regional web ACL on this stack's ALB, its rules, count mode, and redacted logs."""

import json
from typing import Any

import pytest

from conftest import PROJECT, Deployment, deploy
from infra.waf import LOG_GROUP_PREFIX, MANAGED_RULE_GROUPS, RATE_RULE

WEB_ACL = "aws:wafv2/webAcl:WebAcl"
RULE = "aws:wafv2/webAclRule:WebAclRule"
WAF_TYPES = (WEB_ACL, RULE, "aws:wafv2/webAclAssociation:WebAclAssociation")
LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"


@pytest.fixture(scope="module")
def waf_stack() -> Deployment:
    return deploy(enable_waf=True, log_retention_days=90, waf_rate_limit=500, waf_rate_window_seconds=60)


def rules(stack: Deployment) -> dict[str, dict[str, Any]]:
    return {rule.inputs["name"]: rule.inputs for rule in stack.of_type(RULE)}


def test_no_waf_by_default(default_stack: Deployment) -> None:
    assert [r.type for r in default_stack.resources if r.type.startswith("aws:wafv2/")] == []
    body = default_stack.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"]
    assert "AWS/WAFV2" not in body


def test_a_regional_web_acl_allows_what_no_rule_stops(waf_stack: Deployment) -> None:
    acl = waf_stack.one(WEB_ACL)
    assert acl.inputs["scope"] == "REGIONAL"
    assert acl.inputs["defaultAction"] == {"allow": {}}
    assert acl.inputs["visibilityConfig"]["cloudwatchMetricsEnabled"] is True
    assert acl.inputs["name"] == acl.inputs["visibilityConfig"]["metricName"] == f"{PROJECT}-dev"
    # The rules are their own resources: the ACL must not fight them over its inline `rules`.
    assert waf_stack.ignore_changes[acl.name] == ["rules"]


def test_the_web_acl_is_associated_with_this_stacks_alb(waf_stack: Deployment) -> None:
    association = waf_stack.one("aws:wafv2/webAclAssociation:WebAclAssociation").inputs
    assert association["resourceArn"] == waf_stack.one("aws:lb/loadBalancer:LoadBalancer").outputs["arn"]
    assert association["webAclArn"] == waf_stack.one(WEB_ACL).outputs["arn"]


def test_managed_rule_groups_and_a_per_ip_rate_rule_block(waf_stack: Deployment) -> None:
    acl_arn = waf_stack.one(WEB_ACL).outputs["arn"]
    found = rules(waf_stack)
    assert set(found) == {*MANAGED_RULE_GROUPS, RATE_RULE}
    assert {rule["webAclArn"] for rule in found.values()} == {acl_arn}
    for group in MANAGED_RULE_GROUPS:
        assert found[group]["statement"] == {"managedRuleGroupStatement": {"vendorName": "AWS", "name": group}}
        assert found[group]["overrideAction"] == {"none": {}}
        assert "action" not in found[group]
    rate = found[RATE_RULE]
    assert rate["statement"] == {
        "rateBasedStatement": {"limit": 500, "evaluationWindowSec": 60, "aggregateKeyType": "IP"}
    }
    assert rate["action"] == {"block": {}}
    priorities = [rule["priority"] for rule in found.values()]
    assert len(set(priorities)) == len(priorities) and rate["priority"] == min(priorities)
    assert all(rule["visibilityConfig"]["cloudwatchMetricsEnabled"] for rule in found.values())


def test_the_rules_update_the_web_acl_one_at_a_time(waf_stack: Deployment) -> None:
    """Each WebAclRule rewrites the whole ACL under its lock token; two in parallel fail (WAFOptimisticLockException),
    so they form one chain: every rule but the first waits for exactly one other."""
    names = {rule.name for rule in waf_stack.of_type(RULE)}
    waits = {name: [other for other in waf_stack.depends_on[name] if other in names] for name in names}
    chain = [name for name, before in waits.items() if not before]
    assert len(chain) == 1
    while len(chain) < len(names):
        chain.append(next(name for name, before in waits.items() if before == [chain[-1]]))
    assert sorted(chain) == sorted(names)


def test_large_bodies_are_blocked_unless_allowed_and_then_only_that_rule_counts(waf_stack: Deployment) -> None:
    core = "AWSManagedRulesCommonRuleSet"
    assert "ruleActionOverrides" not in rules(waf_stack)[core]["statement"]["managedRuleGroupStatement"]
    found = rules(deploy(enable_waf=True, waf_allow_large_bodies=True))
    assert found[core]["statement"]["managedRuleGroupStatement"]["ruleActionOverrides"] == [
        {"name": "SizeRestrictions_BODY", "actionToUse": {"count": {}}}
    ]
    assert found[core]["overrideAction"] == {"none": {}}
    others = [group for group in MANAGED_RULE_GROUPS if group != core]
    assert all("ruleActionOverrides" not in found[g]["statement"]["managedRuleGroupStatement"] for g in others)


def test_count_mode_counts_what_every_rule_would_block() -> None:
    found = rules(deploy(enable_waf=True, waf_count_mode=True))
    assert [found[group]["overrideAction"] for group in MANAGED_RULE_GROUPS] == [{"count": {}}] * 3
    assert found[RATE_RULE]["action"] == {"count": {}}


def test_logs_go_to_a_waf_log_group_with_the_stacks_retention_and_no_credentials(waf_stack: Deployment) -> None:
    [log_group] = [g for g in waf_stack.of_type("aws:cloudwatch/logGroup:LogGroup") if "waf" in g.name]
    assert log_group.outputs["name"].startswith(LOG_GROUP_PREFIX)  # WAF refuses other names
    assert log_group.inputs["retentionInDays"] == 90
    logging = waf_stack.one(LOGGING).inputs
    assert logging["resourceArn"] == waf_stack.one(WEB_ACL).outputs["arn"]
    assert logging["logDestinationConfigs"] == [log_group.outputs["arn"]]
    assert not logging["logDestinationConfigs"][0].endswith(":*")
    redacted = sorted(field["singleHeader"]["name"] for field in logging["redactedFields"])
    assert redacted == ["authorization", "cookie"]


def test_dashboard_graphs_the_web_acls_requests(waf_stack: Deployment) -> None:
    body = json.loads(waf_stack.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    [waf] = [w for w in body["widgets"] if w["properties"].get("title") == "WAF requests"]
    acl_names = {metric[metric.index("WebACL") + 1] for metric in waf["properties"]["metrics"]}
    assert acl_names == {waf_stack.one(WEB_ACL).inputs["visibilityConfig"]["metricName"]}


def test_switching_waf_on_adds_only_waf_resources(default_stack: Deployment, waf_stack: Deployment) -> None:
    before = {(r.type, r.name) for r in default_stack.resources}
    added = {(r.type, r.name) for r in waf_stack.resources} - before
    assert {type_ for type_, _ in added} == {
        "fargate:waf:WebApplicationFirewall",
        *WAF_TYPES,
        LOGGING,
        "aws:cloudwatch/logGroup:LogGroup",
    }
    assert before <= {(r.type, r.name) for r in waf_stack.resources}
