"""Fargate Spot with an on-demand base, under mocks: where the tasks run, and how a change of share rolls out."""

import pytest

from conftest import deploy
from infra.validation import InvalidSettings, parse_settings

SERVICE = "aws:ecs/service:Service"


def test_without_spot_every_task_runs_on_regular_fargate() -> None:
    service = deploy().one(SERVICE).inputs
    assert service["capacityProviderStrategies"] == [{"capacityProvider": "FARGATE", "base": 2, "weight": 100}]
    assert "launchType" not in service


def test_spot_share_runs_the_tasks_above_the_on_demand_base_on_spot_by_weight() -> None:
    service = deploy(replicas=6, fargate_spot_percent=70, fargate_on_demand_base=3).one(SERVICE).inputs
    assert service["capacityProviderStrategies"] == [
        {"capacityProvider": "FARGATE", "base": 3, "weight": 30},
        {"capacityProvider": "FARGATE_SPOT", "weight": 70},
    ]
    assert "launchType" not in service
    near_all = deploy(fargate_spot_percent=99).one(SERVICE).inputs["capacityProviderStrategies"]
    assert [item["weight"] for item in near_all] == [1, 99]


def test_all_spot_above_the_base_keeps_the_base_on_regular_fargate() -> None:
    """A weight-0 provider "can't be used to place tasks" (ECS API); whether its base still is, the docs leave open,
    so FARGATE keeps weight 1 against Spot's 100."""
    strategy = deploy(fargate_spot_percent=100).one(SERVICE).inputs["capacityProviderStrategies"]
    assert strategy == [
        {"capacityProvider": "FARGATE", "base": 2, "weight": 1},
        {"capacityProvider": "FARGATE_SPOT", "weight": 100},
    ]


@pytest.mark.parametrize("spot", [0, 50])
def test_the_cluster_offers_both_providers_and_the_service_waits_for_them(spot: int) -> None:
    deployment = deploy(fargate_spot_percent=spot)
    providers = deployment.one("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
    cluster = deployment.one("aws:ecs/cluster:Cluster")
    assert providers.inputs["clusterName"] == cluster.outputs["name"]
    assert providers.inputs["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    assert providers.name in deployment.depends_on[deployment.one(SERVICE).name]


def test_spot_runs_arm64_tasks_too() -> None:
    """FARGATE_SPOT supports ARM64 on platform 1.4.0+ (the service runs LATEST)."""
    deployment = deploy(cpu_architecture="ARM64", fargate_spot_percent=50)
    assert deployment.one(SERVICE).inputs["platformVersion"] == "LATEST"
    task = deployment.one("aws:ecs/taskDefinition:TaskDefinition").inputs
    assert task["runtimePlatform"]["cpuArchitecture"] == "ARM64"


def test_the_base_is_judged_only_with_a_spot_share() -> None:
    assert parse_settings({"replicas": 2, "fargate_on_demand_base": 5}).fargate_on_demand_base == 5
    with pytest.raises(InvalidSettings, match=r"^fargate_on_demand_base=5 is above replicas=2"):
        parse_settings({"replicas": 2, "fargate_on_demand_base": 5, "fargate_spot_percent": 1})
