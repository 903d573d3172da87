"""The `environment` setting, under mocks: plain variables reach the app's container beside the stack's own."""

import json
from typing import Any

from conftest import deploy
from infra.task import CONTAINER_NAME
from infra.validation import STACK_ENVIRONMENT_NAMES

TASK = "aws:ecs/taskDefinition:TaskDefinition"


def container_environment(**config: Any) -> dict[str, str]:
    containers = json.loads(deploy(**config).one(TASK).inputs["containerDefinitions"])
    [container] = [c for c in containers if c["name"] == CONTAINER_NAME]  # with enable_tracing, beside the collector
    return {variable["name"]: variable["value"] for variable in container["environment"]}


def test_environment_reaches_the_container_beside_the_stacks_own_variables() -> None:
    plain = container_environment()
    configured = container_environment(environment={"FEATURE_NEW_CHECKOUT": "on", "DOWNSTREAM_URL": "https://x"})
    assert configured == {**plain, "FEATURE_NEW_CHECKOUT": "on", "DOWNSTREAM_URL": "https://x"}


def test_validation_reserves_every_name_the_stack_sets() -> None:
    """`environment` and `secrets` are refused these names; a variable the stack adds must be added there too."""
    assert set(container_environment(enable_exec=True)) <= set(STACK_ENVIRONMENT_NAMES)
    assert set(container_environment(enable_tracing=True, memory=1024)) <= set(STACK_ENVIRONMENT_NAMES)
