"""Each option, switched by stack config alone, shows in the registered resources as documented."""

from typing import Any

import pytest

from conftest import Deployment, deploy
from infra.load_balancer import TLS_POLICY
from infra.validation import AUTONAME_SUFFIX_LENGTH, AWS_LB_NAME_LIMIT, MAX_SLUG_LENGTH

CERTIFICATE_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0b5e3c9a-1111-2222-3333-444455556666"
HTTPS: dict[str, Any] = {"enable_https": True, "domain_name": "api.example.com"}
GET_ZONE = "aws:route53/getZone:getZone"


def listeners(deployment: Deployment) -> dict[int, dict[str, Any]]:
    return {listener.inputs["port"]: listener.inputs for listener in deployment.of_type("aws:lb/listener:Listener")}


# HTTPS


@pytest.mark.parametrize("certificate", ["", CERTIFICATE_ARN])
def test_https_serves_443_with_a_tls13_policy_and_redirects_80(certificate: str) -> None:
    by_port = listeners(deploy(**HTTPS, certificate_arn=certificate))
    assert sorted(by_port) == [80, 443]
    assert by_port[443]["protocol"] == "HTTPS"
    assert by_port[443]["sslPolicy"] == TLS_POLICY
    assert by_port[443]["defaultActions"][0]["type"] == "forward"
    [redirect] = by_port[80]["defaultActions"]
    assert redirect == {
        "type": "redirect",
        "redirect": {"port": "443", "protocol": "HTTPS", "statusCode": "HTTP_301"},
    }


def test_https_issues_a_certificate_validated_through_route53() -> None:
    deployment = deploy(**HTTPS)
    certificate = deployment.one("aws:acm/certificate:Certificate")
    validation = deployment.one("aws:acm/certificateValidation:CertificateValidation")
    [record] = [r for r in deployment.of_type("aws:route53/record:Record") if r.inputs["type"] == "CNAME"]
    [option] = certificate.outputs["domainValidationOptions"]
    [zone] = deployment.lookups(GET_ZONE)
    assert certificate.inputs == {"domainName": "api.example.com", "validationMethod": "DNS"}
    assert record.inputs["zoneId"] == zone.answer["zoneId"]
    assert record.inputs["name"] == option["resourceRecordName"]
    assert record.inputs["records"] == [option["resourceRecordValue"]]
    assert record.inputs["type"] == option["resourceRecordType"]
    assert record.inputs["ttl"] == 60 and record.inputs["allowOverwrite"] is True
    assert validation.inputs["certificateArn"] == certificate.outputs["arn"]
    # ACM's record names end in a dot; the validation waits on the record's fqdn as Route53 reports it
    assert validation.inputs["validationRecordFqdns"] == [record.outputs["fqdn"]]
    # the listener uses the certificate only once it is validated: the validation's output, not the certificate's
    assert listeners(deployment)[443]["certificateArn"] == validation.outputs["certificateArn"]
    assert deployment.origin(listeners(deployment)[443]["certificateArn"]) == (validation, "certificateArn")


def test_a_given_certificate_is_used_and_none_is_issued() -> None:
    deployment = deploy(**HTTPS, certificate_arn=CERTIFICATE_ARN)
    assert deployment.of_type("aws:acm/certificate:Certificate") == []
    assert listeners(deployment)[443]["certificateArn"] == CERTIFICATE_ARN


def test_https_url_is_the_domain() -> None:
    assert deploy(**HTTPS).url == "https://api.example.com"


# Custom domain


@pytest.mark.parametrize("https", [False, True])
def test_domain_gets_an_alias_to_the_alb_with_target_health(https: bool) -> None:
    deployment = deploy(domain_name="api.example.com", enable_https=https)
    alb = deployment.one("aws:lb/loadBalancer:LoadBalancer")
    [alias] = [r.inputs for r in deployment.of_type("aws:route53/record:Record") if r.inputs["type"] == "A"]
    [zone] = deployment.lookups(GET_ZONE)
    assert zone.args == {
        "name": "example.com",
        "privateZone": False,
    }  # the zone holding the domain, by default its parent
    assert alias["name"] == "api.example.com"
    assert alias["zoneId"] == zone.answer["zoneId"]
    assert alias["aliases"] == [
        {"name": alb.outputs["dnsName"], "zoneId": alb.outputs["zoneId"], "evaluateTargetHealth": True}
    ]
    assert deployment.url == f"{'https' if https else 'http'}://api.example.com"


def test_domain_without_https_keeps_plain_http_forwarding() -> None:
    by_port = listeners(deploy(domain_name="api.example.com"))
    assert list(by_port) == [80]
    assert by_port[80]["defaultActions"][0]["type"] == "forward"


# Autoscaling


def scaling(deployment: Deployment) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    target = deployment.one("aws:appautoscaling/target:Target").inputs
    policies = {
        p.inputs["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"][
            "predefinedMetricType"
        ]: p.inputs
        for p in deployment.of_type("aws:appautoscaling/policy:Policy")
    }
    return target, policies


def test_autoscaling_tracks_cpu_between_min_and_max() -> None:
    deployment = deploy(enable_autoscaling=True, autoscaling_min=3, autoscaling_max=12, autoscaling_cpu_target=55)
    target, policies = scaling(deployment)
    service = deployment.one("aws:ecs/service:Service")
    cluster = deployment.one("aws:ecs/cluster:Cluster")
    assert target["minCapacity"] == 3 and target["maxCapacity"] == 12
    assert target["scalableDimension"] == "ecs:service:DesiredCount"
    assert target["resourceId"] == f"service/{cluster.outputs['name']}/{service.outputs['name']}"
    assert list(policies) == ["ECSServiceAverageCPUUtilization"]
    configuration = policies["ECSServiceAverageCPUUtilization"]["targetTrackingScalingPolicyConfiguration"]
    assert configuration["targetValue"] == 55


