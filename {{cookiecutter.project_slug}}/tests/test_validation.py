"""Every rule of infra/validation.py at its edges, as `pulumi config set` would meet it at deploy time."""

import json

import pulumi
import pytest
from boundaries import CASES, Case

from conftest import PROJECT, RecordingMocks, stack_config
from infra.settings import load_settings
from infra.validation import FARGATE_MEMORY_BY_CPU, InvalidSettings, parse_settings


@pytest.fixture(autouse=True)
def mocked_runtime() -> None:
    pulumi.runtime.set_mocks(RecordingMocks(), project=PROJECT, stack="dev", preview=False)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_rule_edge_at_deploy(case: Case) -> None:
    pulumi.runtime.set_all_config(stack_config(case.answers))
    if case.accepted:
        load_settings()
    else:
        with pytest.raises(pulumi.RunError) as refused:
            load_settings()
        first_error = str(refused.value).splitlines()[1].strip()
        assert first_error.startswith(f"{case.field}="), first_error


def test_each_error_names_the_value_and_what_is_allowed() -> None:
    with pytest.raises(InvalidSettings) as refused:
        parse_settings({"container_port": "http", "az_count": "5", "log_retention_days": "10"})
    assert refused.value.errors == [
        "container_port=http is not a whole number: use 1..65535",
        "az_count=5 is not allowed: choose 2 or 3",
        "log_retention_days=10 is not allowed: choose 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, "
        "1096, 1827, 2192, 2557, 2922, 3288 or 3653",
    ]


def test_memory_error_offers_the_sizes_and_the_cpu_that_fits() -> None:
    with pytest.raises(InvalidSettings) as refused:
        parse_settings({"cpu": 8192, "memory": 8192})
    assert refused.value.errors == [
        "memory=8192 is not valid with cpu=8192: choose 16384..61440 in steps of 4096 (or lower cpu to 1024)"
    ]


def test_fargate_table_matches_aws() -> None:
    assert {cpu: (sizes[0], sizes[-1], len(sizes)) for cpu, sizes in FARGATE_MEMORY_BY_CPU.items()} == {
        256: (512, 2048, 3),
        512: (1024, 4096, 4),
        1024: (2048, 8192, 7),
        2048: (4096, 16384, 13),
        4096: (8192, 30720, 23),
        8192: (16384, 61440, 12),
        16384: (32768, 122880, 12),
    }


def test_strings_numbers_and_booleans_from_config_all_parse() -> None:
    settings = parse_settings({"replicas": " 4 ", "enable_https": "True", "domain_name": "API.Example.com."})
    assert (settings.replicas, settings.enable_https, settings.domain_name) == (4, True, "api.example.com")


def test_a_retired_setting_is_refused_naming_what_replaced_it() -> None:
    # alarm_5xx_per_minute counted 5xx; the alarms are rates now, and ignoring the key would drop the user's intent.
    pulumi.runtime.set_all_config(stack_config({"alarm_5xx_per_minute": 10}))
    with pytest.raises(pulumi.RunError) as refused:
        load_settings()
    [error] = str(refused.value).splitlines()[1:]
    assert error.strip().startswith("alarm_5xx_per_minute=10 is no longer used")
    assert "alarm_5xx_rate_percent" in error and "pulumi config rm alarm_5xx_per_minute" in error


def test_the_whole_config_the_cli_hands_over_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under `pulumi up` the Python language host passes every key as JSON in PULUMI_CONFIG (not set_all_config):
    a typo there is found too."""
    pulumi.runtime.set_all_config({})
    cli_config = {"aws:region": "eu-west-1", f"{PROJECT}:replica": "6", "aws:defaultTags": '{"tags": {}}'}
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(cli_config))
    with pytest.raises(pulumi.RunError) as refused:
        load_settings()
    assert str(refused.value).splitlines()[1:] == [
        "  replica=6 is not a setting of this project: did you mean replicas? (`pulumi config rm replica`)"
    ]
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"aws:region": "eu-west-1", f"{PROJECT}:replicas": "6"}))
    assert (load_settings().aws_region, load_settings().replicas) == ("eu-west-1", 6)


def test_an_environment_set_as_a_secret_is_refused_not_written_in_plain_text() -> None:
    config = stack_config({"environment": '{"DOWNSTREAM_URL": "https://x"}'})
    pulumi.runtime.set_all_config(config)
    assert load_settings().environment == (("DOWNSTREAM_URL", "https://x"),)
    pulumi.runtime.set_all_config(config, [f"{PROJECT}:environment"])  # `pulumi config set --secret --path ...`
    with pytest.raises(pulumi.RunError, match=r"environment holds a secret \(set with --secret\)"):
        load_settings()
    pulumi.runtime.set_all_config(config, [])


def test_an_existing_vpc_is_named_whole_and_leaves_networking_to_its_owner() -> None:
    vpc = {"vpc_id": "vpc-0c0ffee0000000001", "public_subnet_ids": "subnet-0c0ffee00000000a1,subnet-0c0ffee00000000b1"}
    with pytest.raises(InvalidSettings) as partial:
        parse_settings(vpc)
    assert partial.value.errors == [
        "vpc_id=vpc-0c0ffee0000000001 is set without private_subnet_ids: an existing VPC needs its vpc_id, the ALB's "
        "public_subnet_ids and the tasks' private_subnet_ids (or none of the three for a VPC of the stack's own)"
    ]
    whole = {**vpc, "private_subnet_ids": '["subnet-0c0ffee00000000a3", "subnet-0c0ffee00000000b3"]'}
    assert parse_settings(whole).private_subnet_ids == ("subnet-0c0ffee00000000a3", "subnet-0c0ffee00000000b3")
    with pytest.raises(InvalidSettings) as networking:
        parse_settings({**whole, "networking": "private-endpoints"})
    [error] = networking.value.errors
    assert error.startswith("networking=private-endpoints shapes a VPC of the stack's own, but vpc_id=vpc-0c0ffee")
