"""When `pulumi up` forces a new ECS deployment: only in the update that changes where the tasks run or how releases
replace them.

terraform-provider-aws (which pulumi-aws bridges) sends UpdateService's `forceNewDeployment` as the service's
`force_new_deployment` on every update: left true, it makes a replica change replace every task. Its plan also
refuses a change of `capacity_provider_strategy` unless `force_new_deployment` is true, as ECS refuses the change
without a forced deployment. So the flag is true exactly in the update that changes the deployment shape (the
capacity provider strategy and the ECS deployment strategy). Pulumi keeps no earlier inputs a program can read, so
the shape last deployed is kept in an SSM parameter, written once the service has taken it, and read by every preview
and up before the service is planned: a failed update (a rollback fails `pulumi up`: the service's
wait_for_steady_state) leaves the old shape there, and the next one forces again. Where the provider's wait falls back
to counting tasks, a rolled-back update can pass and the record say "new" while the service is back on its old
revision: scripts/rollout.py, which `make up` and the deploy job run next, then fails and deletes the record.

A strategy changed outside Pulumi (or a record otherwise out of step with the service) makes the provider refuse the
plan ("force_new_deployment should be true when capacity_provider_strategy is being updated"): `make
force-deployment` deletes the record (`make up` says so when it fails), and the next `make up` forces one deployment
and writes it again.
"""

import hashlib
import json

import pulumi
import pulumi_aws as aws


def deployment_shape(capacity_provider_strategy: object, ecs_strategy: str) -> str:
    """A short digest of what ECS changes only with a forced deployment (as the service's `triggers` show it)."""
    document = json.dumps({"capacity_provider_strategy": capacity_provider_strategy, "strategy": ecs_strategy})
    return hashlib.sha256(document.encode()).hexdigest()[:16]


def shape_parameter_name(project: str, stack: str) -> str:
    """The SSM parameter of this stack's last deployed shape (one per project and stack in an account and region;
    under /pulumi/, as SSM reserves names starting with aws or ssm)."""
    return f"/pulumi/{project}/{stack}/ecs-deployment-shape"


def shape_changes(parameter_name: str, shape: str) -> pulumi.Output[bool]:
    """Whether `shape` differs from the one last deployed (true when none was recorded: a new stack, or one deployed
    before this parameter existed, where a forced deployment is what the service always did)."""
    folder, _, _ = parameter_name.rpartition("/")
    # By path: an absent parameter is an empty answer, where GetParameter would fail the preview.
    stored = aws.ssm.get_parameters_by_path_output(path=folder)
    last = stored.apply(lambda found: dict(zip(found.names, found.values, strict=True)).get(parameter_name))
    # The lookup's values come back marked secret; a digest is not one, and a secret flag would hide it in previews.
    return pulumi.Output.unsecret(last.apply(lambda value: value != shape))


def remember_shape(
    name: str, parameter_name: str, shape: str, service: aws.ecs.Service, opts: pulumi.ResourceOptions
) -> aws.ssm.Parameter:
    """Record `shape` as deployed, once the service has taken it."""
    return aws.ssm.Parameter(
        f"{name}-deployment-shape",
        name=parameter_name,
        type="String",
        # A digest, not a secret: shown in previews (`value` would be masked).
        insecure_value=shape,
        # `overwrite` left unset: the provider then creates with Overwrite=false, so PutParameter carries the tags
        # (a tag-on-create SCP sees them) and a record another stack of the same project and stack name holds is a
        # failed create, not a silent takeover; updates send Overwrite=true (its parameter.go shouldUpdateParameter).
        # An explicit False would be sent on updates too, and every update of the record would fail.
        description="The ECS service's last deployed capacity provider and deployment strategies (a digest)",
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[service])),
    )
