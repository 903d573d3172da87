"""Tracing in the stack (enable_tracing): the collector sidecar, its configuration, permissions, endpoint and cost."""

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conftest import Deployment, deploy
from infra.cost import markdown, monthly_cost
from infra.dashboard import traces_link
from infra.tracing import COLLECTOR_NAME, XRAY_WRITE_ACTIONS, collector_config
from infra.validation import (
    APP_MIN_MEMORY_MIB,
    COLLECTOR_CPU_UNITS,
    COLLECTOR_MEMORY_MIB,
    InvalidSettings,
    parse_settings,
)

SCHEMA = json.loads((Path(__file__).parent / "collector_schema.json").read_text())
# The settings every test of a traced stack reads (one deployment): private tasks, so the endpoint and the pull
# through cache are there too, and a sampled share that is not the default.
TRACED = {"enable_tracing": True, "memory": 1024, "networking": "private-endpoints", "tracing_sample_percent": 0.5}


def test_the_collector_configuration_follows_the_collectors_documented_schema() -> None:
    config = collector_config("eu-west-1")
    jsonschema.validate(config, SCHEMA)
    # What the collector checks beyond each component's options: a pipeline names only declared components, and
    # every declared component is used (an unused one is an error for extensions, dead weight for the rest).
    service = config["service"]
    [pipeline] = service["pipelines"].values()
    for kind in ("receivers", "processors", "exporters"):
        assert set(pipeline[kind]) == set(config[kind]), kind
    assert set(service["extensions"]) == set(config["extensions"])
    limiter = config["processors"]["memory_limiter"]
    assert limiter["spike_limit_mib"] < limiter["limit_mib"] < COLLECTOR_MEMORY_MIB
    # Only containers of the task reach the receiver: the task's loopback, not every interface.
    assert config["receivers"]["otlp"]["protocols"]["http"]["endpoint"].startswith("127.0.0.1:")
    assert config["exporters"]["awsxray"]["region"] == "eu-west-1"


@pytest.mark.parametrize(
    "broken",
    [
        {"exporters": {"awsxray": {"regoin": "eu-west-1"}}},  # a misspelt option
        {"processors": {"batch": {"timeout": 1}}},  # a duration must be a string with its unit
        {"receivers": {"otlp": {"protocols": {"http": {"endpoint": "4318"}}}}},  # host:port
        {"service": {"telemetry": {"logs": {"level": "verbose"}}}},
    ],
)
def test_the_schema_refuses_what_the_collector_would(broken: dict[str, Any]) -> None:
    config = collector_config("eu-west-1")
    for section, value in broken.items():
        config[section] = {**config[section], **value}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(config, SCHEMA)


def test_a_task_too_small_for_the_collector_and_the_app_is_refused() -> None:
    with pytest.raises(InvalidSettings) as refused:
        parse_settings({"enable_tracing": True, "cpu": 256, "memory": 512})
    assert refused.value.errors == [
        f"memory=512 is too small with enable_tracing=true: the collector sidecar takes {COLLECTOR_MEMORY_MIB} MiB "
        f"and the app needs at least {APP_MIN_MEMORY_MIB}: raise memory to 1024, or turn tracing off"
    ]
    assert parse_settings({"enable_tracing": False, "cpu": 256, "memory": 512}).memory == 512
    assert parse_settings({"enable_tracing": True, "cpu": 256, "memory": 1024}).enable_tracing


def test_the_estimate_prices_x_ray_per_request_at_the_sampled_share() -> None:
    settings = parse_settings(TRACED)
    [line] = [line for line in monthly_cost(settings) if "X-Ray" in line.item]
    # 2,628,000 requests a month at one request a second, 0.5 % sampled: 13,140 traces at $5 per million.
    assert "0.5 % of requests traced" in line.item
    assert "$0.07 a month per request/s" in line.item
    # At the defaults, turning tracing on also raises each task's memory to 1024 MiB for the collector.
    assert "| enable_tracing=true | +$4.87 |" in markdown(parse_settings({}))


def test_the_dashboard_links_to_the_services_traces() -> None:
    markdown_text = traces_link("eu-west-1", "hello")["properties"]["markdown"]
    assert "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#xray:traces/query" in (
        markdown_text
    )
    assert 'service("hello")' in markdown_text


def containers(deployment: Deployment) -> dict[str, dict[str, Any]]:
    task = deployment.one("aws:ecs/taskDefinition:TaskDefinition").inputs
    return {container["name"]: container for container in json.loads(task["containerDefinitions"])}


def test_with_tracing_off_there_is_no_sidecar_no_exporter_and_no_x_ray() -> None:
    deployment = deploy()
    [app] = containers(deployment).values()
    assert not [entry for entry in app["environment"] if entry["name"].startswith(("OTEL_", "TRACING_"))]
    assert "cpu" not in app and "memory" not in app and "dependsOn" not in app
    assert "xray" not in json.dumps([r.inputs for r in deployment.of_type("aws:iam/rolePolicy:RolePolicy")])
    assert not deployment.of_type("aws:ecr/pullThroughCacheRule:PullThroughCacheRule")
    dashboard = deployment.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"]
    assert "xray:traces" not in dashboard
    assert COLLECTOR_CPU_UNITS  # (the constant the traced tests below read)
    assert XRAY_WRITE_ACTIONS
    assert COLLECTOR_NAME not in containers(deployment)
