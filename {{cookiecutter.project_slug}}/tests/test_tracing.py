"""Tracing in the stack (enable_tracing): the collector sidecar, its configuration, permissions, endpoint and cost."""

import json
import re
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from security_rules import violations

from conftest import ACCOUNT, PROJECT, Deployment, deploy
from infra.cost import markdown, monthly_cost
from infra.dashboard import traces_link
from infra.tracing import (
    COLLECTOR_NAME,
    COLLECTOR_REPOSITORY,
    COLLECTOR_TAG,
    PULL_THROUGH_ACTIONS,
    XRAY_WRITE_ACTIONS,
    cached_image_lifecycle_policy,
    collector_config,
)
from infra.validation import (
    APP_MIN_MEMORY_MIB,
    COLLECTOR_CPU_UNITS,
    COLLECTOR_MEMORY_MIB,
    COLLECTOR_PORTS,
    PREFIX_MAX_LENGTH,
    PREFIX_PATTERN,
    InvalidSettings,
    parse_settings,
    pull_through_prefix,
    stack_resource_name,
)

SCHEMA = json.loads((Path(__file__).parent / "collector_schema.json").read_text())
# The settings every test of a traced stack reads (one deployment): private tasks, so the endpoint and the pull
# through cache are there too, and a sampled share that is not the default.
TRACED: dict[str, Any] = {
    "enable_tracing": True,
    "memory": 1024,
    "networking": "private-endpoints",
    "tracing_sample_percent": 0.5,
}


def test_the_collector_configuration_follows_the_collectors_documented_schema() -> None:
    config = collector_config("eu-west-1", "hello-logs")
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
    assert config["exporters"]["awsxray"] == {"region": "eu-west-1", "aws_log_groups": ["hello-logs"]}


def test_the_collector_listens_only_on_the_ports_the_rules_keep_the_app_off() -> None:
    """Its own metrics listener (127.0.0.1:8888 unless told otherwise) is off: container_port=8888 stays the app's."""
    config = collector_config("eu-west-1", "hello-logs")
    endpoints = re.findall(r'"endpoint": "([^"]+)"', json.dumps(config))
    assert sorted(int(endpoint.rpartition(":")[2]) for endpoint in endpoints) == sorted(COLLECTOR_PORTS)
    assert config["service"]["telemetry"]["metrics"] == {"level": "none"}
    assert parse_settings({"enable_tracing": True, "memory": 1024, "container_port": 8888}).container_port == 8888


@pytest.mark.parametrize(
    "broken",
    [
        {"exporters": {"awsxray": {"regoin": "eu-west-1"}}},  # a misspelt option
        {"processors": {"batch": {"timeout": 1}}},  # a duration must be a string with its unit
        {"receivers": {"otlp": {"protocols": {"http": {"endpoint": "4318"}}}}},  # host:port
        {"service": {"telemetry": {"logs": {"level": "verbose"}}}},
        {"service": {"telemetry": {"metrics": {"level": "off"}}}},
        {"exporters": {"awsxray": {"aws_log_groups": "hello-logs"}}},  # a list of names
    ],
)
def test_the_schema_refuses_what_the_collector_would(broken: dict[str, Any]) -> None:
    config = collector_config("eu-west-1", "hello-logs")
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


def test_the_apps_port_cannot_be_one_the_collector_listens_on() -> None:
    with pytest.raises(InvalidSettings) as refused:
        parse_settings({"enable_tracing": True, "memory": 1024, "container_port": 4318})
    assert refused.value.errors == [
        "container_port=4318 is taken with enable_tracing=true: the collector sidecar listens on 4318 or 13133 in "
        "the same task; choose another port"
    ]
    assert parse_settings({"enable_tracing": False, "container_port": 4318}).container_port == 4318


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
    assert {"cpu", "memoryReservation", "dependsOn"}.isdisjoint(app)
    assert "xray" not in json.dumps([r.inputs for r in deployment.of_type("aws:iam/rolePolicy:RolePolicy")])
    assert not deployment.of_type("aws:ecr/pullThroughCacheRule:PullThroughCacheRule")
    assert not deployment.of_type("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate")
    assert "xray:traces" not in deployment.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"]


@pytest.fixture(scope="module")
def traced() -> Deployment:
    return deploy(**TRACED)


def environment(container: dict[str, Any]) -> dict[str, str]:
    return {entry["name"]: entry["value"] for entry in container["environment"]}


