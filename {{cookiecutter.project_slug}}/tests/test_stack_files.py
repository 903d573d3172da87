"""Every Pulumi.<stack>.yaml of this project, run through the program under mocks: the config drives the stack."""

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from security_rules import violations

from conftest import PROJECT, ROOT, Registered, run_main

STACK_FILES = sorted(ROOT.glob("Pulumi.*.yaml"))


def only(resources: list[Registered], type_: str) -> list[dict[str, Any]]:
    return [resource.inputs for resource in resources if resource.type == type_]


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=[path.name for path in STACK_FILES])
def test_stack_file_builds_the_stack_it_describes(stack_file: Path) -> None:
    config = {
        key: str(value).lower() if isinstance(value, bool) else str(value)
        for key, value in yaml.safe_load(stack_file.read_text())["config"].items()
    }
    settings = {key.split(":", 1)[1]: value for key, value in config.items() if not key.startswith("aws:")}
    assert all(key.startswith((f"{PROJECT}:", "aws:")) for key in config), "keys outside the project's namespace"
    resources, failure = run_main(config)
    assert failure is None, failure
    assert violations([(r.type, r.inputs) for r in resources]) == {}, "the policy pack would refuse this stack"

    [service] = only(resources, "aws:ecs/service:Service")
    [task] = only(resources, "aws:ecs/taskDefinition:TaskDefinition")
    target_groups = only(resources, "aws:lb/targetGroup:TargetGroup")
    [container] = json.loads(task["containerDefinitions"])
    assert service["desiredCount"] == int(settings["replicas"])
    assert (task["cpu"], task["memory"]) == (settings["cpu"], settings["memory"])
    assert task["runtimePlatform"]["cpuArchitecture"] == settings["cpu_architecture"]
    assert container["logConfiguration"]["options"]["awslogs-region"] == config["aws:region"]
    assert len(target_groups) == (1 if settings["deployment_strategy"] == "rolling" else 2)
    strategy = service.get("deploymentConfiguration", {}).get("strategy", "ROLLING")
    assert strategy == settings["deployment_strategy"].upper().replace("-", "_")
    for target_group in target_groups:
        assert target_group["port"] == int(settings["container_port"])
        assert target_group["healthCheck"]["path"] == settings["health_check_path"]
        assert target_group["stickiness"]["enabled"] is (settings["enable_sticky_sessions"] == "true")
    https_listeners = [listener for listener in only(resources, "aws:lb/listener:Listener") if listener["port"] == 443]
    assert len(https_listeners) == (settings["enable_https"] == "true")
    assert len(only(resources, "aws:appautoscaling/target:Target")) == (settings["enable_autoscaling"] == "true")
    assert len(only(resources, "aws:ec2/subnet:Subnet")) == int(settings["az_count"]) * (
        1 if settings["networking"] == "public-subnets" else 2
    )
