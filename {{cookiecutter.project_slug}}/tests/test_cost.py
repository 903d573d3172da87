"""The cost estimate's arithmetic, against figures worked out by hand from the dated price constants."""

import pytest
from landing_zone import ANSWERS

from infra.cost import markdown, monthly_cost, total, what_changes_it
from infra.validation import parse_settings


def test_default_stack_costs_what_the_hand_computation_says() -> None:
    # 3 x (0.25 vCPU x 0.04048 + 0.5 GB x 0.004445) x 730 = 27.03; ALB (0.0225 + 0.008) x 730 = 22.265;
    # 2 NAT x 0.045 x 730 = 65.70; 4 public IPv4 (2 ALB zones, 2 NAT) x 0.005 x 730 = 14.60.
    lines = [round(line.monthly_usd, 3) for line in monthly_cost(parse_settings({}))]
    assert lines == [27.030, 22.265, 65.700, 14.600]
    assert round(total(parse_settings({})), 2) == 129.60


def test_arm_public_subnets_stack() -> None:
    settings = parse_settings(
        {"replicas": 4, "cpu": 1024, "memory": 2048, "cpu_architecture": "ARM64", "networking": "public-subnets"}
    )
    # 4 x (1 x 0.03238 + 2 x 0.00356) x 730 = 4 x 0.0395 x 730 = 115.34; no NAT;
    # 2 ALB + 4 task IPv4 addresses = 6 x 0.005 x 730 = 21.90.
    assert [round(line.monthly_usd, 4) for line in monthly_cost(settings)] == [115.34, 22.265, 0.0, 21.9]


@pytest.mark.parametrize(
    ("change", "delta"),
    # per task 0.0123425/h on X86_64, 0.009875/h on ARM64; one NAT and its IPv4 address less: (0.045 + 0.005) x 730
    [("one more replica", 9.01), ("cpu_architecture=ARM64", -5.40), ("networking=private-single-nat", -36.50)],
)
def test_changes_are_priced_with_the_same_constants(change: str, delta: float) -> None:
    assert round(dict(what_changes_it(parse_settings({})))[change], 2) == delta


def test_markdown_shows_every_line_and_the_total() -> None:
    text = markdown(parse_settings({}))
    assert "| **total** | **$129.60** |" in text
    assert "| networking=private-single-nat | -$36.50 |" in text


@pytest.mark.parametrize("strategy", ["blue-green", "canary", "linear"])
def test_release_strategies_add_a_free_line_and_nothing_to_the_total(strategy: str) -> None:
    settings = parse_settings({"deployment_strategy": strategy})
    *_, releases = monthly_cost(settings)
    assert releases.item == f"Second target group and rules for {strategy} releases"
    assert releases.monthly_usd == 0.0
    assert round(total(settings), 2) == 129.60
    assert f"| Second target group and rules for {strategy} releases | $0.00 |" in markdown(settings)


def test_private_endpoints_replace_the_nat_gateways_with_endpoint_hours() -> None:
    settings = parse_settings({"networking": "private-endpoints"})
    *_, endpoints = monthly_cost(settings)
    # No NAT; 2 public IPv4 addresses (the ALB's zones) x 0.005 x 730 = 7.30;
    # 3 interface endpoints (ecr.api, ecr.dkr, logs) x 2 zones x 0.01 x 730 = 43.80.
    assert [round(line.monthly_usd, 3) for line in monthly_cost(settings)] == [27.030, 22.265, 0.0, 7.3, 43.8]
    assert endpoints.item.startswith("VPC interface endpoints: 3 (ecr.api, ecr.dkr, logs) x 2 zones")
    assert round(total(settings), 2) == 100.40
    # Against the NAT modes: 2 NAT + 2 addresses (65.70 + 14.60) minus 43.80 of endpoints and 7.30 of addresses.
    assert round(dict(what_changes_it(parse_settings({})))["networking=private-endpoints"], 2) == -29.20
    # One NAT gateway and its address (32.85 + 3.65) cost less at rest than 3 endpoints in 2 zones: -7.30.
    assert round(dict(what_changes_it(settings))["networking=private-single-nat"], 2) == -7.30


def test_endpoint_hours_grow_with_zones_and_with_what_the_secrets_and_exec_need() -> None:
    settings = parse_settings(
        {"networking": "private-endpoints", "az_count": 3, "enable_exec": True, "secrets": {"DB": "/db/url"}}
    )
    *_, endpoints = monthly_cost(settings)
    # 5 endpoints (ecr.api, ecr.dkr, logs, ssm, ssmmessages) x 3 zones x 0.01 x 730 = 109.50
    assert round(endpoints.monthly_usd, 2) == 109.50


def test_per_gb_charges_follow_the_networking_mode() -> None:
    assert "$0.045 per GB processed by the NAT gateways" in markdown(parse_settings({}))
    endpoints = markdown(parse_settings({"networking": "private-endpoints"}))
    assert "$0.01 per GB through the interface endpoints" in endpoints
    assert "there is no internet egress" in endpoints


def test_waf_adds_its_web_acl_and_rules() -> None:
    # $5 per web ACL + 4 rules (three managed rule groups, the rate rule) x $1; requests are priced per million.
    on = monthly_cost(parse_settings({"enable_waf": True}))
    assert on[-1].monthly_usd == 9.0 and "$0.60 per million requests" in on[-1].item
    assert round(dict(what_changes_it(parse_settings({})))["enable_waf=true"], 2) == 9.0
    assert round(dict(what_changes_it(parse_settings({"enable_waf": True})))["enable_waf=false"], 2) == -9.0


def test_spot_share_saves_the_assumed_discount_on_the_tasks_above_the_base() -> None:
    settings = parse_settings({"replicas": 6, "fargate_spot_percent": 70, "fargate_on_demand_base": 2})
    *_, spot = monthly_cost(settings)
    # 4 tasks above the base x 70 % = 2.8, rounded down: 2 on Spot; per task 0.0123425/h x 730 = 9.01 a month;
    # 2 x 9.01 x 50 % = 9.01 saved.
    assert spot.item == "Fargate Spot: 2 of 6 tasks (70 % above an on-demand base of 2), assumed 50% off"
    assert round(spot.monthly_usd, 2) == -9.01
    assert round(total(settings), 2) == round(total(parse_settings({"replicas": 6})) - 9.01, 2)


def test_the_default_stack_shows_what_all_spot_above_the_base_would_save() -> None:
    # 3 replicas, base 2: one task on Spot, half of 9.01.
    assert round(dict(what_changes_it(parse_settings({})))["fargate_spot_percent=100"], 2) == -4.51


def test_an_existing_vpc_bills_no_nat_gateways_and_one_public_ip_per_alb_zone() -> None:
    settings = parse_settings(ANSWERS)
    *_, nats, public_ips = monthly_cost(settings)
    assert (nats.item, nats.monthly_usd) == ("NAT gateways: 0", 0.0)
    assert (public_ips.item, round(public_ips.monthly_usd, 2)) == ("Public IPv4 addresses: 2", 7.30)
    assert [change for change, _ in what_changes_it(settings) if change.startswith(("networking", "az_count"))] == []
    assert "billed to the VPC's owner" in markdown(settings)
    # What an existing VPC saves against the default stack: its two NAT gateways and their two public addresses.
    assert round(total(parse_settings({})) - total(settings), 2) == round(2 * 0.045 * 730 + 2 * 0.005 * 730, 2)
