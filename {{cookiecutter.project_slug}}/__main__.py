"""The Pulumi program: read the stack's settings, build the service, export where to find it."""

import pulumi

from infra.settings import load_settings
from infra.stack import build_stack

stack = build_stack(pulumi.get_project(), load_settings())

pulumi.export("url", stack.url)
pulumi.export("alb_dns_name", stack.load_balancer.alb.dns_name)
pulumi.export("cluster_name", stack.service.cluster.name)
pulumi.export("service_name", stack.service.service.name)
pulumi.export("task_definition_arn", stack.service.task_definition.arn)
pulumi.export("repository_url", stack.image.repository.repository_url)
pulumi.export("image_ref", stack.image.ref)
pulumi.export("log_group_name", stack.service.log_group.name)
pulumi.export("dashboard_url", stack.dashboard.url)
# Read by `make acceptance`, which expects every alarm in state OK on a healthy stack.
pulumi.export("alarm_names", [alarm.name for alarm in [*stack.alarms.rollback_alarms, *stack.alarms.notify_alarms]])
# Empty for rolling; read by scripts/release_preflight.py before the next `up`.
pulumi.export("release_traffic", stack.release.deployed if stack.release else {})
