"""Blue/green, canary and linear releases: the second target group, the listener rules ECS shifts, and its role.

ECS's own deployment strategies (ECS API `deploymentConfiguration.strategy`) start the new revision in the target
group that holds no tasks, send it test traffic, then move production traffic by rewriting the weights of the
production listener rule, and move it back on a rollback. The stack creates the pieces once; ECS owns the weights.
"""

import json

import pulumi
import pulumi_aws as aws

from infra.iam import guarded_role
from infra.load_balancer import target_group
from infra.timing import update_timeout_minutes
from infra.validation import RELEASE_REPLACING_SETTINGS, Settings

# The ECS API's names for the stack's strategies.
ECS_STRATEGIES = {"rolling": "ROLLING", "blue-green": "BLUE_GREEN", "canary": "CANARY", "linear": "LINEAR"}
LOAD_BALANCERS_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
ECS_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)
# The test rule is evaluated before the production rule; both come before the listener's default action.
TEST_RULE_PRIORITY, PRODUCTION_RULE_PRIORITY = 10, 20


class ReleaseTraffic(pulumi.ComponentResource):
    """The alternate target group, the production (and test) rule forwarding to both groups by weight, ECS's role."""

    def __init__(
        self,
        name: str,
        settings: Settings,
        *,
        vpc_id: pulumi.Input[str],
        listener: aws.lb.Listener,
        primary: aws.lb.TargetGroup,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("fargate:release:ReleaseTraffic", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Identical to the primary group: ECS alternates the two, each release starts in the empty one.
        self.alternate = target_group(f"{name}-tg2", settings, vpc_id, child)
        # No target-group stickiness on the rule, even with sticky sessions (which stay on inside each group): it
        # outranks the weights, so it would hold clients on one revision through a canary and, once that group's
        # tasks are gone after a release or a rollback, send them to an empty group (503) until it expires.
        forward: aws.lb.ListenerRuleActionForwardArgsDict = {
            "target_groups": [{"arn": primary.arn, "weight": 100}, {"arn": self.alternate.arn, "weight": 0}],
        }
        actions: list[aws.lb.ListenerRuleActionArgsDict] = [{"type": "forward", "forward": forward}]
        # ECS rewrites the weights on every release: without ignore_changes every `pulumi up` would move traffic back.
        owned_by_ecs = pulumi.ResourceOptions(parent=self, ignore_changes=["actions"])
        self.production_rule = aws.lb.ListenerRule(
            f"{name}-production",
            listener_arn=listener.arn,
            priority=PRODUCTION_RULE_PRIORITY,
            conditions=[{"path_pattern": {"values": ["/*"]}}],
            actions=actions,
            opts=owned_by_ecs,
        )
        self.test_rule = None
        if settings.test_header:
            header, value = settings.test_header
            self.test_rule = aws.lb.ListenerRule(
                f"{name}-test",
                listener_arn=listener.arn,
                priority=TEST_RULE_PRIORITY,
                conditions=[{"http_header": {"http_header_name": header, "values": [value]}}],
                actions=actions,
                opts=owned_by_ecs,
            )
        # The infrastructure role ECS assumes to register tasks and rewrite the rules (AWS managed policy).
        self.role = guarded_role(f"{name}-ecs-lb", ECS_TRUST, settings.role_guardrails, child)
        self.role_policy = aws.iam.RolePolicyAttachment(
            f"{name}-ecs-lb", role=self.role.name, policy_arn=LOAD_BALANCERS_POLICY_ARN, opts=child
        )
        # For scripts/release_preflight.py: which rule and first group the last deployment left ECS shifting, and the
        # settings that replace groups or rules when changed, as deployed (compared with the next config).
        self.deployed: dict[str, object] = {
            "production_rule_arn": self.production_rule.arn,
            "primary_target_group_arn": primary.arn,
            **{key: getattr(settings, key) for key in RELEASE_REPLACING_SETTINGS},
        }
        self.register_outputs({"alternate_target_group": self.alternate.arn})

    def advanced_configuration(self) -> aws.ecs.ServiceLoadBalancerAdvancedConfigurationArgsDict:
        """The service's `load_balancers[].advanced_configuration` for these pieces."""
        configuration: aws.ecs.ServiceLoadBalancerAdvancedConfigurationArgsDict = {
            "alternate_target_group_arn": self.alternate.arn,
            "production_listener_rule": self.production_rule.arn,
            "role_arn": self.role.arn,
        }
        if self.test_rule is not None:
            configuration["test_listener_rule"] = self.test_rule.arn
        return configuration


def deployment_configuration(settings: Settings) -> aws.ecs.ServiceDeploymentConfigurationArgsDict:
    """The service's `deployment_configuration`: bake times are strings and percentages floats in the provider.

    Rolling names its strategy too: the provider's block and `strategy` are Optional+Computed, so a block left out
    keeps what ECS reports, and a service switched back from BLUE_GREEN would stay BLUE_GREEN.
    """
    if settings.deployment_strategy == "rolling":
        return {"strategy": ECS_STRATEGIES["rolling"]}
    configuration: aws.ecs.ServiceDeploymentConfigurationArgsDict = {
        "strategy": ECS_STRATEGIES[settings.deployment_strategy],
        "bake_time_in_minutes": str(settings.deployment_bake_minutes),
    }
    if settings.deployment_strategy == "canary":
        configuration["canary_configuration"] = {
            "canary_percent": settings.canary_percent,
            "canary_bake_time_in_minutes": str(settings.canary_bake_minutes),
        }
    if settings.deployment_strategy == "linear":
        configuration["linear_configuration"] = {
            "step_percent": settings.linear_step_percent,
            "step_bake_time_in_minutes": str(settings.linear_step_bake_minutes),
        }
    if settings.test_window_minutes:
        # A PAUSE hook (no Lambda): the release waits once test traffic reaches the new revision, until
        # `aws ecs continue-service-deployment` says CONTINUE or ROLLBACK, or the window ends (then it continues:
        # the bakes and alarms still judge it).
        configuration["lifecycle_hooks"] = [
            {
                "target_type": "PAUSE",
                "lifecycle_stages": ["POST_TEST_TRAFFIC_SHIFT"],
                "timeout_configuration": {
                    "action": "CONTINUE",
                    "timeout_in_minutes": str(settings.test_window_minutes),
                },
            }
        ]
    return configuration


def service_timeouts(settings: Settings) -> pulumi.CustomTimeouts:
    """`pulumi up` waits for the release, bakes included (infra/timing.py)."""
    minutes = f"{update_timeout_minutes(settings)}m"
    return pulumi.CustomTimeouts(create=minutes, update=minutes)