def test_the_collector_is_a_sidecar_that_never_stops_the_task(traced: Deployment) -> None:
    found = containers(traced)
    collector, app = found[COLLECTOR_NAME], found["app"]
    assert (app["essential"], collector["essential"]) == (True, False)
    assert collector["healthCheck"]["command"] == ["CMD", "/healthcheck"]
    assert collector["restartPolicy"]["enabled"] is True
    assert 60 <= collector["restartPolicy"]["restartAttemptPeriod"] <= 1800  # the API's range
    # Its own log stream, in the task's log group, which its segments name so X-Ray shows a trace's log lines.
    app_logs, collector_logs = app["logConfiguration"]["options"], collector["logConfiguration"]["options"]
    assert collector_logs["awslogs-group"] == app_logs["awslogs-group"]
    assert collector_logs["awslogs-stream-prefix"] == COLLECTOR_NAME != app_logs["awslogs-stream-prefix"]
    config = json.loads(environment(collector)["AOT_CONFIG_CONTENT"])
    assert config["exporters"]["awsxray"]["aws_log_groups"] == [app_logs["awslogs-group"]]


def test_the_sidecar_runs_like_the_app_container_and_stops_after_it(traced: Deployment) -> None:
    """The fidelity rules the app container meets (tests/test_fargate_runtime.py runs that one in a sandbox): a
    numeric non-root user, a read-only root, unprivileged, a stop timeout Fargate honours. The collector's image
    cannot run here (no collector binary is packaged for PyPI, npm or Debian), so it is checked as a definition."""
    found = containers(traced)
    collector, app = found[COLLECTOR_NAME], found["app"]
    uid, _, gid = collector["user"].partition(":")
    assert int(uid) > 0 and int(gid) > 0
    assert collector["readonlyRootFilesystem"] is True and collector["privileged"] is False
    assert 0 < collector["stopTimeout"] <= 120
    # ECS starts the collector first and, dependencies reversed, stops the app first: its last spans are sent.
    assert app["dependsOn"] == [{"containerName": COLLECTOR_NAME, "condition": "START"}]


def test_the_collector_takes_its_share_out_of_the_task(traced: Deployment) -> None:
    task = traced.one("aws:ecs/taskDefinition:TaskDefinition").inputs
    found = containers(traced)
    collector, app = found[COLLECTOR_NAME], found["app"]
    assert (collector["cpu"], collector["memory"]) == (COLLECTOR_CPU_UNITS, COLLECTOR_MEMORY_MIB)
    assert collector["cpu"] + app["cpu"] == int(task["cpu"])
    assert collector["memory"] + app["memoryReservation"] == int(task["memory"])
    assert "memory" not in app  # a soft reservation: the app may use what the collector leaves free