def test_request_policy_is_labelled_with_the_alb_and_target_group() -> None:
    deployment = deploy(enable_autoscaling=True, autoscaling_requests_per_target=500)
    _, policies = scaling(deployment)
    alb = deployment.one("aws:lb/loadBalancer:LoadBalancer")
    target_group = deployment.one("aws:lb/targetGroup:TargetGroup")
    configuration = policies["ALBRequestCountPerTarget"]["targetTrackingScalingPolicyConfiguration"]
    assert configuration["targetValue"] == 500
    label = configuration["predefinedMetricSpecification"]["resourceLabel"]
    assert label == f"{alb.outputs['arnSuffix']}/{target_group.outputs['arnSuffix']}"


def test_without_autoscaling_there_is_no_scaler() -> None:
    deployment = deploy()
    assert deployment.of_type("aws:appautoscaling/target:Target") == []
    assert deployment.of_type("aws:appautoscaling/policy:Policy") == []


@pytest.mark.parametrize("autoscaling", [False, True])
def test_service_leaves_its_count_to_the_scaler_only_with_autoscaling(autoscaling: bool) -> None:
    deployment = deploy(enable_autoscaling=autoscaling)
    service = deployment.one("aws:ecs/service:Service")
    assert deployment.ignore_changes[service.name] == (["desiredCount"] if autoscaling else [])


# Sticky sessions


@pytest.mark.parametrize("sticky", [False, True])
def test_stickiness_is_a_load_balancer_cookie_switched_in_place(sticky: bool) -> None:
    target_group = deploy(enable_sticky_sessions=sticky, sticky_duration_seconds=3600).one(
        "aws:lb/targetGroup:TargetGroup"
    )
    assert target_group.inputs["stickiness"] == {"type": "lb_cookie", "enabled": sticky, "cookieDuration": 3600}


# CPU architecture


@pytest.mark.parametrize(("architecture", "platform"), [("X86_64", "linux/amd64"), ("ARM64", "linux/arm64")])
def test_task_platform_and_image_platform_match(architecture: str, platform: str) -> None:
    deployment = deploy(cpu_architecture=architecture, cpu=4096, memory=30720)
    task = deployment.one("aws:ecs/taskDefinition:TaskDefinition").inputs
    image = deployment.one("docker-build:index:Image").inputs
    assert task["runtimePlatform"] == {"cpuArchitecture": architecture, "operatingSystemFamily": "LINUX"}
    assert (task["cpu"], task["memory"]) == ("4096", "30720")
    assert image["platforms"] == [platform]
    assert image["tags"][0].rsplit(":", 1)[1].startswith("release-" + platform.replace("/", "-"))


# Networking


@pytest.mark.parametrize(
    ("networking", "az_count", "nat_gateways", "private_subnets", "public_ip"),
    [
        ("private-nat-per-az", 2, 2, 2, False),
        ("private-nat-per-az", 3, 3, 3, False),
        ("private-single-nat", 3, 1, 3, False),
        ("public-subnets", 3, 0, 0, True),
    ],
)
def test_networking_mode_sets_subnets_nat_and_public_ips(
    networking: str, az_count: int, nat_gateways: int, private_subnets: int, public_ip: bool
) -> None:
    deployment = deploy(networking=networking, az_count=az_count)
    subnets = {s.name: s.inputs for s in deployment.of_type("aws:ec2/subnet:Subnet")}
    service = deployment.one("aws:ecs/service:Service").inputs["networkConfiguration"]
    task_tiers = {deployment.by_id(subnet_id).inputs["tags"]["tier"] for subnet_id in service["subnets"]}
    assert len(deployment.of_type("aws:ec2/natGateway:NatGateway")) == nat_gateways
    assert sum(s["tags"]["tier"] == "private" for s in subnets.values()) == private_subnets
    assert task_tiers == {"public" if public_ip else "private"}
    assert len(service["subnets"]) == az_count
    assert service["assignPublicIp"] is public_ip


def test_single_nat_serves_every_private_route_table() -> None:
    deployment = deploy(networking="private-single-nat", az_count=3)
    [nat] = deployment.of_type("aws:ec2/natGateway:NatGateway")
    routes = [r.inputs["routes"][0] for r in deployment.of_type("aws:ec2/routeTable:RouteTable") if "private" in r.name]
    assert [route["natGatewayId"] for route in routes] == [nat.id] * 3


def test_public_subnets_mode_still_admits_only_the_alb() -> None:
    deployment = deploy(networking="public-subnets")
    [task_group] = deployment.one("aws:ecs/service:Service").inputs["networkConfiguration"]["securityGroups"]
    rules = [
        r.inputs
        for r in deployment.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.inputs["securityGroupId"] == task_group
    ]
    assert [rule.get("cidrIpv4") for rule in rules] == [None]
    assert (
        rules[0]["referencedSecurityGroupId"]
        == deployment.one("aws:lb/loadBalancer:LoadBalancer").inputs["securityGroups"][0]
    )


# Names


def test_names_fit_aws_limits_for_the_longest_project_name() -> None:
    deployment = deploy(project="p" + "-abcdefgh" * 5)
    assert len("p" + "-abcdefgh" * 5) > MAX_SLUG_LENGTH  # longer than any slug the template allows
    for type_ in ("aws:lb/loadBalancer:LoadBalancer", "aws:lb/targetGroup:TargetGroup"):
        resource = deployment.one(type_)
        assert "name" not in resource.inputs and "namePrefix" not in resource.inputs  # auto-named: no clash on replace
        assert len(resource.name) + AUTONAME_SUFFIX_LENGTH <= AWS_LB_NAME_LIMIT
