"""The `environment` setting, under mocks: plain variables reach the app's container beside the stack's own."""

import json
import re
from typing import Any

import pytest

from conftest import ROOT, deploy
from infra.task import CONTAINER_NAME
from infra.validation import MAX_ENVIRONMENT_BYTES, STACK_ENVIRONMENT_NAMES, InvalidSettings, parse_settings

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


def names_the_image_and_the_app_read() -> set[str]:
    """The Dockerfile's ENV names (every stage) and every name app/*.py reads from os.environ."""
    dockerfile = (ROOT / "app" / "Dockerfile").read_text()
    names = {
        assignment.split("=")[0]
        for line in re.findall(r"^ENV\s+(.+)$", dockerfile, re.MULTILINE)
        for assignment in line.split()
    }
    for module in (ROOT / "app").glob("*.py"):
        names |= set(re.findall(r"os\.environ(?:\.get\(|\[)\"([A-Z0-9_]+)\"", module.read_text()))
    return names


def test_names_the_image_and_the_app_read_are_refused() -> None:
    """A variable such as PATH or PYTHONPATH would change how the app starts; each is refused, naming the field."""
    names = names_the_image_and_the_app_read()
    assert {"PATH", "PORT", "HOST", "PYTHONUNBUFFERED", "HEALTH_CHECK_PATH"} <= names  # the scan finds them
    for name in sorted(names | {"PYTHONHOME", "LD_LIBRARY_PATH"}):
        with pytest.raises(InvalidSettings, match=f"environment.*{name}"):
            parse_settings({"environment": {name: "x"}})


def test_the_largest_environment_allowed_keeps_the_task_definition_under_the_old_32_kib_quota() -> None:
    big = {"BIG": "x" * (MAX_ENVIRONMENT_BYTES - 3)}
    task = deploy(environment=big, enable_tracing=True, enable_exec=True, memory=1024).one(TASK)
    assert len(json.dumps(task.inputs).encode()) < 32 * 1024
