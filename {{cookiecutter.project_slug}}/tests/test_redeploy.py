"""When `pulumi up` forces a new ECS deployment, under mocks: only in the update that changes the capacity provider
strategy or the deployment strategy, never for a replica change (infra/forced_deployment.py).

The provider sends UpdateService's forceNewDeployment as the service's force_new_deployment on every update, and its
plan refuses a strategy change unless that is true (terraform-provider-aws internal/service/ecs/service.go): so a
service input of false is an update without a forced deployment, and true one with.
"""

from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from moto import mock_aws

from conftest import PROJECT, RecordingMocks, deploy, run_program
from infra.stack import build_stack
from infra.validation import parse_settings

SERVICE = "aws:ecs/service:Service"
PARAMETER = "aws:ssm/parameter:Parameter"
SPOT = {"fargate_spot_percent": 50}


def updated(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The service's inputs when a stack deployed with `before` is updated to `after` (SSM holds `before`'s record)."""
    [recorded] = deploy(**before).of_type(PARAMETER)
    stored = ((recorded.inputs["name"], recorded.inputs["insecureValue"]),)
    return dict(deploy(ssm_parameters=stored, **after).one(SERVICE).inputs)


def test_a_replica_change_does_not_force_a_deployment() -> None:
    service = updated({"replicas": 3}, {"replicas": 6})
    assert (service["desiredCount"], service["forceNewDeployment"]) == (6, False)


def test_an_update_that_keeps_the_strategies_forces_nothing() -> None:
    assert updated(SPOT, {**SPOT, "health_check_grace_period_seconds": 60})["forceNewDeployment"] is False


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ({}, SPOT),  # a Spot share: the capacity provider strategy changes
        (SPOT, {**SPOT, "fargate_on_demand_base": 3}),  # within replicas=3
        ({}, {"deployment_strategy": "canary"}),  # a switch of strategy, and back
        ({"deployment_strategy": "canary"}, {}),
    ],
    ids=["spot-on", "on-demand-base", "to-canary", "back-to-rolling"],
)
def test_a_change_of_strategy_forces_one_deployment(before: dict[str, Any], after: dict[str, Any]) -> None:
    service = updated(before, after)
    assert service["forceNewDeployment"] is True
    assert service["triggers"] != deploy(**before).one(SERVICE).inputs["triggers"]


def test_without_a_record_the_update_forces_as_the_service_always_did() -> None:
    """A new stack (where the flag does nothing), or one deployed before the record existed."""
    assert deploy().one(SERVICE).inputs["forceNewDeployment"] is True


def test_the_shape_is_recorded_once_the_service_has_taken_it() -> None:
    deployment = deploy()
    recorded = deployment.one(PARAMETER)
    assert deployment.one(SERVICE).name in deployment.depends_on[recorded.name]
    assert recorded.inputs["name"] == f"/pulumi/{PROJECT}/dev/ecs-deployment-shape"
    assert recorded.inputs["insecureValue"] == deployment.one(SERVICE).inputs["triggers"]["deployment_shape"]
    # Unset, so the provider creates with Overwrite=false (tags on PutParameter; another stack's record is a failed
    # create) and updates with Overwrite=true: an explicit False would make every later update of the record fail.
    assert "overwrite" not in recorded.inputs
    assert recorded.inputs["type"] == "String"
    [lookup] = deployment.lookups("aws:ssm/getParametersByPath:getParametersByPath")
    assert lookup.args["path"] == f"/pulumi/{PROJECT}/dev"


def test_ssm_answers_an_absent_path_with_nothing_and_then_the_recorded_value() -> None:
    """The AWS behaviour the record relies on (moto): no parameter is an empty answer, not an error."""
    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-east-1")
        folder = f"/pulumi/{PROJECT}/dev"
        assert ssm.get_parameters_by_path(Path=folder)["Parameters"] == []
        ssm.put_parameter(Name=f"{folder}/ecs-deployment-shape", Value="0123456789abcdef", Type="String")
        [found] = ssm.get_parameters_by_path(Path=folder)["Parameters"]
        assert (found["Name"], found["Value"]) == (f"{folder}/ecs-deployment-shape", "0123456789abcdef")


class ServiceUpdateFails(RecordingMocks):
    """The provider's answer when ECS rolls the update back: its wait for a steady state fails on ROLLBACK_*."""

    def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
        if args.typ == SERVICE:
            raise RuntimeError("ECS Service deployment rolled back (ROLLBACK_SUCCESSFUL)")
        return super().new_resource(args)


def test_a_failed_service_update_leaves_the_record_unwritten() -> None:
    """The record waits for the service: after a rollback it still holds the old shape, and the next up forces again."""
    mocks = ServiceUpdateFails()
    with pytest.raises(Exception, match="rolled back"):
        run_program(lambda: build_stack(PROJECT, parse_settings(SPOT)), mocks=mocks)
    registered = {resource.type for resource in mocks.resources}
    assert "aws:ecs/taskDefinition:TaskDefinition" in registered  # the program did run up to the service
    assert PARAMETER not in registered
