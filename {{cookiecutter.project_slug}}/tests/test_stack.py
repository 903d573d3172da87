"""The program with its default settings, under mocks: what `pulumi up` would create and how the pieces are wired.

These run `deploy()` (the defaults in infra/validation.py, not this project's stack file), so their values hold in
every variant; test_stack_files.py checks the stack this project was generated for."""

import json

from conftest import Deployment, deploy
from infra.load_balancer import TARGET_GROUP_PORT
from infra.network import SUBNET_BLOCKS


def test_subnets_for_the_alb_are_public_and_in_distinct_zones(default_stack: Deployment) -> None:
    subnets = default_stack.of_type("aws:ec2/subnet:Subnet")
    public = [s.inputs for s in subnets if s.inputs["tags"]["tier"] == "public"]
    assert len(public) == 2
    assert len({s["availabilityZone"] for s in public}) == 2


def test_tasks_run_in_private_subnets_one_per_zone(default_stack: Deployment) -> None:
    service = default_stack.one("aws:ecs/service:Service").inputs
    task_subnets = [default_stack.by_id(subnet_id).inputs for subnet_id in service["networkConfiguration"]["subnets"]]
    assert [s["tags"]["tier"] for s in task_subnets] == ["private", "private"]
    assert len({s["availabilityZone"] for s in task_subnets}) == 2
    assert service["networkConfiguration"]["assignPublicIp"] is False


def test_subnet_ranges_do_not_overlap(default_stack: Deployment) -> None:
    blocks = [s.inputs["cidrBlock"] for s in default_stack.of_type("aws:ec2/subnet:Subnet")]
    assert len(set(blocks)) == len(blocks)
    assert set(blocks) <= {str(block) for block in SUBNET_BLOCKS}


def test_each_zone_has_its_own_nat_gateway(default_stack: Deployment) -> None:
    nats = default_stack.of_type("aws:ec2/natGateway:NatGateway")
    assert len(nats) == 2
    private_routes = [
        r.inputs["routes"][0] for r in default_stack.of_type("aws:ec2/routeTable:RouteTable") if "private" in r.name
    ]
    assert sorted(route["natGatewayId"] for route in private_routes) == sorted(nat.id for nat in nats)


