"""The security baseline as a Pulumi CrossGuard policy pack: `pulumi preview --policy-pack policy`.

The rules are plain functions in security_rules.py, unit-tested offline; this file only hands them to the engine.
"""

import sys
from pathlib import Path

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

# The rules share the project's stdlib-only validation module (retention values, prod stacks): add the project.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from security_rules import RESOURCE_RULES, STACK_RULES, ResourceRule, StackRule


def resource_policy(rule: ResourceRule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type == rule.resource_type:
            for problem in rule.check(args.props):
                report_violation(problem, None)

    return ResourceValidationPolicy(
        name=rule.name, description=f"{rule.control}: {rule.description}", validate=validate
    )


def stack_policy(rule: StackRule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        for problem in rule.check([(resource.resource_type, resource.props) for resource in args.resources]):
            report_violation(problem, None)

    return StackValidationPolicy(name=rule.name, description=f"{rule.control}: {rule.description}", validate=validate)


PolicyPack(
    name="fargate-security-baseline",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[*map(resource_policy, RESOURCE_RULES), *map(stack_policy, STACK_RULES)],
)