def test_the_app_sends_to_the_collectors_receiver_at_the_sampled_share(traced: Deployment) -> None:
    found = containers(traced)
    app, config = environment(found["app"]), json.loads(environment(found[COLLECTOR_NAME])["AOT_CONFIG_CONTENT"])
    receiver = config["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
    assert app["OTEL_EXPORTER_OTLP_ENDPOINT"] == f"http://{receiver}"
    assert app["OTEL_SERVICE_NAME"] == stack_resource_name(PROJECT, "dev")  # each stack its own X-Ray service
    assert app["TRACING_SAMPLE_PERCENT"] == "0.5"
    assert config["exporters"]["awsxray"]["region"] == "us-east-1"


def test_the_task_role_may_put_trace_segments_and_nothing_else(traced: Deployment) -> None:
    task = traced.one("aws:ecs/taskDefinition:TaskDefinition").inputs
    origin = traced.origin(task["taskRoleArn"])
    assert origin is not None
    task_role = origin[0]
    policies = [
        json.loads(policy.inputs["policy"])
        for policy in traced.of_type("aws:iam/rolePolicy:RolePolicy")
        if policy.inputs["role"] == task_role.id
    ]
    statements = [statement for policy in policies for statement in policy["Statement"]]
    assert statements == [{"Effect": "Allow", "Action": XRAY_WRITE_ACTIONS, "Resource": "*"}]
    assert XRAY_WRITE_ACTIONS == ["xray:PutTraceSegments"]


def pulled_through(deployment: Deployment) -> str:
    """The stack's pull through cache prefix, after checking that the collector comes through it from the account's
    registry, that the execution role (which pulls images) may import into it and nothing else new, and that the
    repositories ECR creates under it get this stack's template."""
    rule = deployment.one("aws:ecr/pullThroughCacheRule:PullThroughCacheRule").inputs
    assert rule["upstreamRegistryUrl"] == "public.ecr.aws"
    prefix = str(rule["ecrRepositoryPrefix"])
    image = containers(deployment)[COLLECTOR_NAME]["image"]
    assert image == f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/{prefix}/{COLLECTOR_REPOSITORY}:{COLLECTOR_TAG}"
    task = deployment.one("aws:ecs/taskDefinition:TaskDefinition").inputs
    origin = deployment.origin(task["executionRoleArn"])
    assert origin is not None
    imports = [
        json.loads(policy.inputs["policy"])["Statement"]
        for policy in deployment.of_type("aws:iam/rolePolicy:RolePolicy")
        if policy.inputs["role"] == origin[0].id
    ]
    repositories = f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/{prefix}/*"
    assert imports == [[{"Effect": "Allow", "Action": PULL_THROUGH_ACTIONS, "Resource": repositories}]]
    template = deployment.one("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate").inputs
    assert (template["prefix"], template["appliedFors"]) == (prefix, ["PULL_THROUGH_CACHE"])
    return prefix


def test_private_tasks_reach_x_ray_through_an_endpoint_and_pull_the_collector_through_the_cache(
    traced: Deployment,
) -> None:
    services = [endpoint.inputs["serviceName"] for endpoint in traced.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")]
    assert "com.amazonaws.us-east-1.xray" in services
    assert pulled_through(traced) == stack_resource_name(PROJECT, "dev")


def test_with_a_nat_the_collector_is_pulled_through_the_cache_too_and_no_endpoint_is_added() -> None:
    """One image path in every networking mode: tasks never pull from ECR Public themselves."""
    deployment = deploy(enable_tracing=True, memory=1024)
    assert pulled_through(deployment)
    assert not deployment.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")


def test_a_second_stack_has_its_own_cache_rule_x_ray_service_and_traces_link(traced: Deployment) -> None:
    """A registry holds one pull through cache rule per prefix, and destroying a stack deletes its rule: two stacks of
    one project in one account and region (README, "A second stack") must not share one, nor one X-Ray service."""
    prod = deploy(stack="prod", **TRACED)
    assert pulled_through(prod) != pulled_through(traced)
    names = [environment(containers(stack)["app"])["OTEL_SERVICE_NAME"] for stack in (traced, prod)]
    assert names == [stack_resource_name(PROJECT, "dev"), stack_resource_name(PROJECT, "prod")]
    assert f'service("{names[1]}")' in traces_markdown(prod)


@pytest.mark.parametrize(
    "stack_name",
    ["hello-dev", "Hello-Dev", "hello-dev.eu_1", "a-very-long-project-name-that-fills-the-slug-production-eu"],
)
def test_the_cache_prefix_is_one_ecr_accepts_and_each_stack_name_its_own(stack_name: str) -> None:
    prefix = pull_through_prefix(stack_name)
    assert 2 <= len(prefix) <= PREFIX_MAX_LENGTH and PREFIX_PATTERN.fullmatch(prefix), prefix
    others = {pull_through_prefix(stack_name + suffix) for suffix in ("", "-2", "x", "-eu", "-us")}
    assert len(others) == 5


def test_the_cached_repository_is_immutable_and_expires_old_releases(traced: Deployment) -> None:
    """ECR.2 and ECR.3 for the repository ECR creates: the first image cached for a tag stays the one tasks run."""
    template = traced.one("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate").inputs
    assert template["imageTagMutability"] == "IMMUTABLE"
    policy = json.loads(template["lifecyclePolicy"])
    assert policy == cached_image_lifecycle_policy()
    # Release tags only, the collector's among them; untagged per-platform manifests are left alone.
    [rule] = policy["rules"]
    assert rule["selection"]["tagStatus"] == "tagged"
    assert [fnmatch(COLLECTOR_TAG, pattern) for pattern in rule["selection"]["tagPatternList"]] == [True]
    assert "resourceTags" not in template and "customRoleArn" not in template


def test_the_policy_pack_passes_with_tracing_on(traced: Deployment) -> None:
    assert violations([(r.type, r.inputs) for r in traced.resources]) == {}


def traces_markdown(deployment: Deployment) -> str:
    body = json.loads(deployment.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    [text] = [widget for widget in body["widgets"] if widget["type"] == "text"]
    return str(text["properties"]["markdown"])


def test_the_dashboard_of_a_traced_stack_links_to_its_traces(traced: Deployment) -> None:
    app = environment(containers(traced)["app"])
    assert f'service("{app["OTEL_SERVICE_NAME"]}")' in traces_markdown(traced)