def test_service_runs_the_replicas_on_fargate_with_rollback(default_stack: Deployment) -> None:
    service = default_stack.one("aws:ecs/service:Service").inputs
    assert service["desiredCount"] == 3
    assert "launchType" not in service  # a capacity provider strategy instead: see test_spot.py
    assert service["capacityProviderStrategies"] == [{"capacityProvider": "FARGATE", "base": 2, "weight": 100}]
    assert service["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert service["deploymentMinimumHealthyPercent"] == 100
    assert service["deploymentMaximumPercent"] == 200
    assert service["availabilityZoneRebalancing"] == "ENABLED"
    assert service["healthCheckGracePeriodSeconds"] == 30


def test_service_registers_its_containers_in_the_target_group(default_stack: Deployment) -> None:
    service = default_stack.one("aws:ecs/service:Service").inputs
    target_group = default_stack.one("aws:lb/targetGroup:TargetGroup")
    [attachment] = service["loadBalancers"]
    assert attachment["targetGroupArn"] == target_group.outputs["arn"]
    assert attachment["containerName"] == "app"
    assert attachment["containerPort"] == 8000


def test_target_group_health_checks_the_app_quickly(default_stack: Deployment) -> None:
    target_group = default_stack.one("aws:lb/targetGroup:TargetGroup").inputs
    assert target_group["targetType"] == "ip"
    assert target_group["port"] == TARGET_GROUP_PORT  # not the container port: see test_release.py
    check = target_group["healthCheck"]
    assert check["path"] == "/health"
    assert check["interval"] == 10 and check["timeout"] == 5
    assert check["healthyThreshold"] == 2 and check["unhealthyThreshold"] == 2
    assert target_group["deregistrationDelay"] == 30


def test_http_listener_forwards_to_the_target_group(default_stack: Deployment) -> None:
    [listener] = default_stack.of_type("aws:lb/listener:Listener")
    assert listener.inputs["port"] == 80
    [action] = listener.inputs["defaultActions"]
    assert action["type"] == "forward"
    assert action["targetGroupArn"] == default_stack.one("aws:lb/targetGroup:TargetGroup").outputs["arn"]


def test_alb_is_public_in_every_zone(default_stack: Deployment) -> None:
    alb = default_stack.one("aws:lb/loadBalancer:LoadBalancer").inputs
    assert alb["internal"] is False
    assert alb["loadBalancerType"] == "application"
    assert len(alb["subnets"]) == 2
    assert alb["dropInvalidHeaderFields"] is True


def test_tasks_admit_only_the_alb_on_the_container_port(default_stack: Deployment) -> None:
    service = default_stack.one("aws:ecs/service:Service").inputs
    [task_group_id] = service["networkConfiguration"]["securityGroups"]
    alb_group_id = default_stack.one("aws:lb/loadBalancer:LoadBalancer").inputs["securityGroups"][0]
    ingress = [
        r.inputs
        for r in default_stack.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.inputs["securityGroupId"] == task_group_id
    ]
    assert ingress == [
        {
            "securityGroupId": task_group_id,
            "referencedSecurityGroupId": alb_group_id,
            "description": "The app's port, from the ALB only",
            "ipProtocol": "tcp",
            "fromPort": 8000,
            "toPort": 8000,
        }
    ]


def test_task_definition_runs_the_built_image(default_stack: Deployment) -> None:
    task = default_stack.one("aws:ecs/taskDefinition:TaskDefinition").inputs
    image = default_stack.one("docker-build:index:Image").inputs
    [container] = json.loads(task["containerDefinitions"])
    assert container["image"] == default_stack.one("docker-build:index:Image").outputs["ref"]
    assert image["push"] is True
    assert image["platforms"] == ["linux/amd64"]
    assert image["context"]["location"].endswith("app")
    repository_url, tag = image["tags"][0].rsplit(":", 1)
    assert repository_url == default_stack.one("aws:ecr/repository:Repository").outputs["repositoryUrl"]
    assert tag.startswith("release-linux-amd64-")
    assert image["registries"][0]["address"] == repository_url


def test_task_definition_is_a_fargate_task_of_the_chosen_size(default_stack: Deployment) -> None:
    task = default_stack.one("aws:ecs/taskDefinition:TaskDefinition").inputs
    assert task["requiresCompatibilities"] == ["FARGATE"]
    assert task["networkMode"] == "awsvpc"
    assert (task["cpu"], task["memory"]) == ("256", "512")
    assert task["runtimePlatform"] == {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"}
    assert task["executionRoleArn"] != task["taskRoleArn"]


def test_container_logs_to_the_log_group_with_retention(default_stack: Deployment) -> None:
    [container] = json.loads(default_stack.one("aws:ecs/taskDefinition:TaskDefinition").inputs["containerDefinitions"])
    [log_group] = [g for g in default_stack.of_type("aws:cloudwatch/logGroup:LogGroup") if "flow" not in g.name]
    assert log_group.inputs["retentionInDays"] == 30
    assert container["logConfiguration"]["logDriver"] == "awslogs"
    assert container["logConfiguration"]["options"]["awslogs-group"] == log_group.outputs["name"]


def test_container_gets_its_port_health_path_and_release_label_from_the_stack() -> None:
    deployment = deploy(container_port=9000, health_check_path="/ready", release_label="acceptance-2")
    [container] = json.loads(deployment.one("aws:ecs/taskDefinition:TaskDefinition").inputs["containerDefinitions"])
    environment = {entry["name"]: entry["value"] for entry in container["environment"]}
    assert container["portMappings"][0]["containerPort"] == 9000
    assert environment["PORT"] == "9000"
    assert environment["HEALTH_CHECK_PATH"] == "/ready"
    assert environment["RELEASE_LABEL"] == "acceptance-2"
    assert deployment.one("aws:lb/targetGroup:TargetGroup").inputs["healthCheck"]["path"] == "/ready"


def test_container_drains_for_the_load_balancers_detection_time_inside_its_stop_timeout() -> None:
    deployment = deploy(
        health_check_interval_seconds=5, health_check_timeout_seconds=4, unhealthy_threshold=3, stop_timeout_seconds=45
    )
    [container] = json.loads(deployment.one("aws:ecs/taskDefinition:TaskDefinition").inputs["containerDefinitions"])
    environment = {entry["name"]: entry["value"] for entry in container["environment"]}
    assert environment["SHUTDOWN_DRAIN_SECONDS"] == "20"  # (3 + 1) x 5 s
    assert environment["GRACEFUL_SHUTDOWN_SECONDS"] == "20"
    assert container["stopTimeout"] == 45


def test_url_is_the_alb_address(default_stack: Deployment) -> None:
    alb = default_stack.one("aws:lb/loadBalancer:LoadBalancer")
    assert default_stack.url == f"http://{alb.outputs['dnsName']}"


def test_alarm_email_subscribes_to_the_alarm_topic() -> None:
    deployment = deploy(alarm_email="ops@example.com")
    subscription = deployment.one("aws:sns/topicSubscription:TopicSubscription").inputs
    topic = deployment.one("aws:sns/topic:Topic")
    assert subscription["protocol"] == "email" and subscription["endpoint"] == "ops@example.com"
    assert subscription["topic"] == topic.outputs["arn"]
