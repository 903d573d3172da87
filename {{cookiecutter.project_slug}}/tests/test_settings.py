"""Deploy-time validation: a bad `pulumi config set` stops the program before it creates anything."""

import pulumi
import pytest

from conftest import PROJECT, Registered, run_main


def run_main_with_config(
    config: dict[str, str], region: str = "us-east-1"
) -> tuple[list[Registered], Exception | None]:
    return run_main({"aws:region": region, **{f"{PROJECT}:{key}": value for key, value in config.items()}})


def test_stack_config_is_what_the_program_builds() -> None:
    resources, failure = run_main_with_config({"replicas": "4", "cpu": "512", "memory": "2048"})
    assert failure is None
    [service] = [r for r in resources if r.type == "aws:ecs/service:Service"]
    [task] = [r for r in resources if r.type == "aws:ecs/taskDefinition:TaskDefinition"]
    assert service.inputs["desiredCount"] == 4
    assert (task.inputs["cpu"], task.inputs["memory"]) == ("512", "2048")


def test_one_replica_is_refused_before_any_resource() -> None:
    resources, failure = run_main_with_config({"replicas": "1"})
    assert resources == []
    assert "replicas=1 is out of range (one replica is not highly available" in str(failure)


def test_every_error_is_reported_at_once() -> None:
    resources, failure = run_main_with_config({"replicas": "0", "memory": "4096", "networking": "x"})
    assert resources == []
    lines = str(failure).splitlines()
    assert lines[0].startswith("invalid stack config")
    assert [line.strip().split("=")[0] for line in lines[1:]] == ["replicas", "networking", "memory"]
    assert "  memory=4096 is not valid with cpu=256: choose 512, 1024 or 2048 (or raise cpu to 512)" in lines


def test_unknown_region_is_refused_with_near_matches() -> None:
    resources, failure = run_main_with_config({}, region="us-est-1")
    assert resources == []
    assert "aws_region=us-est-1 is not a known AWS region code: did you mean" in str(failure)


def test_program_exports_where_to_find_the_service(monkeypatch: pytest.MonkeyPatch) -> None:
    exported: dict[str, object] = {}
    monkeypatch.setattr(pulumi, "export", exported.__setitem__)
    _, failure = run_main_with_config({})
    assert failure is None
    assert sorted(exported) == [
        "alarm_names",
        "alb_dns_name",
        "cluster_name",
        "dashboard_url",
        "image_ref",
        "log_group_name",
        "release_traffic",
        "repository_url",
        "service_name",
        "task_definition_arn",
        "url",
    ]


def test_a_typo_in_a_setting_is_refused_with_the_nearest_setting() -> None:
    """`pulumi config set replica 6` (for replicas) would otherwise change nothing, silently."""
    resources, failure = run_main_with_config({"replica": "6", "cpu": "512", "memory": "1024"})
    assert resources == []
    assert str(failure).splitlines()[1:] == [
        "  replica=6 is not a setting of this project: did you mean replicas? (`pulumi config rm replica`)"
    ]


def test_the_region_under_the_projects_namespace_is_refused_for_aws_region() -> None:
    """The program reads the region from aws:region only: a `pulumi config set aws_region ...` would be ignored."""
    resources, failure = run_main_with_config({"aws_region": "eu-west-1"})
    assert resources == []
    expected = "aws_region=eu-west-1 is not read: the region is aws:region (`pulumi config set aws:region eu-west-1`"
    assert expected in str(failure)


def test_keys_of_other_namespaces_are_left_to_their_owners() -> None:
    config = {f"{PROJECT}:replicas": "4", "aws:skipMetadataApiCheck": "false", "pulumi:template": "fargate"}
    resources, failure = run_main({"aws:region": "eu-west-1", **config})
    assert failure is None
    [service] = [r for r in resources if r.type == "aws:ecs/service:Service"]
    assert service.inputs["desiredCount"] == 4
